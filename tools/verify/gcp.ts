/**
 * `gcp`: Google Cloud workload identity federation, live and read-only, against the plan.
 * - IAM v1 (discovery document iam:v1): GET the pool (`state` ACTIVE, not DELETED — a
 *   soft-deleted pool keeps its ID ~30 days and exchanges nothing — and not `disabled`), GET
 *   each planned provider: `state`, `disabled`, `attributeMapping`, `attributeCondition`, and
 *   for OIDC `oidc.issuerUri` and `oidc.allowedAudiences` exactly as the component sets them.
 *   Credentials: `GOOGLE_OAUTH_ACCESS_TOKEN` (e.g. `gcloud auth print-access-token`), else
 *   google-auth-library with the key file `GOOGLE_APPLICATION_CREDENTIALS` names (no metadata
 *   server probe: it would leave the hardened client); `GOOGLE_IAM_URL` moves IAM (tests).
 * - With `--svid-dir`: the STS exchange the workload does, by google-auth-library's
 *   IdentityPoolClient on the deployed OIDC credential configuration with `gcp-jwt-svid.token`
 *   (`GOOGLE_STS_TOKEN_URL` moves the STS), `invalid_grant` mapped to the cause.
 * - With `--svid-dir` and an X.509 provider: the mTLS exchange with `svid.pem` (gcp-x509.ts).
 * - Each workload's IAM bindings on its projects (gcp-iam.ts: Cloud Resource Manager v3
 *   `getIamPolicy`, a POST that only reads).
 */
import {
  oidcProviderAttributes,
  x509ProviderAttributes,
} from "../../components/federation/gcp/component";
import type { GcpPoolSettings } from "../../components/federation/gcp/rules";
import { GCP_JWT_SVID_FILE } from "../../components/federation/paths";
import * as path from "node:path";
import { deployedIssuer } from "./discovery";
import { exchangeSubject, mismatchResult } from "./fields";
import { iamBindingResults } from "./gcp-iam";
import { getJson, isRecord, shown } from "./http";
import { x509Exchange } from "./gcp-x509";
import {
  bearerToken,
  hardenedFetch,
  optionalSdk,
  transportFailure,
  type TransportLog,
} from "./sdk-transport";
import type { Check, CheckResult, VerifyContext } from "./types";

type GoogleAuthLib = typeof import("google-auth-library");
const SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";
const base = { check: "gcp", party: "gcp" } as const;

/** A bearer for IAM, or the SKIP that says how to give one. */
function iamToken(ctx: VerifyContext): Promise<string | CheckResult> {
  const fix =
    "export GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token) (roles/iam.workloadIdentityPoolViewer, and resourcemanager.projects.getIamPolicy on the granting projects), or GOOGLE_APPLICATION_CREDENTIALS";
  return bearerToken(ctx, "gcp", "GOOGLE_OAUTH_ACCESS_TOKEN", fix, async (skip) => {
    const keyFile = ctx.env.GOOGLE_APPLICATION_CREDENTIALS;
    if (!keyFile) return skip("no GOOGLE_OAUTH_ACCESS_TOKEN nor GOOGLE_APPLICATION_CREDENTIALS");
    const lib = await optionalSdk<GoogleAuthLib>("google-auth-library");
    if (lib === undefined) return skip("google-auth-library is not installed");
    try {
      const auth = new lib.GoogleAuth({
        keyFile,
        scopes: [SCOPE],
        clientOptions: { transporterOptions: { fetchImplementation: hardenedFetch(ctx) } },
      });
      const token = (await (await auth.getClient()).getAccessToken()).token;
      return token ? token : skip("the credentials gave no access token");
    } catch (e) {
      return skip(
        `GOOGLE_APPLICATION_CREDENTIALS gave no token (${(e as Error).message.slice(0, 200)})`,
      );
    }
  });
}

