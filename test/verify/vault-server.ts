/**
 * A spec-shaped double of Vault's JWT auth (the carried contract test/contracts/vault/
 * jwt-auth.json): each request is checked against the contract (path, token header, login body),
 * each answer carries every field the contract lists, login errors use the contract's texts,
 * and logins really verify the JWT-SVID's signature (node:crypto, the issuer's JWKS) and claims
 * the way vault-plugin-auth-jwt does. Runs under the fault server, so faults can be scripted.
 */
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  startFaultServer,
  type FaultServer,
  type Handler,
  type Reply,
} from "../support/fault-server";

interface Contract {
  paths: Record<string, { auth: boolean; data?: string[]; body?: { required: string[] } }>;
  loginErrors: Record<string, string>;
}

/** The carried contract. */
export const VAULT_CONTRACT = JSON.parse(
  readFileSync(path.join(__dirname, "..", "contracts", "vault", "jwt-auth.json"), "utf8"),
) as Contract;

/** A role as Vault stores it (the fields this package writes). */
export interface VaultRole {
  role_type: string;
  user_claim: string;
  bound_audiences: string[];
  bound_claims_type: string;
  bound_claims: Record<string, string>;
  token_policies: string[];
  token_ttl: number;
}

/** The double's state. */
export interface VaultState {
  /** The token that may read. */
  token: string;
  /** `auth/<mount>/config` data. */
  config: Record<string, unknown>;
  /** Roles by name. */
  roles: Record<string, VaultRole>;
  /** The issuer's public JWKs (what Vault fetched from jwks_uri). */
  keys: Record<string, unknown>[];
}

/** The state a deploy of the test stack leaves: the backend and the payments-api role. */
export function plannedVaultState(
  token: string,
  issuerUrl: string,
  keys: Record<string, unknown>[],
  sub: string,
): VaultState {
  return {
    token,
    config: { oidc_discovery_url: issuerUrl, bound_issuer: issuerUrl, oidc_discovery_ca_pem: "" },
    roles: {
      "payments-api": {
        role_type: "jwt",
        user_claim: "sub",
        bound_audiences: ["vault"],
        bound_claims_type: "string",
        bound_claims: { sub },
        token_policies: ["payments-read"],
        token_ttl: 0,
      },
    },
    keys,
  };
}

/** Every field of `fields`, from `values` or Vault's zero value. */
function shaped(fields: string[], values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    fields.map((f) => [f, values[f] ?? (f.startsWith("token_") ? null : "")]),
  );
}

const envelope = (data: unknown, auth: unknown = null): Reply => ({
  status: 200,
  body: JSON.stringify({
    request_id: "00000000-0000-0000-0000-000000000000",
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth,
  }),
});
const error = (status: number, message: string): Reply => ({
  status,
  body: JSON.stringify({ errors: [message] }),
});
const fmt = (template: string, value: string): string =>
  template.replace(/%q/, JSON.stringify(value)).replace(/%s/, value);

/** Validates and answers one login, as path_login.go and cap's validator do. */
function login(state: VaultState, mount: string, body: Record<string, unknown>): Reply {
  const e = VAULT_CONTRACT.loginErrors;
  const role = state.roles[String(body.role)];
  if (!role) return error(400, fmt(e.missingRole, String(body.role)));
  const jwt = String(body.jwt);
  const [h, p, s] = jwt.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { kid: string; alg: string };
  const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
  const jwk = state.keys.find((k) => k.kid === header.kid);
  if (!jwk) return error(400, fmt(e.noKid, header.kid));
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const hash = header.alg === "ES384" ? "sha384" : "sha256";
  const ok = verify(
    hash,
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(s, "base64url"),
  );
  if (!ok) return error(400, fmt(e.badSignature, "invalid signature"));
  if (claims.iss !== state.config.bound_issuer) return error(400, e.badIssuer);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => role.bound_audiences.includes(String(a)))) return error(400, e.badAudience);
  if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now())
    return error(400, e.expired);
  for (const [claim, value] of Object.entries(role.bound_claims)) {
    if (claims[claim] !== value) return error(400, fmt(e.boundClaim, claim));
  }
  return envelope(null, {
    client_token: `hvs.${mount}-issued-token`,
    accessor: "acc",
    policies: ["default", ...role.token_policies],
    token_policies: ["default", ...role.token_policies],
    metadata: { role: String(body.role) },
    lease_duration: role.token_ttl,
    renewable: true,
    entity_id: "e",
    token_type: "service",
    orphan: true,
  });
}

/** The handler: contract checks first, then the answer. */
export function vaultHandler(state: VaultState): Handler {
  return (req) => {
    const url = new URL(req.path, "http://x");
    const m = /^\/v1\/auth\/(.+?)\/(config|role\/([^/]+)|login)$/.exec(url.pathname);
    if (!m) return error(404, "unsupported path");
    const [, mount, what, roleName] = m;
    const key =
      what === "config"
        ? "GET /v1/auth/{mount}/config"
        : what === "login"
          ? "POST /v1/auth/{mount}/login"
          : "GET /v1/auth/{mount}/role/{name}";
    const spec = VAULT_CONTRACT.paths[key];
    if (!key.startsWith(`${req.method} `)) return error(405, "unsupported operation");
    if (spec.auth && req.headers["x-vault-token"] !== state.token)
      return error(403, "permission denied");
    if (what === "config") return envelope(shaped(spec.data ?? [], state.config));
    if (roleName !== undefined) {
      const role = state.roles[decodeURIComponent(roleName)];
      if (!role) return { status: 404, body: JSON.stringify({ errors: [] }) };
      return envelope(shaped(spec.data ?? [], role as unknown as Record<string, unknown>));
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return error(400, "failed to parse JSON input");
    }
    for (const f of spec.body?.required ?? []) {
      if (typeof body[f] !== "string" || body[f] === "")
        return error(400, VAULT_CONTRACT.loginErrors.missingToken);
    }
    return login(state, mount, body);
  };
}

/** Starts the double on 127.0.0.1 over HTTPS with these credentials. */
export function startVault(
  state: VaultState,
  tls: { keyPem: string; certPem: string; caPem: string },
): Promise<FaultServer> {
  return startFaultServer({ tls, handler: vaultHandler(state) });
}
