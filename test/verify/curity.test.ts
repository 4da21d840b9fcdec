/**
 * The curity check against the RESTCONF double (test/curity/server.ts, held to
 * test/contracts/curity): entities made through the package's own provider (what pulumi up
 * makes), then read back by verify field by field — a scope the profile lost, a client gone, a
 * trust store entry gone (an admin restart without persisted RESTCONF writes) — and the SKIP
 * when the admin password is a secure value verify cannot read.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CURITY_TEST_PASSWORD, CURITY_TEST_PROFILE, useCurityServer } from "../curity/harness";
import { curityStack as stackOf, deployCurity, ISSUER } from "./curity-fixture";
import { PAYMENTS_ID, runVerify, vaultOutputs, writeStack } from "./support";

const h = useCurityServer(["RS256"]);
let dir: string;
const curityStack = (password: unknown) => stackOf(h, password);
const deploy = () => deployCurity(h);

beforeAll(() => {
  dir = writeStack("t", curityStack(CURITY_TEST_PASSWORD));
});

const run = (env: Record<string, string> = {}, d = dir) =>
  runVerify(d, "t", vaultOutputs(ISSUER), ["--checks", "curity"], { caPem: h.fault.caPem, env });

describe("verify curity", () => {
  it("passes the clients, scopes, mapping and trust store entries as planned", async () => {
    await deploy();
    h.server.log.length = 0;
    const r = await run();
    expect(r.stdout).toContain(
      'PASS curity: clientTrustStore: client trust store entry "spiffe-root-ca" exists',
    );
    expect(r.stdout).toContain(
      'PASS curity: serverTrustStore: server trust store entry "spiffe-discovery-ca" exists',
    );
    expect(r.stdout).toContain('PASS curity: scope: the token profile defines "orders:read"');
    expect(r.stdout).toContain(
      'PASS curity: client.scope: client.scope is ["orders:read","reports"]',
    );
    expect(r.stdout).toContain(
      `PASS curity: client.mutual-tls: client.mutual-tls is {"client-uri":"${PAYMENTS_ID}","trusted-ca":["spiffe-root-ca"]}`,
    );
    expect(r.stdout).toContain(
      `PASS curity: client.secondary-authentication-method: client.secondary-authentication-method is {"jwks-uri":{"uri":"${ISSUER}/keys","http-client":"spiffe-jwks"},"assertion-jwt-validation":{"issuer":"${ISSUER}"}}`,
    );
    expect(r.stdout).toContain(
      'PASS curity: mapping.client-id: mapping.client-id is "spiffe-payments-api"',
    );
    expect(r.stdout).not.toContain("FAIL");
    expect(r.code).toBe(0);
    // read-only: GETs only
    expect(h.server.log.length).toBeGreaterThan(0);
    expect(h.server.log.filter((l) => !l.startsWith("GET "))).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(CURITY_TEST_PASSWORD);
  });

  it("fails a scope the token profile no longer defines, with its fix", async () => {
    await deploy();
    h.server.store.profiles.get(CURITY_TEST_PROFILE)!.scopes.delete("orders:read");
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL curity: scope: the token profile "token-service" defines no scope "orders:read" (authorization-server/scopes/scope), which payments-api may ask for',
    );
    expect(r.stdout).toContain(
      "fix: define it in the token profile (an admin restart without persisted configuration loses it), or remove it from the workload's curity.scopes and run pulumi up",
    );
    expect(r.stdout).toContain('PASS curity: scope: the token profile defines "reports"');
  });

  it("fails a missing OAuth client and a changed field, naming expected and actual", async () => {
    await deploy();
    h.server.store.profiles.get(CURITY_TEST_PROFILE)!.clients.delete("spiffe-payments-api");
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL curity: client: OAuth client "spiffe-payments-api" of token profile "token-service" is missing',
    );
    expect(r.stdout).toContain(
      "fix: pulumi up restores it; an admin restart without persisted RESTCONF writes loses them",
    );

    h.restart();
    await deploy();
    const c = h.server.store.profiles.get(CURITY_TEST_PROFILE)!.clients.get("spiffe-payments-api")!;
    c["mutual-tls"] = {
      "client-uri": "spiffe://test.example.com/ns/x/sa/y",
      "trusted-ca": ["spiffe-root-ca"],
    };
    const r2 = await run();
    expect(r2.code).toBe(1);
    expect(r2.stdout).toContain(
      `FAIL curity: client.mutual-tls: client.mutual-tls: expected {"client-uri":"${PAYMENTS_ID}","trusted-ca":["spiffe-root-ca"]}, found {"client-uri":"spiffe://test.example.com/ns/x/sa/y","trusted-ca":["spiffe-root-ca"]}`,
    );
    expect(r2.stdout).toContain("PASS curity: client.capabilities");
  });

  it("fails missing trust store entries and a missing mapping (an admin restart)", async () => {
    await deploy();
    h.server.store.clientTrust.clear();
    h.server.store.serverTrust.clear();
    h.server.store.profiles.get(CURITY_TEST_PROFILE)!.mappings.clear();
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL curity: clientTrustStore: client trust store entry "spiffe-root-ca" is missing',
    );
    expect(r.stdout).toContain(
      'FAIL curity: serverTrustStore: server trust store entry "spiffe-discovery-ca" is missing',
    );
    expect(r.stdout).toContain(
      `FAIL curity: mapping: client-id mapping of sub "${PAYMENTS_ID}" is missing`,
    );
    expect(r.stdout).toContain(
      "fix: pulumi up restores it; an admin restart without persisted RESTCONF writes loses them",
    );
  });

  it("skips without an admin password, and names a refused login without printing it", async () => {
    const secure = writeStack("t", curityStack({ secure: "v1:AAAAencrypted" }));
    const r = await run({}, secure);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "SKIP curity: admin: no Curity admin password: curity.password is a secure value verify cannot decrypt, and CURITY_PASSWORD is not set",
    );
    expect(h.server.log).toEqual([]);

    const bad = await run({ CURITY_PASSWORD: "wrong-password-77" });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("FAIL curity: admin:");
    expect(bad.stdout).toContain("HTTP 401");
    expect(bad.stdout).toContain(
      "fix: the admin login failed (HTTP 401): check curity.username and CURITY_PASSWORD",
    );
    expect(bad.stdout + bad.stderr).not.toContain("wrong-password-77");
  });
});