/** The pool and its providers against the plan. */
async function poolResults(
  ctx: VerifyContext,
  block: GcpPoolSettings,
  token: string,
): Promise<CheckResult[]> {
  const iam = (ctx.env.GOOGLE_IAM_URL ?? "https://iam.googleapis.com").replace(/\/$/, "");
  const headers = { authorization: `Bearer ${token}` };
  const poolName = `projects/${block.project}/locations/global/workloadIdentityPools/${block.poolId}`;
  const results: CheckResult[] = [];
  const read = async (name: string, what: string) => {
    ctx.progress(`gcp: GET ${iam}/v1/${name}`);
    const res = await getJson(ctx, `${iam}/v1/${name}`, what, { headers });
    if (res.ok && isRecord(res.json)) return res.json;
    results.push({
      ...base,
      name: what,
      status: "FAIL",
      reason: res.ok ? "the answer is not an object" : res.why,
      fix: /HTTP 404/.test(res.ok ? "" : res.why)
        ? `${what} is missing: ${FIX_DRIFT}`
        : "check gcp.project and that the token may read workload identity pools",
    });
    return undefined;
  };
  const lifecycle = (what: string, r: Record<string, unknown>) => {
    const deleted = r.state === "DELETED";
    results.push({
      ...base,
      name: `${what}.state`,
      status: r.state === "ACTIVE" ? "PASS" : "FAIL",
      reason: deleted
        ? `${what} is soft-deleted (state DELETED): it exchanges no token, and its ID stays reserved about 30 days`
        : `${what}.state is ${shown(r.state)}`,
      ...(r.state === "ACTIVE"
        ? {}
        : {
            fix: deleted
              ? `undelete it (gcloud iam workload-identity-pools ${what.startsWith("pool") ? "" : "providers "}undelete), or give the stack a new ID and pulumi up`
              : "wait for it to become ACTIVE, or pulumi up",
          }),
    });
    results.push(
      mismatchResult(
        "gcp",
        `${what}.disabled`,
        false,
        r.disabled ?? false,
        `enable it: ${FIX_DRIFT}`,
      ),
    );
  };
  const pool = await read(poolName, "pool");
  if (pool) lifecycle("pool", pool);
  const td = ctx.model.trustDomain;
  const providers = [
    ...(block.oidc
      ? [{ id: block.oidcProviderId, attrs: oidcProviderAttributes(td), oidc: true }]
      : []),
    ...(block.x509
      ? [{ id: block.x509ProviderId, attrs: x509ProviderAttributes(td), oidc: false }]
      : []),
  ];
  for (const p of providers) {
    const what = `provider ${p.id}`;
    const r = await read(`${poolName}/providers/${p.id}`, what);
    if (!r) continue;
    lifecycle(what, r);
    const field = (name: string, expected: unknown, actual: unknown) =>
      results.push(mismatchResult("gcp", `${what}.${name}`, expected, actual, FIX_DRIFT));
    field("attributeMapping", p.attrs.attributeMapping, r.attributeMapping);
    field("attributeCondition", p.attrs.attributeCondition, r.attributeCondition);
    if (p.oidc) {
      const oidc = isRecord(r.oidc) ? r.oidc : {};
      field("oidc.issuerUri", deployedIssuer(ctx), oidc.issuerUri);
      field(
        "oidc.allowedAudiences",
        [
          `//iam.googleapis.com/projects/${block.projectNumber}/locations/global/workloadIdentityPools/${block.poolId}/providers/${p.id}`,
        ],
        oidc.allowedAudiences,
      );
    }
  }
  return results;
}

/** Why Google's STS refused the token, from its error. */
export function stsCause(
  message: string,
  claims: Record<string, unknown>,
  audience: string,
  issuer: string,
): string {
  if (/invalid_target|disabled or deleted/i.test(message)) {
    return "the STS finds no active provider for the audience: the pool or provider is deleted, disabled or missing (see their state above)";
  }
  if (/audience/i.test(message)) {
    return `the token's aud ${shown(claims.aud)} is not the provider's allowed audience ${shown(audience)}: the helper must fetch the JWT-SVID for that audience (pulumi up rewrites the helper config)`;
  }
  if (/issuer/i.test(message)) {
    return `the token's iss ${shown(claims.iss)} is not the provider's issuerUri ${shown(issuer)}: compare provider oidc.issuerUri above`;
  }
  if (/attribute condition/i.test(message)) {
    return `the provider's attributeCondition refuses sub ${shown(claims.sub)}: it is outside this trust domain (compare attributeCondition above)`;
  }
  if (/expired|exp/i.test(message)) {
    const exp =
      typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : "(no exp)";
    return `the token expired at ${exp}: check that spiffe-helper refreshes gcp-jwt-svid.token`;
  }
  if (/DELETED|disabled/i.test(message))
    return "the pool or provider is deleted or disabled: see its state above";
  return "see Google's message";
}

