/**
 * The fault suite for the vault check's calls (through the package's hardened client): retried
 * faults end in the real answer, the others in one FAIL line that names the call and the fault;
 * an answer that echoes the token never shows it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Fault, FaultServer } from "../support/fault-server";
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

const VAULT_TOKEN = "hvs.fault-suite-token-91";
const key = makeKey("k1");
let issuer: Issuer;
let vault: FaultServer;
let dir: string;
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

const run = (extra: string[] = []) =>
  runVerify(dir, "t", vaultOutputs(issuer.url), ["--checks", "vault", ...extra], {
    caPem: issuer.caPem,
    env: { VAULT_ADDR: vault.url, VAULT_TOKEN },
  });
const CONFIG_LINE = /\n {2}(\w+) vault: (?:config\.bound_issuer|auth\/spire-jwt\/config): (.*)/;

describe("verify vault under faults", () => {
  it.each<[string, Fault]>([
    ["429 with Retry-After", { kind: "retry-after", status: 429, retryAfter: "0" }],
    ["503 with Retry-After", { kind: "retry-after", status: 503, retryAfter: "0" }],
    ["a reset mid-body", { kind: "reset-mid-body" }],
    ["a close mid-body", { kind: "close-mid-body" }],
  ])("retries %s and reads the real answer", async (_what, fault) => {
    vault.next(fault);
    const r = await run();
    expect(r.stdout.match(CONFIG_LINE)?.[1]).toBe("PASS");
    expect(vault.requests.filter((q) => q.path.endsWith("/config"))).toHaveLength(2);
    expect(r.code).toBe(0);
  });

  it.each<[string, Fault, RegExp]>([
    [
      "a 500",
      { kind: "status", status: 500 },
      /Vault JWT auth config: GET https:\/\/127\.0\.0\.1:\d+\/v1\/auth\/spire-jwt\/config: HTTP 500$/,
    ],
    [
      "a non-JSON 2xx",
      { kind: "not-json", body: "<html>proxy</html>", contentType: "text/html" },
      /HTTP 200 body is not JSON \(18 bytes, text\/html\)$/,
    ],
    [
      "an oversized body",
      { kind: "oversized", bytes: 2 * 1024 * 1024, declareLength: true },
      /HTTP 200 body of 2097152 bytes exceeds the limit of 1048576$/,
    ],
  ])("fails %s on the config read with one line naming it", async (_what, fault, message) => {
    vault.next(fault);
    const r = await run();
    const m = r.stdout.match(CONFIG_LINE);
    expect(m?.[1]).toBe("FAIL");
    expect(m?.[2]).toMatch(message);
    expect(r.code).toBe(1);
  });

  it("does not repeat a login whose response was lost, and says so", async () => {
    const svids = mkdtempSync(path.join(tmpdir(), "svid-"));
    writeFileSync(
      path.join(svids, "vault-jwt-svid.token"),
      signJwt(key, { sub: PAYMENTS_ID, aud: ["vault"], iss: issuer.url }),
    );
    vault.next(
      { kind: "reply", reply: { status: 200, body: JSON.stringify({ data: state.config }) } },
      {
        kind: "reply",
        reply: { status: 200, body: JSON.stringify({ data: state.roles["payments-api"] }) },
      },
      { kind: "lose-response" },
    );
    const r = await run(["--svid-dir", svids]);
    expect(r.stdout).toMatch(
      /FAIL vault: login: POST https:\/\/127\.0\.0\.1:\d+\/v1\/auth\/spire-jwt\/login: no response: the connection closed \(socket hang up\); not retried: a POST may have been processed, check before repeating it/,
    );
    expect(vault.requests.filter((q) => q.path.endsWith("/login"))).toHaveLength(1);
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
