/**
 * `azure`: Entra ID workload identity federation, live and read-only, against the plan.
 * - ARM (Microsoft.ManagedIdentity 2023-01-31, the API version azure-native uses): GET each
 *   user-assigned identity (`clientId` equal to the deployed output) and GET its
 *   `federatedIdentityCredentials` (every page): each planned credential's `issuer`, `subject`
 *   and `audiences` exactly, and at most 20 credentials on the identity (Entra's limit).
 *   Credentials: `AZURE_ARM_TOKEN` (a bearer, e.g. `az account get-access-token`), else
 *   `@azure/identity`'s DefaultAzureCredential; `AZURE_RESOURCE_MANAGER_URL` moves ARM (sovereign
 *   clouds, tests).
 * - With `--svid-dir`: the client-credentials exchange the workload does, by `@azure/identity`'s
 *   ClientAssertionCredential with `azure-jwt-svid.token` as the assertion (authority
 *   `AZURE_AUTHORITY_HOST`, default Entra's), its AADSTS errors mapped to the cause.
 */
import { entraIdentities } from "../../components/federation/azure/index";
import { ENTRA_MAX_CREDENTIALS_PER_IDENTITY } from "../../components/federation/azure/rules";
import type { AzureBlock } from "../../components/federation/azure/schema";
import { AZURE_JWT_SVID_FILE } from "../../components/federation/azure/workload-files";
import { deployedIssuer } from "./discovery";
import { exchangeSubject, mismatchResult } from "./fields";
import { getJson, isRecord, shown } from "./http";
import {
  azureHttpClient,
  bearerToken,
  optionalSdk,
  transportFailure,
  type TransportLog,
} from "./sdk-transport";
import type { Check, CheckResult, VerifyContext } from "./types";

/** The ARM API version read (azure-native 3.x's for managed identities). */
export const ARM_API_VERSION = "2023-01-31";
const ARM_SCOPE = "https://management.azure.com/.default";
const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";

type AzureIdentity = typeof import("@azure/identity");

const base = { check: "azure", party: "azure" } as const;

/** A bearer token for ARM, or the SKIP that says how to give one. */
function armToken(ctx: VerifyContext): Promise<string | CheckResult> {
  const fix =
    "export AZURE_ARM_TOKEN=$(az account get-access-token --query accessToken -o tsv), or sign in for DefaultAzureCredential (Reader on the resource group)";
  return bearerToken(ctx, "azure", "AZURE_ARM_TOKEN", fix, async (skip) => {
    const sdk = await optionalSdk<AzureIdentity>("@azure/identity");
    if (sdk === undefined) return skip("no AZURE_ARM_TOKEN and @azure/identity is not installed");
    try {
      const credential = new sdk.DefaultAzureCredential({ httpClient: azureHttpClient(ctx) });
      return (await credential.getToken(ARM_SCOPE)).token;
    } catch (e) {
      return skip(`DefaultAzureCredential found no credential (${(e as Error).name})`);
    }
  });
}

/** Every credential on an identity (following `nextLink`, at most 10 pages). */
async function listCredentials(
  ctx: VerifyContext,
  url: string,
  headers: Record<string, string>,
): Promise<{ ok: true; items: Record<string, unknown>[] } | { ok: false; why: string }> {
  const items: Record<string, unknown>[] = [];
  let next: string | undefined = url;
  for (let page = 0; next !== undefined && page < 10; page++) {
    ctx.progress(`azure: GET ${next.split("?")[0]}`);
    const res = await getJson(ctx, next, "federated identity credentials", { headers });
    if (!res.ok) return res;
    if (!isRecord(res.json) || !Array.isArray(res.json.value)) {
      return { ok: false, why: "the answer has no value array" };
    }
    items.push(...res.json.value.filter(isRecord));
    next = typeof res.json.nextLink === "string" ? res.json.nextLink : undefined;
  }
  return { ok: true, items };
}

