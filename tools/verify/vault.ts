/**
 * `vault`: HashiCorp Vault's JWT auth, live and read-only, against what the plan expects.
 * - GET `/v1/auth/<path>/config`: `oidc_discovery_url` and `bound_issuer` exactly the issuer,
 *   `oidc_discovery_ca_pem` the configured CA (vault-plugin-auth-jwt path_config.go);
 * - GET `/v1/auth/<path>/role/<workload>` for each workload with a Vault grant: `role_type`
 *   jwt, `user_claim` sub, `bound_audiences`, `bound_claims` {sub}, `bound_claims_type`,
 *   `token_policies`, `token_ttl` (path_role.go);
 * - with `--svid-dir`: POST `/v1/auth/<path>/login` with the workload's own JWT-SVID
 *   (`vault.token`), its errors mapped to the cause (path_login.go, claims.go).
 * Credentials: `VAULT_ADDR` (else `vault:address` from the stack) and `VAULT_TOKEN`.
 */
import { VAULT_JWT_SVID_FILE } from "../../components/federation/vault/workload-files";
import type { VaultBlock, VaultGrant } from "../../components/federation/vault/schema";
import { callJson, getJson, isRecord, shown } from "./http";
import { deployedIssuer } from "./discovery";
import { readTokens } from "./rotation";
import { jwtClaims, mismatchResult } from "./fields";
import type { Check, CheckResult, VerifyContext } from "./types";

const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";

/** Vault's address and token, or the SKIP that says which is missing. */
function credentials(
  ctx: VerifyContext,
  block: VaultBlock,
): { addr: string; token: string } | CheckResult {
  const addr = ctx.env.VAULT_ADDR ?? block.address;
  const token = ctx.env.VAULT_TOKEN;
  if (!addr || !token) {
    return {
      check: "vault",
      party: "vault",
      name: "credentials",
      status: "SKIP",
      reason: `no ${!addr ? "VAULT_ADDR (nor vault:address in the stack)" : "VAULT_TOKEN"} in the environment`,
      fix: "export VAULT_ADDR and VAULT_TOKEN (a token that may read auth/<path>/config and roles)",
    };
  }
  ctx.secrets.push(token);
  return { addr: addr.replace(/\/$/, ""), token };
}

/** The workloads with a Vault grant. */
function vaultWorkloads(
  ctx: VerifyContext,
): { name: string; spiffeId: string; grant: VaultGrant }[] {
  return ctx.model.workloads.flatMap((w) =>
    w.vault ? [{ name: w.name, spiffeId: w.spiffeId, grant: w.vault }] : [],
  );
}

/** Compares the backend's config and each role with the plan. */
async function configAndRoles(
  ctx: VerifyContext,
  block: VaultBlock,
  addr: string,
  token: string,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const headers = { "x-vault-token": token };
  const issuer = deployedIssuer(ctx);
  const configUrl = `${addr}/v1/auth/${block.path}/config`;
  ctx.progress(`vault: GET ${configUrl}`);
  const config = await getJson(ctx, configUrl, "Vault JWT auth config", { headers });
  if (!config.ok || !isRecord(config.json) || !isRecord(config.json.data)) {
    results.push({
      check: "vault",
      party: "vault",
      name: `auth/${block.path}/config`,
      status: "FAIL",
      reason: config.ok ? "the answer has no data object" : config.why,
      fix: `check that the JWT auth backend is mounted at ${block.path} and VAULT_TOKEN may read it`,
    });
  } else {
    const d = config.json.data;
    const cfg = (field: string, expected: unknown, actual: unknown): void => {
      results.push(mismatchResult("vault", `config.${field}`, expected, actual, FIX_DRIFT));
    };
    cfg("oidc_discovery_url", issuer, d.oidc_discovery_url);
    cfg("bound_issuer", issuer, d.bound_issuer);
    cfg(
      "oidc_discovery_ca_pem",
      (block.discoveryCaPem ?? "").trim(),
      typeof d.oidc_discovery_ca_pem === "string"
        ? d.oidc_discovery_ca_pem.trim()
        : d.oidc_discovery_ca_pem,
    );
  }
  for (const w of vaultWorkloads(ctx)) {
    const roleUrl = `${addr}/v1/auth/${block.path}/role/${encodeURIComponent(w.name)}`;
    ctx.progress(`vault: GET ${roleUrl}`);
    const role = await getJson(ctx, roleUrl, "Vault JWT role", { headers });
    if (!role.ok || !isRecord(role.json) || !isRecord(role.json.data)) {
      results.push({
        check: "vault",
        party: "vault",
        workload: w.name,
        name: `role ${w.name}`,
        status: "FAIL",
        reason: role.ok ? "the answer has no data object" : role.why,
        fix: /HTTP 404/.test(role.ok ? "" : role.why)
          ? `the role is missing: ${FIX_DRIFT}`
          : FIX_DRIFT,
      });
      continue;
    }
    const d = role.json.data;
    const field = (name: string, expected: unknown, actual: unknown): void => {
      results.push({
        ...mismatchResult("vault", `role.${name}`, expected, actual, FIX_DRIFT),
        workload: w.name,
      });
    };
    field("role_type", "jwt", d.role_type);
    field("user_claim", "sub", d.user_claim);
    field("bound_audiences", [w.grant.audience], d.bound_audiences);
    field("bound_claims_type", "string", d.bound_claims_type);
    field("bound_claims", { sub: w.spiffeId }, d.bound_claims);
    field(
      "token_policies",
      [...w.grant.policies].sort(),
      Array.isArray(d.token_policies)
        ? [...(d.token_policies as unknown[])].map(String).sort()
        : d.token_policies,
    );
    field("token_ttl", w.grant.tokenTtlSeconds ?? 0, d.token_ttl);
  }
  return results;
}

