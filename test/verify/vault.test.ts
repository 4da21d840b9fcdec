/**
 * The vault check against the spec-shaped Vault double (HTTPS, its own test CA) and a real
 * issuer: field-by-field drift, the real login with the workload's JWT-SVID and its errors mapped
 * to causes, credentials never printed, and the fault suite.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FaultServer } from "../support/fault-server";
import {
  makeKey,
  PAYMENTS_ID,
  runVerify,
  signJwt,
  startIssuer,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
  type Issuer,
} from "./support";
import { plannedVaultState, startVault, type VaultState } from "./vault-server";

const VAULT_TOKEN = "hvs.operator-token-6f1c2a";
const key = makeKey("k1");
let issuer: Issuer;
let vault: FaultServer;
let state: VaultState;
let dir: string;

beforeAll(async () => {
  issuer = await startIssuer({ keys: [key.jwk] });
  state = { token: "", config: {}, roles: {}, keys: [] };
  vault = await startVault(state, issuer.tls);
  dir = writeStack("t", vaultStackConfig());
});
afterAll(async () => {
  await vault.close();
  await issuer.close();
});
beforeEach(() => {
  Object.assign(state, plannedVaultState(VAULT_TOKEN, issuer.url, [key.jwk], PAYMENTS_ID));
  vault.reset();
});

function svidDir(token: string): string {
  const d = mkdtempSync(path.join(tmpdir(), "svid-"));
  writeFileSync(path.join(d, "vault-jwt-svid.token"), token);
  return d;
}

const run = (extra: string[] = [], env: Record<string, string> = {}) =>
  runVerify(dir, "t", vaultOutputs(issuer.url), ["--checks", "vault", ...extra], {
    caPem: issuer.caPem,
    env: { VAULT_ADDR: vault.url, VAULT_TOKEN, ...env },
  });

describe("verify vault: config and roles", () => {
  it("passes a backend and role that match the plan, sending the token only as X-Vault-Token", async () => {
    const r = await run();
    expect(r.stdout).toContain(
      `PASS vault: config.bound_issuer: config.bound_issuer is "${issuer.url}"`,
    );
    expect(r.stdout).toContain(
      `[vault / payments-api]\n  PASS vault: role.role_type: role.role_type is "jwt"`,
    );
    expect(r.stdout).toContain(
      'PASS vault: role.token_policies: role.token_policies is ["payments-read"]',
    );
    expect(r.code).toBe(0);
    expect(vault.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      "GET /v1/auth/spire-jwt/config",
      "GET /v1/auth/spire-jwt/role/payments-api",
    ]);
    expect(vault.requests.every((q) => q.headers["x-vault-token"] === VAULT_TOKEN)).toBe(true);
  });

  it("names each drifted field with expected, found and the fix", async () => {
    state.config.bound_issuer = `${issuer.url}/`;
    state.roles["payments-api"].bound_claims = { sub: "spiffe://test.example.com/ns/x/sa/y" };
    state.roles["payments-api"].bound_audiences = ["vault", "other"];
    const r = await run();
    expect(r.stdout).toContain(
      `FAIL vault: config.bound_issuer: config.bound_issuer: expected "${issuer.url}", found "${issuer.url}/"\n       fix: pulumi up restores it`,
    );
    expect(r.stdout).toContain(
      `FAIL vault: role.bound_claims: role.bound_claims: expected {"sub":"${PAYMENTS_ID}"}, found {"sub":"spiffe://test.example.com/ns/x/sa/y"}`,
    );
    expect(r.stdout).toContain(
      'FAIL vault: role.bound_audiences: role.bound_audiences: expected ["vault"], found ["vault","other"]',
    );
    expect(r.code).toBe(1);
  });

  it("fails a missing role with Vault's 404", async () => {
    delete state.roles["payments-api"];
    const r = await run();
    expect(r.stdout).toMatch(
      /FAIL vault: role payments-api: Vault JWT role: GET https:\/\/127\.0\.0\.1:\d+\/v1\/auth\/spire-jwt\/role\/payments-api: HTTP 404\n {7}fix: the role is missing: pulumi up restores it/,
    );
  });

  it("fails on a token Vault refuses (403), without printing it", async () => {
    const r = await run([], { VAULT_TOKEN: "hvs.wrong-token-77" });
    expect(r.stdout).toContain("HTTP 403");
    expect(r.stdout + r.stderr).not.toContain("hvs.wrong-token-77");
  });
});

describe("verify vault: login with the workload's JWT-SVID", () => {
  const claims = () => ({ sub: PAYMENTS_ID, aud: ["vault"], iss: issuer.url });

  it("logs in, and prints neither the JWT-SVID, VAULT_TOKEN nor the issued token (stdout, stderr, JSON)", async () => {
    const jwt = signJwt(key, claims());
    const json = path.join(dir, "vault.json");
    const r = await run(["--svid-dir", svidDir(jwt), "--json", json]);
    expect(r.stdout).toContain(
      "PASS vault: login: role payments-api logged in (policies default, payments-read)",
    );
    expect(r.code).toBe(0);
    const login = vault.requests.find((q) => q.path.endsWith("/login"));
    expect(JSON.parse(login?.body ?? "")).toEqual({ role: "payments-api", jwt });
    const everything = r.stdout + r.stderr + readFileSync(json, "utf8");
    for (const secret of [VAULT_TOKEN, "hvs.spire-jwt-issued-token", ...jwt.split(".")]) {
      expect(everything).not.toContain(secret);
    }
  });

  it.each([
    [
      "an audience the role does not bind",
      { aud: ["vault-prod"] },
      "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience",
      `the role does not bind the token's aud ["vault-prod"] (the plan binds ["vault"]): compare role.bound_audiences above, pulumi up restores it`,
    ],
    [
      "a role bound to another subject",
      {},
      'error validating claims: claim "sub" does not match any associated bound claim values',
      `the role does not bind the sub Vault saw, "${PAYMENTS_ID}" (the plan binds "${PAYMENTS_ID}"): compare role.bound_claims above, pulumi up restores it`,
    ],
    [
      "an expired JWT-SVID",
      { exp: 1_700_000_000 },
      "error validating token: invalid expiration time (exp) claim: token is expired",
      "the token expired at 2023-11-14T22:13:20.000Z",
    ],
  ])("maps %s to its cause", async (what, override, vaultSays, cause) => {
    if (what.includes("subject")) {
      state.roles["payments-api"].bound_claims = { sub: "spiffe://test.example.com/ns/x/sa/y" };
    }
    const token = signJwt(key, { ...claims(), ...override });
    const r = await run(["--svid-dir", svidDir(token)]);
    expect(r.stdout).toContain(
      `FAIL vault: login: Vault answered HTTP 400: ${vaultSays}\n       fix: ${cause}`,
    );
    expect(r.code).toBe(1);
  });

  it("fails a JWT-SVID of a workload without a Vault grant before calling Vault", async () => {
    const token = signJwt(key, { ...claims(), sub: "spiffe://test.example.com/ns/x/sa/y" });
    const r = await run(["--svid-dir", svidDir(token)]);
    expect(r.stdout).toContain(
      'FAIL vault: login: the token\'s sub "spiffe://test.example.com/ns/x/sa/y" is no workload with a Vault grant',
    );
    expect(vault.requests.some((q) => q.path.endsWith("/login"))).toBe(false);
  });
});
