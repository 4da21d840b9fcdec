/**
 * The curity check's token exchange (`--svid-dir`): the workload's client-credentials requests
 * (JWT-SVID as client assertion; X509-SVID over mutual TLS), as its login's `curl` forms make
 * them, against token endpoints that judge by what the RESTCONF double holds
 * (test/verify/curity-token-server.ts). Entities are made through the package's own provider;
 * certificates and JWTs are real. One test per named cause.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CURITY_TEST_PASSWORD, CURITY_TEST_PROFILE, useCurityServer } from "../curity/harness";
import { deployCurity } from "./curity-fixture";
import { CurityTokenDouble } from "./curity-token-server";
import { makePki, makeServerCredentials, svidDir, type TestPki } from "./svid-support";
import {
  makeKey,
  PAYMENTS_ID,
  runVerify,
  signJwt,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
} from "./support";

const ISSUER = "https://oidc.test.example.com";
const SCOPES = ["reports", "orders:read"];
const key = makeKey("k1");
const h = useCurityServer(["RS256"]);
let tokens: CurityTokenDouble;
let pki: TestPki;
let caPem: string;
let dir: string;

beforeAll(async () => {
  const tls = await makeServerCredentials("CN=token endpoint test CA");
  tokens = new CurityTokenDouble(h.server, CURITY_TEST_PROFILE, tls, (url) =>
    url === `${ISSUER}/keys` ? [key.jwk] : undefined,
  );
  await tokens.start();
  pki = await makePki();
  caPem = `${h.fault.caPem}\n${tls.caPem}`;
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  dir = writeStack("t", {
    ...base,
    "spire-federation:curity": {
      adminUrl: h.fault.url,
      username: "admin",
      password: CURITY_TEST_PASSWORD,
      profile: CURITY_TEST_PROFILE,
      tokenEndpoint: tokens.tokenEndpoint,
      mtlsTokenEndpoint: tokens.mtlsTokenEndpoint,
      discoveryCaPem: pki.root.pem,
    },
    "spire-federation:workloads": [{ ...workloads[0], curity: { scopes: SCOPES, auth: "both" } }],
  });
  return () => tokens.stop();
});

/** What pulumi up makes for payments-api (auth both), with the token double's endpoint. */
async function deploy(): Promise<void> {
  await deployCurity(h, { rootPem: pki.root.pem, tokenEndpoint: tokens.tokenEndpoint });
  tokens.refresh();
}

function outputs(): Record<string, unknown> {
  const o = vaultOutputs(ISSUER);
  (o.federation as Record<string, Record<string, unknown>>)["payments-api"].curity = {
    clientId: "spiffe-payments-api",
    tokenUrl: tokens.tokenEndpoint,
    mtlsTokenEndpoint: tokens.mtlsTokenEndpoint,
    audience: tokens.tokenEndpoint,
    jwtSvidFile: "/run/spiffe/certs/curity-jwt-svid.token",
    scopes: SCOPES,
    curl: {},
  };
  return o;
}

const jwt = (claims: Record<string, unknown> = {}) =>
  signJwt(key, { iss: ISSUER, sub: PAYMENTS_ID, aud: [tokens.tokenEndpoint], ...claims });

async function run(o: { token?: string; notAfter?: Date } = {}) {
  const svid = await pki.svid(
    PAYMENTS_ID,
    o.notAfter ? { notBefore: new Date(Date.now() - 7200_000), notAfter: o.notAfter } : {},
  );
  const svids = svidDir(svid, { "curity-jwt-svid.token": o.token ?? jwt() });
  return runVerify(dir, "t", outputs(), ["--checks", "curity", "--svid-dir", svids], { caPem });
}

