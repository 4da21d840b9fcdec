/**
 * The fault suite (test/verify/faults.ts) on the vault check: the auth config GET and the JWT
 * login POST (never repeated), through the package's hardened client; and an answer that echoes
 * the token never shows it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FaultServer } from "../support/fault-server";
import { faultSuite } from "./faults";
import {
  makeKey,
  PAYMENTS_ID,
  runVerify,
  signJwt,
  startIssuer,
  svidFiles,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
  type Issuer,
} from "./support";
import { plannedVaultState, startVault, type VaultState } from "./vault-server";

const VAULT_TOKEN = "hvs.fault-suite-token-91";
const key = makeKey("k1");
let issuer: Issuer;
let vault: FaultServer;
let dir: string;
let svid = "";
const state: VaultState = { token: VAULT_TOKEN, config: {}, roles: {}, keys: [key.jwk] };

beforeAll(async () => {
  issuer = await startIssuer({ keys: [key.jwk] });
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

function svidDir(): string {
  svid = signJwt(key, { sub: PAYMENTS_ID, aud: ["vault"], iss: issuer.url });
  return svidFiles({ "vault-jwt-svid.token": svid });
}

const run = (o: { deadlineMs?: number; exchange?: boolean } = {}) =>
  runVerify(
    dir,
    "t",
    vaultOutputs(issuer.url),
    ["--checks", "vault", ...(o.exchange ? ["--svid-dir", svidDir()] : [])],
    { caPem: issuer.caPem, env: { VAULT_ADDR: vault.url, VAULT_TOKEN }, deadlineMs: o.deadlineMs },
  );
const login = (q: { method: string; path: string }) =>
  q.method === "POST" && q.path === "/v1/auth/spire-jwt/login";

describe("verify vault under faults", () => {
  faultSuite({
    server: () => vault,
    run,
    get: (q) => q.method === "GET" && q.path === "/v1/auth/spire-jwt/config",
    getLine: /\n {2}(PASS|FAIL) vault: (?:config\.bound_issuer|auth\/spire-jwt\/config): (.*)/,
    getCall:
      /^(?:Vault JWT auth config: )?GET https:\/\/127\.0\.0\.1:\d+\/v1\/auth\/spire-jwt\/config: /,
    post: { match: login, line: /\n {2}(PASS|FAIL) vault: login: (.*)/ },
    mayPost: login,
    secrets: () => [VAULT_TOKEN, svid],
  });

  it("never prints a token a server echoes back in a field", async () => {
    state.config = { oidc_discovery_url: issuer.url, bound_issuer: `echo:${VAULT_TOKEN}` };
    const r = await run();
    expect(r.stdout).toContain(
      `FAIL vault: config.bound_issuer: config.bound_issuer: expected "${issuer.url}", found "echo:[redacted]"`,
    );
    expect(r.stdout + r.stderr).not.toContain(VAULT_TOKEN);
  });
});