/** The real STS exchange with the workload's JWT-SVID. */
async function exchange(ctx: VerifyContext): Promise<CheckResult[]> {
  const subject = await exchangeSubject<GoogleAuthLib>(ctx, {
    party: "gcp",
    name: "sts exchange",
    file: GCP_JWT_SVID_FILE,
    sdk: "google-auth-library",
  });
  if (Array.isArray(subject) || ctx.svidDir === undefined)
    return Array.isArray(subject) ? subject : [];
  const { claims, workload: w, login, lib } = subject;
  const r = { ...base, name: "sts exchange", workload: w.name };
  const configs = isRecord(login.credentialConfigs) ? login.credentialConfigs : {};
  if (typeof configs.oidc !== "string") {
    return [
      {
        ...r,
        status: "FAIL",
        reason: `the outputs lack federation.${w.name}.gcp.credentialConfigs.oidc`,
        fix: "pass the outputs of the deployed stack (with --show-secrets)",
      },
    ];
  }
  const config = JSON.parse(configs.oidc) as Record<string, unknown>;
  const log: TransportLog = {};
  const client = new lib.IdentityPoolClient({
    ...(config as { audience: string; subject_token_type: string }),
    token_url: ctx.env.GOOGLE_STS_TOKEN_URL ?? String(config.token_url),
    credential_source: {
      file: path.join(ctx.svidDir, GCP_JWT_SVID_FILE),
      format: { type: "text" },
    },
    transporterOptions: { fetchImplementation: hardenedFetch(ctx, log) },
  });
  // google-auth-library 10.9.1 builds its STS client without the client's transporter
  // (baseexternalclient.js: `new StsCredentials({ tokenExchangeEndpoint, clientAuthentication })`):
  // hand it the hardened one, so the exchange too has the deadline, size limit and --ca-file.
  // Its exchange also asks gaxios to retry the POST on no response and on 5xx
  // (stscredentials.js: `...StsCredentials.RETRY_CONFIG`, POST among `httpMethodsToRetry`):
  // `retryConfig.retry: 0` leaves that to the hardened client, so a lost exchange is sent once
  // and the deadline bounds the whole call (the fault suite counts the POSTs).
  const sts = (client as unknown as { stsCredential?: { transporter?: unknown } }).stsCredential;
  const transporter = client.transporter;
  if (sts !== undefined) {
    sts.transporter = Object.assign(Object.create(transporter) as typeof transporter, {
      request: (opts: Parameters<typeof transporter.request>[0]) =>
        transporter.request({ ...opts, retry: false, retryConfig: { retry: 0 } }),
    });
  }
  ctx.progress(`gcp: STS exchange for ${w.name}`);
  try {
    const got = await client.getAccessToken();
    if (got.token) ctx.secrets.push(got.token);
    return [
      {
        ...r,
        workload: w.name,
        status: "PASS",
        reason: `the STS issued a federated access token for ${shown(claims.sub)}`,
      },
    ];
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 300);
    const transport = transportFailure(log, "Google's STS");
    if (transport) return [{ ...r, status: "FAIL", ...transport }];
    return [
      {
        ...r,
        workload: w.name,
        status: "FAIL",
        reason: `the STS refused the token: ${message}`,
        fix: stsCause(message, claims, String(config.audience), deployedIssuer(ctx)),
      },
    ];
  }
}

/** The `gcp` check. */
export const gcpCheck: Check = {
  name: "gcp",
  applies: (ctx) => ctx.model.gcp !== undefined,
  run: async (ctx) => {
    const block = ctx.model.gcp;
    if (block === undefined) return [];
    const token = await iamToken(ctx);
    const live =
      typeof token === "string"
        ? [
            ...(await poolResults(ctx, block, token)),
            ...(await iamBindingResults(ctx, block, token)),
          ]
        : [token];
    return [...live, ...(await exchange(ctx)), ...(await x509Exchange(ctx))];
  },
};