describe("verify curity: the workload's token requests", () => {
  it("gets tokens with the JWT-SVID as client assertion and with the X509-SVID over mTLS", async () => {
    await deploy();
    const token = jwt();
    const r = await run({ token });
    expect(r.stdout).toContain(
      'PASS curity: token request jwt: Curity issued an access token (scope "reports orders:read")',
    );
    expect(r.stdout).toContain(
      'PASS curity: token request mtls: Curity issued an access token (scope "reports orders:read")',
    );
    expect(r.code).toBe(0);
    expect(tokens.requests.map((q) => [q.path, q.status, q.chainVerified])).toEqual([
      ["/oauth/v2/oauth-token", 200, false],
      ["/oauth/v2/oauth-token-mutual-tls", 200, true],
    ]);
    expect(tokens.requests[0].form).toEqual({
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: token,
      scope: "reports orders:read",
    });
    expect(tokens.requests[1].form).toEqual({
      grant_type: "client_credentials",
      client_id: "spiffe-payments-api",
      scope: "reports orders:read",
    });
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout + r.stderr).not.toContain("_0XBPWQQ_");
  });

  it("invalid_client: names a JWT-SVID for another audience", async () => {
    await deploy();
    const r = await run({
      token: jwt({ aud: ["https://login.example.com/oauth/v2/oauth-token"] }),
    });
    expect(r.stdout).toContain(
      "FAIL curity: token request jwt: Curity refused it: HTTP 401 invalid_client: client authentication failed",
    );
    expect(r.stdout).toContain(
      `fix: the token's aud ["https://login.example.com/oauth/v2/oauth-token"] is not the token endpoint Curity publishes, "${tokens.tokenEndpoint}"`,
    );
  });

  it("invalid_client: names a JWT-SVID of another issuer", async () => {
    await deploy();
    const r = await run({ token: jwt({ iss: "https://oidc.old.example.com" }) });
    expect(r.stdout).toContain(
      `fix: the token's iss "https://oidc.old.example.com" is not the issuer the client validates, "${ISSUER}"`,
    );
  });

  it("invalid_client: names an expired JWT-SVID", async () => {
    await deploy();
    const past = Math.floor(Date.now() / 1000) - 600;
    const r = await run({ token: jwt({ iat: past - 300, exp: past }) });
    expect(r.stdout).toContain(
      `fix: the JWT-SVID expired at ${new Date(past * 1000).toISOString()}: check that spiffe-helper refreshes curity-jwt-svid.token`,
    );
  });

  it("invalid_client: names the client-id mapping an admin restart lost", async () => {
    await deploy();
    h.server.store.profiles.get(CURITY_TEST_PROFILE)!.mappings.clear();
    const r = await run();
    expect(r.stdout).toContain(
      `fix: the assertion matches the plan, so Curity lacks what finds or verifies it: the client-id mapping of sub "${PAYMENTS_ID}" to "spiffe-payments-api"`,
    );
    expect(r.stdout).toContain("FAIL curity: mapping: client-id mapping of sub");
  });

  it("invalid_scope: names a scope the token profile no longer defines", async () => {
    await deploy();
    h.server.store.profiles.get(CURITY_TEST_PROFILE)!.scopes.delete("orders:read");
    const r = await run();
    expect(r.stdout).toContain(
      "FAIL curity: token request jwt: Curity refused it: HTTP 400 invalid_scope",
    );
    expect(r.stdout).toContain(
      `fix: Curity refuses scope ["reports","orders:read"]: each must be defined in token profile "${CURITY_TEST_PROFILE}" and granted to client "spiffe-payments-api"`,
    );
  });

  it("invalid_client over mTLS: names a client whose client-uri is not the SVID's SPIFFE ID", async () => {
    await deploy();
    const client = h.server.store.profiles
      .get(CURITY_TEST_PROFILE)!
      .clients.get("spiffe-payments-api")!;
    (client["mutual-tls"] as Record<string, unknown>)["client-uri"] =
      "spiffe://test.example.com/ns/x/sa/y";
    const r = await run();
    expect(r.stdout).toContain(
      "FAIL curity: token request mtls: Curity refused it: HTTP 401 invalid_client",
    );
    expect(r.stdout).toContain(
      `fix: Curity does not authenticate the X509-SVID as client "spiffe-payments-api": its mutual-tls client-uri must be "${PAYMENTS_ID}"`,
    );
  });

  it("invalid_client over mTLS: names an expired X509-SVID", async () => {
    await deploy();
    const notAfter = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
    const r = await run({ notAfter });
    expect(r.stdout).toContain(
      `fix: the X509-SVID expired at ${notAfter.toISOString()}: check that spiffe-helper renews svid.pem`,
    );
  });
});