/** The identities and their credentials against the plan. */
async function identityResults(
  ctx: VerifyContext,
  block: AzureBlock,
  token: string,
): Promise<CheckResult[]> {
  const arm = (ctx.env.AZURE_RESOURCE_MANAGER_URL ?? "https://management.azure.com").replace(
    /\/$/,
    "",
  );
  const headers = { authorization: `Bearer ${token}` };
  const issuer = deployedIssuer(ctx);
  const results: CheckResult[] = [];
  const federation = isRecord(ctx.outputs.federation) ? ctx.outputs.federation : {};
  for (const identity of entraIdentities(azureGrants(ctx))) {
    const idUrl =
      `${arm}/subscriptions/${encodeURIComponent(block.subscriptionId)}/resourceGroups/` +
      `${encodeURIComponent(block.resourceGroupName)}/providers/Microsoft.ManagedIdentity/` +
      `userAssignedIdentities/${encodeURIComponent(identity.name)}`;
    ctx.progress(`azure: GET ${idUrl}`);
    const got = await getJson(ctx, `${idUrl}?api-version=${ARM_API_VERSION}`, "identity", {
      headers,
    });
    const props = got.ok && isRecord(got.json) ? got.json.properties : undefined;
    if (!isRecord(props)) {
      results.push({
        ...base,
        name: `identity ${identity.name}`,
        status: "FAIL",
        reason: got.ok ? "the answer has no properties" : got.why,
        fix: /HTTP 404/.test(got.ok ? "" : got.why)
          ? `the identity is missing: ${FIX_DRIFT}`
          : "check azure.resourceGroupName and azure-native:subscriptionId, and that the token may read the group",
      });
      continue;
    }
    for (const c of identity.credentials) {
      const out = federation[c.name];
      const deployed = isRecord(out) && isRecord(out.azure) ? out.azure.clientId : undefined;
      results.push({
        ...mismatchResult(
          "azure",
          `identity ${identity.name} clientId`,
          deployed,
          props.clientId,
          "the identity was recreated since the outputs were written: pulumi up, then hand the workload the new client ID",
        ),
        workload: c.name,
      });
    }
    const list = await listCredentials(
      ctx,
      `${idUrl}/federatedIdentityCredentials?api-version=${ARM_API_VERSION}`,
      headers,
    );
    if (!list.ok) {
      results.push({
        ...base,
        name: `credentials of ${identity.name}`,
        status: "FAIL",
        reason: list.why,
        fix: "check that the token may read the identity's federated credentials",
      });
      continue;
    }
    const count = list.items.length;
    results.push({
      ...base,
      name: `credentials of ${identity.name}`,
      status: count <= ENTRA_MAX_CREDENTIALS_PER_IDENTITY ? "PASS" : "FAIL",
      reason: `${count} of at most ${ENTRA_MAX_CREDENTIALS_PER_IDENTITY} federated credentials`,
      ...(count <= ENTRA_MAX_CREDENTIALS_PER_IDENTITY
        ? {}
        : {
            fix: "delete the credentials no workload uses, or give workloads separate identities",
          }),
    });
    for (const c of identity.credentials) {
      const found = list.items.find((i) => i.name === c.name);
      const p = found && isRecord(found.properties) ? found.properties : undefined;
      if (p === undefined) {
        results.push({
          ...base,
          workload: c.name,
          name: `credential ${identity.name}/${c.name}`,
          status: "FAIL",
          reason: `no federated credential ${c.name} on ${identity.name}`,
          fix: `the credential is missing: ${FIX_DRIFT}`,
        });
        continue;
      }
      const field = (name: string, expected: unknown, actual: unknown) =>
        results.push({
          ...mismatchResult("azure", `credential ${c.name}.${name}`, expected, actual, FIX_DRIFT),
          workload: c.name,
        });
      field("issuer", issuer, p.issuer);
      field("subject", c.subject, p.subject);
      field("audiences", [block.audience], p.audiences);
    }
  }
  return results;
}

/** The workloads with an Azure grant, as entraIdentities reads them. */
function azureGrants(ctx: VerifyContext) {
  return ctx.model.workloads.flatMap((w) => (w.azure ? [{ workload: w, grant: w.azure }] : []));
}

/** The three values Entra matches, token against plan, side by side; and whether all agree. */
function sideBySide(
  claims: Record<string, unknown>,
  plan: { issuer: string; subject: string; audience: string },
): { text: string; same: boolean } {
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const rows = [
    ["issuer", claims.iss, plan.issuer, claims.iss === plan.issuer],
    ["subject", claims.sub, plan.subject, claims.sub === plan.subject],
    ["audience", claims.aud, plan.audience, aud.includes(plan.audience)],
  ] as const;
  return {
    text: rows
      .map(([n, t, p, ok]) => `${n}: token ${shown(t)} / plan ${shown(p)}${ok ? "" : " (differs)"}`)
      .join("; "),
    same: rows.every((r) => r[3]),
  };
}