/** Why Vault refused a login, in terms of the token and the role. */
export function vaultLoginCause(
  error: string,
  claims: Record<string, unknown>,
  expected: { sub: string; aud: string },
): string {
  if (/claim "sub" does not match|bound claim/.test(error)) {
    return `the role does not bind the sub Vault saw, ${shown(claims.sub)} (the plan binds ${shown(expected.sub)}): compare role.bound_claims above, pulumi up restores it`;
  }
  if (/invalid audience|audience claim/.test(error)) {
    return `the role does not bind the token's aud ${shown(claims.aud)} (the plan binds ${shown([expected.aud])}): compare role.bound_audiences above, pulumi up restores it`;
  }
  if (/expired|exp/.test(error)) {
    return `the token expired at ${typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : "(no exp)"}`;
  }
  if (/issuer|iss/.test(error)) {
    return `the token's iss is ${shown(claims.iss)}; the backend's bound_issuer differs`;
  }
  return "see Vault's message";
}

/** The real login with the workload's JWT-SVID. */
async function login(ctx: VerifyContext, block: VaultBlock, addr: string): Promise<CheckResult[]> {
  const token = readTokens(ctx).get(VAULT_JWT_SVID_FILE);
  if (token === undefined) return [];
  const claims = jwtClaims(token);
  const w = vaultWorkloads(ctx).find((x) => x.spiffeId === claims.sub);
  const base = { check: "vault", party: "vault", name: "login" };
  if (w === undefined) {
    return [
      {
        ...base,
        status: "FAIL",
        reason: `the token's sub ${shown(claims.sub)} is no workload with a Vault grant`,
        fix: "point --svid-dir at the files of a workload with a Vault grant",
      },
    ];
  }
  const url = `${addr}/v1/auth/${block.path}/login`;
  ctx.progress(`vault: POST ${url}`);
  const res = await callJson(ctx, "POST", url, "Vault JWT login", {
    body: JSON.stringify({ role: w.name, jwt: token }),
    headers: { "content-type": "application/json" },
    accept: [400, 403],
  });
  if (!res.ok)
    return [
      {
        ...base,
        workload: w.name,
        status: "FAIL",
        reason: res.why,
        fix: "check that Vault answers at VAULT_ADDR",
      },
    ];
  const body = isRecord(res.json) ? res.json : {};
  const auth = isRecord(body.auth) ? body.auth : undefined;
  if (res.status === 200 && auth && typeof auth.client_token === "string") {
    ctx.secrets.push(auth.client_token);
    const policies = Array.isArray(auth.policies) ? auth.policies.join(", ") : "";
    return [
      {
        ...base,
        workload: w.name,
        status: "PASS",
        reason: `role ${w.name} logged in (policies ${policies})`,
      },
    ];
  }
  const error = Array.isArray(body.errors)
    ? body.errors.map(String).join("; ")
    : `HTTP ${res.status}`;
  return [
    {
      ...base,
      workload: w.name,
      status: "FAIL",
      reason: `Vault answered HTTP ${res.status}: ${error}`,
      fix: vaultLoginCause(error, claims, { sub: w.spiffeId, aud: w.grant.audience }),
    },
  ];
}

/** The `vault` check. */
export const vaultCheck: Check = {
  name: "vault",
  applies: (ctx) => ctx.model.vault !== undefined,
  run: async (ctx) => {
    const block = ctx.model.vault;
    if (block === undefined) return [];
    const creds = credentials(ctx, block);
    if ("status" in creds) return [creds];
    return [
      ...(await configAndRoles(ctx, block, creds.addr, creds.token)),
      ...(await login(ctx, block, creds.addr)),
    ];
  },
};
