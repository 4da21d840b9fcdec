/**
 * `aws`: AWS IAM web identity and IAM Roles Anywhere, live and read-only, against the plan.
 * - IAM (`@aws-sdk/client-iam`): GetOpenIDConnectProvider for the provider the roles trust
 *   (`aws.oidcProviderArn`, else the one IAM names after the issuer host): `Url` = the issuer,
 *   the audience among `ClientIDList` (exactly it when the stack created the provider); GetRole
 *   for each role: the ARN the outputs hold, `MaxSessionDuration`, and the trust policy statement
 *   by statement: principal, action and each condition (`<host>:sub`, `<host>:aud`,
 *   `aws:PrincipalTag/x509SAN/URI`, `aws:SourceArn`) exactly as the component writes them.
 * - Roles Anywhere (signed REST JSON reads): GetTrustAnchor (enabled, a certificate bundle of
 *   the stable root the outputs hold) and GetProfile (enabled, the X.509 roles, the session).
 * - With `--svid-dir`: the workload's AssumeRoleWithWebIdentity with `aws-jwt-svid.token`, by
 *   `@aws-sdk/credential-providers`' fromWebToken (as the workload's SDK does it), its errors
 *   mapped to the cause. Credentials: see aws-sdk.ts; `AWS_ENDPOINT_URL_IAM`,
 *   `AWS_ENDPOINT_URL_ROLESANYWHERE`, `AWS_ENDPOINT_URL_STS` move the endpoints.
 */
import { X509Certificate } from "node:crypto";
import { awsRoles, trustPolicy, type AwsRoleArgs } from "../../components/federation/aws/roles";
import { issuerHost } from "../../components/federation/aws/rules";
import type { AwsBlock } from "../../components/federation/aws/schema";
import { AWS_JWT_SVID_FILE } from "../../components/federation/aws/workload-files";
import {
  arnParts,
  awsCredentials,
  iamClient,
  rolesAnywhereGet,
  sdkError,
  type AwsCredentials,
  type LiveTrust,
} from "./aws-sdk";
import { awsExchange } from "./aws-exchange";
import { deployedIssuer } from "./discovery";
import { mismatchResult } from "./fields";
import { isRecord, shown } from "./http";
import type { Check, CheckResult, VerifyContext } from "./types";

const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";
const base = { check: "aws", party: "aws" } as const;

/** What the plan and the outputs say the account must hold. */
interface AwsExpected {
  block: AwsBlock;
  issuer: string;
  roles: AwsRoleArgs[];
  /** Role ARNs from the outputs, by role name. */
  roleArns: Map<string, string>;
  /** The first role ARN's partition and account (the provider's ARN is built from them). */
  partition?: string;
  account?: string;
  trustAnchorArn?: string;
  profileArn?: string;
}

function expected(ctx: VerifyContext, block: AwsBlock): AwsExpected {
  const grants = ctx.model.workloads.flatMap((w) => (w.aws ? [{ workload: w, grant: w.aws }] : []));
  const fed = isRecord(ctx.outputs.federation) ? ctx.outputs.federation : {};
  const e: AwsExpected = {
    block,
    issuer: deployedIssuer(ctx),
    roles: awsRoles(grants),
    roleArns: new Map(),
  };
  for (const { workload, grant } of grants) {
    const w = fed[workload.name];
    const login = isRecord(w) && isRecord(w.aws) ? w.aws : undefined;
    if (login === undefined) continue;
    if (typeof login.roleArn === "string") {
      e.roleArns.set(grant.role, login.roleArn);
      const parts = arnParts(login.roleArn);
      e.partition ??= parts?.partition;
      e.account ??= parts?.account;
    }
    const ra = isRecord(login.rolesAnywhere) ? login.rolesAnywhere : undefined;
    if (ra && typeof ra.trustAnchorArn === "string") e.trustAnchorArn ??= ra.trustAnchorArn;
    if (ra && typeof ra.profileArn === "string") e.profileArn ??= ra.profileArn;
  }
  return e;
}

