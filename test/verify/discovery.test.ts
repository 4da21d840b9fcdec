/**
 * The discovery check against a real HTTPS issuer on 127.0.0.1 (test CA via --ca-file) with real
 * keys: one test per failure it must name, each with the exact line it prints.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  makeKey,
  runVerify,
  startIssuer,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
  type Issuer,
} from "./support";

const rsa = makeKey("k-rsa-1");
let issuer: Issuer;
let dir: string;

beforeAll(async () => {
  issuer = await startIssuer({ keys: [] });
  dir = writeStack("t", vaultStackConfig());
});
afterAll(() => issuer.close());
beforeEach(() => {
  issuer.state.issuer = undefined;
  issuer.state.jwksUri = undefined;
  issuer.state.keys = [rsa.jwk];
});

const run = (argv: string[] = ["--checks", "discovery"], d = dir) =>
  runVerify(d, "t", vaultOutputs(issuer.url), argv, { caPem: issuer.caPem });

describe("verify discovery", () => {
  it("passes a well-formed issuer and JWKS, and says what it fetched on stderr", async () => {
    const r = await run();
    expect(r.stdout).toContain(`PASS discovery: issuer: issuer is "${issuer.url}"`);
    expect(r.stdout).toContain("PASS discovery: jwks: 1 signing key(s), unique kids, RS256\n");
    expect(r.stderr).toContain(
      `verify: discovery: GET ${issuer.url}/.well-known/openid-configuration`,
    );
    expect(r.code).toBe(0);
  });

  it("fails an issuer that differs from the deployed issuerUrl (a trailing slash)", async () => {
    issuer.state.issuer = `${issuer.url}/`;
    const r = await run();
    expect(r.stdout).toContain(
      `FAIL discovery: issuer: the document says issuer "${issuer.url}/", the stack deployed "${issuer.url}"; relying parties compare it exactly (trailing slash included)`,
    );
    expect(r.stdout).toContain("fix: set the chart's jwtIssuer to the issuer URL");
    expect(r.code).toBe(1);
  });

  it("fails a key without a kid", async () => {
    const { kid: _kid, ...noKid } = rsa.jwk;
    issuer.state.keys = [noKid];
    const r = await run();
    expect(r.stdout).toContain(
      'FAIL discovery: kid: key #1 ("RSA") has no kid; relying parties pick the key by the token\'s kid',
    );
    expect(r.code).toBe(1);
  });

  it("fails a duplicate kid", async () => {
    const other = makeKey("k-rsa-1");
    issuer.state.keys = [rsa.jwk, other.jwk];
    const r = await run();
    expect(r.stdout).toContain(
      'FAIL discovery: kid: kid "k-rsa-1" appears 2 times; a relying party cannot tell the keys apart',
    );
    expect(r.code).toBe(1);
  });

  it("fails a key without use: sig", async () => {
    const { use: _use, ...noUse } = rsa.jwk;
    issuer.state.keys = [noUse];
    const r = await run();
    expect(r.stdout).toContain(
      'FAIL discovery: use: key "k-rsa-1" has use (none); strict consumers take only keys with use "sig"',
    );
    expect(r.stdout).toContain("fix: set the discovery provider's config.setKeyUse to true");
  });

  it("fails an ES384 key when Entra is configured, under the azure party, with Entra's reason", async () => {
    const azureDir = writeStack(
      "t",
      vaultStackConfig({
        "azure-native:subscriptionId": "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93",
        "spire-federation:azure": { resourceGroupName: "rg-test", location: "westeurope" },
        "spire-federation:workloads": [
          {
            name: "payments-api",
            namespace: "payments",
            serviceAccount: "payments-api",
            vault: { policies: ["payments-read"] },
            azure: { roleAssignments: [] },
          },
        ],
      }),
    );
    issuer.state.keys = [makeKey("k-ec-1", "ES384").jwk];
    const r = await run(["--checks", "discovery"], azureDir);
    expect(r.stdout).toContain(
      '[azure]\n  FAIL discovery: algorithm: key "k-ec-1" is ES384; Entra ID accepts RS256 tokens only\n       fix: set spire.caKeyType to rsa-2048 or rsa-4096 and redeploy',
    );
    expect(r.code).toBe(1);
    // The same key passes where only Vault (any algorithm) is configured.
    const vaultOnly = await run();
    expect(vaultOnly.stdout).toContain(
      "PASS discovery: jwks: 1 signing key(s), unique kids, ES384",
    );
  });

  it("fails a jwks_uri over http", async () => {
    issuer.state.jwksUri = "http://127.0.0.1:1/keys";
    const r = await run();
    expect(r.stdout).toContain(
      `FAIL discovery: jwks_uri: jwks_uri is "http://127.0.0.1:1/keys"; it must be an https URL on the issuer's host ${new URL(issuer.url).host}`,
    );
    expect(r.code).toBe(1);
  });

  it("fails an issuer whose certificate is not trusted (no --ca-file), naming TLS and the fix", async () => {
    const r = await runVerify(dir, "t", vaultOutputs(issuer.url), ["--checks", "discovery"]);
    expect(r.stdout).toMatch(
      /FAIL discovery: discovery document: https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration: the server's TLS certificate is not trusted/,
    );
    expect(r.stdout).toContain(
      "fix: serve the discovery endpoint with a publicly trusted certificate",
    );
    expect(r.code).toBe(1);
  });
});