/** Why Entra refused the assertion, from its AADSTS code. */
export function entraCause(
  message: string,
  claims: Record<string, unknown>,
  plan: { issuer: string; subject: string; audience: string },
): string {
  if (/AADSTS70021\b/.test(message) || /AADSTS70021[0-9]/.test(message)) {
    const { text, same } = sideBySide(claims, plan);
    return same
      ? `the token matches the plan (${text}), so the credential in Entra does not: see the credential fields above, pulumi up restores them`
      : `no federated credential matches the token (${text}): the workload's token differs from the plan where marked; check the helper's audience and the SPIFFE ID it runs as`;
  }
  if (/AADSTS700024\b/.test(message)) {
    const exp =
      typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : "(no exp)";
    return `the assertion is outside its valid time range (exp ${exp}): the helper must refresh azure-jwt-svid.token before it expires; check that spiffe-helper runs`;
  }
  if (/AADSTS700016\b/.test(message)) {
    return "no application with this client ID in the tenant: the outputs' clientId/tenantId are stale, pulumi up and redeploy the workload";
  }
  if (/AADSTS5002738\b|AADSTS50027\b|signature/i.test(message)) {
    return "Entra could not verify the signature: check the discovery check (RS256 only, a kid the JWKS holds)";
  }
  return "see Entra's message";
}

/** The real exchange with the workload's JWT-SVID. */
async function exchange(ctx: VerifyContext, block: AzureBlock): Promise<CheckResult[]> {
  const subject = await exchangeSubject<AzureIdentity>(ctx, {
    party: "azure",
    name: "token exchange",
    file: AZURE_JWT_SVID_FILE,
    sdk: "@azure/identity",
  });
  if (Array.isArray(subject)) return subject;
  const { token, claims, workload: w, login, lib: sdk } = subject;
  const r = { ...base, name: "token exchange", workload: w.name };
  const { clientId, tenantId } = login;
  if (typeof clientId !== "string" || typeof tenantId !== "string") {
    return [
      {
        ...r,
        status: "FAIL",
        reason: "the outputs lack federation.<workload>.azure clientId and tenantId",
        fix: "pass the outputs of the deployed stack",
      },
    ];
  }
  const log: TransportLog = {};
  const credential = new sdk.ClientAssertionCredential(
    tenantId,
    clientId,
    () => Promise.resolve(token),
    {
      authorityHost: ctx.env.AZURE_AUTHORITY_HOST,
      disableInstanceDiscovery: true,
      httpClient: azureHttpClient(ctx, log),
      // The pipeline's own retry policy would repeat the token POST on a 5xx: the hardened
      // client alone decides (it retries only a 429 or 503, which say "not processed").
      retryOptions: { maxRetries: 0 },
    },
  );
  ctx.progress(`azure: client-credentials exchange for ${w.name} (client ${clientId})`);
  try {
    const got = await credential.getToken(ARM_SCOPE);
    ctx.secrets.push(got.token);
    return [
      {
        ...r,
        workload: w.name,
        status: "PASS",
        reason: `Entra issued an access token for client ${clientId}`,
      },
    ];
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const code = /AADSTS\d+/.exec(message)?.[0];
    const transport = code ? undefined : transportFailure(log, "Entra's token endpoint");
    if (transport) return [{ ...r, status: "FAIL", ...transport }];
    return [
      {
        ...r,
        workload: w.name,
        status: "FAIL",
        reason: `Entra refused the assertion${code ? ` (${code})` : ""}: ${message.split("\n")[0].slice(0, 300)}`,
        fix: entraCause(message, claims, {
          issuer: deployedIssuer(ctx),
          subject: w.spiffeId,
          audience: block.audience,
        }),
      },
    ];
  }
}

/** The `azure` check. */
export const azureCheck: Check = {
  name: "azure",
  applies: (ctx) => ctx.model.azure !== undefined,
  run: async (ctx) => {
    const block = ctx.model.azure;
    if (block === undefined) return [];
    const token = await armToken(ctx);
    const live = typeof token === "string" ? await identityResults(ctx, block, token) : [token];
    return [...live, ...(await exchange(ctx, block))];
  },
};