/** The OIDC provider ARN the roles trust: the adopted one, else IAM's name for the issuer. */
export function providerArn(e: AwsExpected): string | undefined {
  if (e.block.oidcProviderArn) return e.block.oidcProviderArn;
  if (e.partition === undefined || e.account === undefined) return undefined;
  return `arn:${e.partition}:iam::${e.account}:oidc-provider/${issuerHost(e.issuer)}`;
}

function unreadable(name: string, e: unknown, missing: string): CheckResult {
  const { code, message } = sdkError(e);
  const notFound = /NoSuchEntity|ResourceNotFound|HTTP 404/.test(`${code} ${message}`);
  const denied = /AccessDenied|not authorized|HTTP 403/i.test(`${code} ${message}`);
  return {
    ...base,
    name,
    status: "FAIL",
    reason: `${code}: ${message}`,
    fix: notFound
      ? missing
      : denied
        ? "the credentials may not read it: grant iam:Get* and rolesanywhere:Get* (IAMReadOnlyAccess)"
        : "check the AWS credentials and the endpoint",
  };
}

/** A value as a sorted list (IAM keeps a one-value list as a string). */
function asSet(v: unknown): unknown {
  if (v === undefined) return undefined;
  const list: unknown[] = Array.isArray(v) ? v : [v];
  return list.map((x) => (isRecord(x) ? JSON.stringify(x) : String(x))).sort();
}

/** One role's trust policy, statement by statement, against the planned one. */
function trustResults(
  role: string,
  planned: Record<string, unknown>[],
  live: Record<string, unknown>[],
): CheckResult[] {
  const out: CheckResult[] = [];
  const used = new Set<Record<string, unknown>>();
  for (const p of planned) {
    const sid = String(p.Sid);
    const l = live.find((s) => s.Sid === sid) ?? live.find((s) => !used.has(s) && !s.Sid);
    const what = `role ${role} trust ${sid}`;
    if (l === undefined) {
      out.push({
        ...base,
        name: what,
        status: "FAIL",
        reason: `no statement ${sid} in the role's trust policy: its workloads cannot assume it`,
        fix: FIX_DRIFT,
      });
      continue;
    }
    used.add(l);
    const field = (name: string, a: unknown, b: unknown) =>
      out.push(mismatchResult("aws", `${what} ${name}`, a, b, FIX_DRIFT));
    field("Effect", p.Effect, l.Effect);
    field("Principal", p.Principal, l.Principal);
    field("Action", asSet(p.Action), asSet(l.Action));
    const pc = isRecord(p.Condition) ? p.Condition : {};
    const lc = isRecord(l.Condition) ? l.Condition : {};
    const keys = new Set<string>();
    for (const c of [pc, lc]) {
      for (const [op, block] of Object.entries(c)) {
        for (const k of Object.keys(isRecord(block) ? block : {})) keys.add(`${op}\u0000${k}`);
      }
    }
    for (const key of [...keys].sort()) {
      const [op, k] = key.split("\u0000");
      const get = (c: Record<string, unknown>) => (isRecord(c[op]) ? c[op][k] : undefined);
      field(`${op} ${k}`, asSet(get(pc)), asSet(get(lc)));
    }
  }
  for (const l of live.filter((s) => !used.has(s))) {
    out.push({
      ...base,
      name: `role ${role} trust ${shown(l.Sid)}`,
      status: "FAIL",
      reason: `a statement the plan does not have: ${JSON.stringify(l).slice(0, 300)}`,
      fix: `someone added it outside the stack: it may let other principals assume the role; ${FIX_DRIFT}`,
    });
  }
  return out;
}

/** The IAM half: the OIDC provider and every role. */
async function iamResults(
  ctx: VerifyContext,
  e: AwsExpected,
  credentials: AwsCredentials,
  live: LiveTrust,
): Promise<CheckResult[]> {
  const iam = await iamClient(ctx, credentials, e.partition ?? "aws");
  if (!("client" in iam)) return [iam];
  const { lib, client } = iam;
  const results: CheckResult[] = [];
  const arn = providerArn(e);
  const jwt = e.roles.some((r) => r.jwtSubjects.length > 0);
  if (jwt && arn === undefined) {
    results.push({
      ...base,
      name: "oidc provider",
      status: "FAIL",
      reason: "the outputs hold no role ARN to find the account by",
      fix: "pass the outputs of the deployed stack (pulumi stack output --json --show-secrets)",
    });
  } else if (jwt && arn !== undefined) {
    ctx.progress(`aws: GetOpenIDConnectProvider ${arn}`);
    try {
      const p = await client.send(
        new lib.GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
      );
      const url = (p.Url ?? "").replace(/^https:\/\//, "");
      results.push(
        mismatchResult("aws", "oidc provider Url", issuerHost(e.issuer), url, FIX_DRIFT),
      );
      const ids = p.ClientIDList ?? [];
      const adopted = e.block.oidcProviderArn !== undefined;
      const ok = adopted
        ? ids.includes(e.block.audience)
        : ids.length === 1 && ids[0] === e.block.audience;
      results.push({
        ...base,
        name: "oidc provider ClientIDList",
        status: ok ? "PASS" : "FAIL",
        reason: `ClientIDList is ${shown(ids)}; the JWT-SVIDs carry aud ${shown(e.block.audience)}`,
        ...(ok
          ? {}
          : {
              fix: adopted
                ? `add ${e.block.audience} to the adopted provider's client IDs (aws iam add-client-id-to-open-id-connect-provider)`
                : FIX_DRIFT,
            }),
      });
    } catch (err) {
      results.push(
        unreadable(
          "oidc provider",
          err,
          `no IAM OIDC provider ${arn}: STS answers InvalidIdentityToken for every workload; ${e.block.oidcProviderArn ? "aws.oidcProviderArn names one that is gone: create it or unset the key" : "pulumi up creates it"}`,
        ),
      );
    }
  }
  for (const role of e.roles) {
    ctx.progress(`aws: GetRole ${role.name}`);
    let r;
    try {
      r = (await client.send(new lib.GetRoleCommand({ RoleName: role.name }))).Role;
    } catch (err) {
      results.push(unreadable(`role ${role.name}`, err, `the role is missing: ${FIX_DRIFT}`));
      continue;
    }
    if (r === undefined) continue;
    const deployedArn = e.roleArns.get(role.name);
    results.push(
      mismatchResult(
        "aws",
        `role ${role.name} Arn`,
        deployedArn,
        r.Arn,
        "the role was recreated since the outputs were written: pulumi up, then redeploy the workloads",
      ),
      mismatchResult(
        "aws",
        `role ${role.name} MaxSessionDuration`,
        role.maxSessionSeconds,
        r.MaxSessionDuration,
        FIX_DRIFT,
      ),
    );
    let doc: unknown;
    try {
      doc = JSON.parse(decodeURIComponent(r.AssumeRolePolicyDocument ?? ""));
    } catch {
      doc = undefined;
    }
    const statements = isRecord(doc)
      ? (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).filter(isRecord)
      : [];
    if (r.Arn) live.set(r.Arn, statements);
    const planned = trustPolicy(role, {
      oidcProviderArn: arn ?? "",
      issuerUrl: e.issuer,
      audience: e.block.audience,
      trustAnchorArn: e.trustAnchorArn ?? "",
    }).Statement as unknown as Record<string, unknown>[];
    results.push(...trustResults(role.name, planned, statements));
  }
  return results;
}

/** PEM certificates as DER fingerprints (order and whitespace aside). */
function fingerprints(pem: unknown): string[] {
  if (typeof pem !== "string") return [];
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    .map((c) => {
      try {
        return new X509Certificate(c).fingerprint256;
      } catch {
        return "(unreadable)";
      }
    })
    .sort();
}

/** The Roles Anywhere half: the trust anchor and the profile. */
async function rolesAnywhereResults(
  ctx: VerifyContext,
  e: AwsExpected,
  credentials: AwsCredentials,
): Promise<CheckResult[]> {
  const x509 = e.roles.filter((r) => r.x509Subjects.length > 0);
  if (x509.length === 0 || e.block.rolesAnywhere === undefined) return [];
  if (e.trustAnchorArn === undefined || e.profileArn === undefined) {
    return [
      {
        ...base,
        name: "roles anywhere",
        status: "FAIL",
        reason: "the outputs lack federation.<workload>.aws.rolesAnywhere",
        fix: "pass the outputs of the deployed stack (pulumi stack output --json --show-secrets)",
      },
    ];
  }
  const results: CheckResult[] = [];
  const read = async (arn: string, kind: "trustanchor" | "profile", member: string) => {
    const region = arnParts(arn)?.region ?? e.block.region;
    const id = arn.slice(arn.lastIndexOf("/") + 1);
    const what = kind === "trustanchor" ? "trust anchor" : "profile";
    const res = await rolesAnywhereGet(ctx, credentials, region, `${kind}/${id}`, what);
    if (res === undefined) {
      results.push({
        ...base,
        name: what,
        status: "SKIP",
        reason: "@smithy/signature-v4 is not installed",
        fix: "npm install @smithy/signature-v4",
      });
      return undefined;
    }
    if (res.ok && isRecord(res.json) && isRecord(res.json[member])) return res.json[member];
    results.push(
      unreadable(
        what,
        new Error(res.ok ? "the answer has no " + member : res.why),
        `the ${what} ${arn} is missing: ${FIX_DRIFT}`,
      ),
    );
    return undefined;
  };
  const anchor = await read(e.trustAnchorArn, "trustanchor", "trustAnchor");
  if (anchor) {
    const source = isRecord(anchor.source) ? anchor.source : {};
    const data = isRecord(source.sourceData) ? source.sourceData.x509CertificateData : undefined;
    const root = fingerprints(ctx.outputs.rootCaPem);
    results.push(
      mismatchResult(
        "aws",
        "trust anchor enabled",
        true,
        anchor.enabled,
        `enable it: ${FIX_DRIFT}`,
      ),
      mismatchResult(
        "aws",
        "trust anchor sourceType",
        "CERTIFICATE_BUNDLE",
        source.sourceType,
        FIX_DRIFT,
      ),
      {
        ...mismatchResult(
          "aws",
          "trust anchor certificate",
          root,
          fingerprints(data),
          "the anchor does not hold the stable root the outputs name (rootCaPem): X509-SVIDs will not chain to it; pulumi up",
        ),
        reason:
          JSON.stringify(root) === JSON.stringify(fingerprints(data))
            ? `the anchor holds the root of rootCaPem (SHA-256 ${root.join(", ")})`
            : `the anchor holds ${shown(fingerprints(data))}, rootCaPem is ${shown(root)} (SHA-256 fingerprints)`,
      },
    );
  }
  const profile = await read(e.profileArn, "profile", "profile");
  if (profile) {
    const arns = x509.map((r) => e.roleArns.get(r.name) ?? r.name).sort();
    results.push(
      mismatchResult("aws", "profile enabled", true, profile.enabled, `enable it: ${FIX_DRIFT}`),
      mismatchResult("aws", "profile roleArns", arns, asSet(profile.roleArns), FIX_DRIFT),
      mismatchResult(
        "aws",
        "profile durationSeconds",
        e.block.rolesAnywhere.sessionSeconds,
        profile.durationSeconds,
        FIX_DRIFT,
      ),
    );
  }
  return results;
}

/** The `aws` check. */
export const awsCheck: Check = {
  name: "aws",
  applies: (ctx) => ctx.model.aws !== undefined,
  run: async (ctx) => {
    const block = ctx.model.aws;
    if (block === undefined) return [];
    const e = expected(ctx, block);
    const credentials = await awsCredentials(ctx);
    const live: LiveTrust = new Map();
    const results: CheckResult[] =
      "accessKeyId" in credentials
        ? [
            ...(await iamResults(ctx, e, credentials, live)),
            ...(await rolesAnywhereResults(ctx, e, credentials)),
          ]
        : [credentials];
    return [
      ...results,
      ...(await awsExchange(ctx, {
        issuer: e.issuer,
        audience: block.audience,
        file: AWS_JWT_SVID_FILE,
        live,
      })),
    ];
  },
};
