/**
 * The openziti check's token exchange (`--svid-dir`): the workload authenticates on the Edge
 * Client API as its SDK does (`method=ext-jwt` with its JWT-SVID as bearer, `method=cert` with its
 * X509-SVID over mutual TLS) against a controller double modelled on openziti/ziti and held to the
 * carried client spec (test/verify/ziti-client-server.ts). The entities are made through the
 * package's own OpenZiti client; certificates and JWTs are real. One test per named cause.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createEntity,
  getEntity,
  verifyCa,
  type ZitiSession,
} from "../../components/federation/openziti/api";
import {
  spiffeAuthPolicyBody,
  spiffeCaBody,
  zitiIdentityFile,
} from "../../components/federation/openziti/component";
import { ZitiTestController } from "../openziti/server";
import { makePki, svidDir, type TestPki } from "./svid-support";
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
import { ZitiClientDouble } from "./ziti-client-server";

const PASSWORD = "s3cret-admin-pw";
const key = makeKey("k1");
let issuer: Issuer;
let controller: ZitiTestController;
let ziti: ZitiClientDouble;
let pki: TestPki;
let dir: string;

function stack(url: string): Record<string, unknown> {
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  return {
    ...base,
    "spire-federation:openziti": {
      controllerUrl: url,
      username: "admin",
      password: PASSWORD,
      jwt: true,
    },
    "spire-federation:workloads": [{ ...workloads[0], openziti: { roleAttributes: ["payments"] } }],
  };
}

/** What pulumi up makes, through the package's client: CA (verified), signer, policy, identity. */
async function deploy(root = pki) {
  const session: ZitiSession = {
    connection: {
      controllerUrl: ziti.url,
      username: "admin",
      password: PASSWORD,
      caPem: issuer.caPem,
    },
  };
  const caId = await createEntity(session, "ca", spiffeCaBody("spire", root.root.pem));
  const ca = await getEntity(session, "ca", caId);
  await verifyCa(session, caId, await root.signedByRoot(String(ca!.verificationToken)));
  const signerId = await createEntity(session, "extJwtSigner", {
    name: "spire-jwt",
    enabled: true,
    issuer: issuer.url,
    audience: "openziti",
    jwksEndpoint: `${issuer.url}/keys`,
    claimsProperty: "sub",
    useExternalId: true,
  });
  const policyId = await createEntity(
    session,
    "authPolicy",
    spiffeAuthPolicyBody("spire-spiffe", true, [signerId]),
  );
  await createEntity(session, "identity", {
    name: "payments-api",
    type: "Default",
    isAdmin: false,
    externalId: PAYMENTS_ID,
    roleAttributes: ["payments"],
    authPolicyId: policyId,
  });
  ziti.refresh();
  return { caId, signerId };
}

function outputs(): Record<string, unknown> {
  const o = vaultOutputs(issuer.url);
  const fed = o.federation as Record<string, Record<string, unknown>>;
  fed["payments-api"].openziti = zitiIdentityFile(ziti.url, { controllerCa: false });
  return o;
}

const jwt = (claims: Record<string, unknown> = {}) =>
  signJwt(key, { iss: issuer.url, sub: PAYMENTS_ID, aud: ["openziti"], ...claims });

async function files(o: { token?: string; notAfter?: Date } = {}): Promise<string> {
  const svid = await pki.svid(
    PAYMENTS_ID,
    o.notAfter ? { notBefore: new Date(Date.now() - 7200_000), notAfter: o.notAfter } : {},
  );
  return svidDir(svid, { "openziti-jwt-svid.token": o.token ?? jwt() });
}

const run = (svids: string) =>
  runVerify(dir, "t", outputs(), ["--checks", "openziti", "--svid-dir", svids], {
    caPem: issuer.caPem,
  });

const first = (kind: "cas" | "identities" | "external-jwt-signers", name: string) =>
  [...controller.store[kind].values()].find((e) => e.name === name)!;

beforeAll(async () => {
  issuer = await startIssuer({ keys: [key.jwk] });
  controller = new ZitiTestController(issuer.tls);
  ziti = new ZitiClientDouble(controller, issuer.tls, (url) =>
    url === `${issuer.url}/keys` ? issuer.state.keys : undefined,
  );
  await ziti.start();
  pki = await makePki();
  dir = writeStack("t", stack(ziti.url));
});
afterAll(async () => {
  await ziti.stop();
  await issuer.close();
});
beforeEach(() => {
  for (const m of Object.values(controller.store)) {
    for (const id of [...m.keys()]) if (id !== "default" && id !== "default-admin") m.delete(id);
  }
  ziti.authentications.length = 0;
  ziti.violations.length = 0;
  controller.violations.length = 0;
});

describe("verify openziti: the workload's authentication", () => {
  it("authenticates by ext-jwt (bearer) and by cert (the X509-SVID chain over mTLS)", async () => {
    await deploy();
    const token = jwt();
    const r = await run(await files({ token }));
    expect(r.stdout).toContain(
      'PASS openziti: authenticate ext-jwt: authenticated as identity "payments-api"',
    );
    expect(r.stdout).toContain(
      'PASS openziti: authenticate cert: authenticated as identity "payments-api"',
    );
    expect(r.code).toBe(0);
    expect(ziti.authentications.map((a) => [a.method, a.status])).toEqual([
      ["ext-jwt", 200],
      ["cert", 200],
    ]);
    expect(ziti.authentications[0].bearer).toBe(token);
    expect(ziti.authentications[1].chainVerified).toBe(true);
    expect(ziti.violations).toEqual([]);
    expect(controller.violations).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it("ext-jwt: names a signer whose issuer is not the token's", async () => {
    await deploy();
    first("external-jwt-signers", "spire-jwt").issuer = "https://oidc.old.example.com";
    const r = await run(await files());
    expect(r.stdout).toContain(
      "FAIL openziti: authenticate ext-jwt: the controller refused it: HTTP 401 UNAUTHORIZED",
    );
    expect(r.stdout).toContain(
      `fix: no enabled external JWT signer has the token's iss "${issuer.url}" (the controller's: ["https://oidc.old.example.com"]`,
    );
    expect(ziti.violations).toEqual([]);
  });

  it("ext-jwt: names an audience the signer does not expect", async () => {
    await deploy();
    const r = await run(await files({ token: jwt({ aud: ["vault"] }) }));
    expect(r.stdout).toContain(
      `fix: the token's aud ["vault"] is not the signer's audience "openziti" (the plan's: "openziti")`,
    );
  });

  it("ext-jwt: names an expired JWT-SVID", async () => {
    await deploy();
    const past = Math.floor(Date.now() / 1000) - 600;
    const r = await run(await files({ token: jwt({ iat: past - 300, exp: past }) }));
    expect(r.stdout).toContain(
      `fix: the JWT-SVID expired at ${new Date(past * 1000).toISOString()}: check that spiffe-helper refreshes openziti-jwt-svid.token`,
    );
  });

  it("ext-jwt and cert: name an identity whose externalId is not the SPIFFE ID", async () => {
    await deploy();
    first("identities", "payments-api").externalId = "spiffe://test.example.com/ns/payments/sa/old";
    const r = await run(await files());
    const cause = `identity "payments-api" has "spiffe://test.example.com/ns/payments/sa/old"`;
    expect(r.stdout).toContain(`fix: no identity has externalId "${PAYMENTS_ID}": ${cause}`);
    expect(r.stdout).toContain(
      `fix: no identity has externalId "${PAYMENTS_ID}", the certificate's URI SAN: ${cause}`,
    );
    expect(r.stdout).toContain(
      "FAIL openziti: authenticate cert: the controller refused it: HTTP 401 INVALID_AUTH: The authentication request failed",
    );
  });

  it("cert: names an unverified CA", async () => {
    await deploy();
    first("cas", "spire").isVerified = false;
    ziti.refresh();
    const r = await run(await files());
    expect(r.stdout).toContain(
      'fix: CA "spire" is not verified: the controller trusts no certificate it signs until it is',
    );
  });

  it("cert: names a CA with authentication disabled", async () => {
    await deploy();
    first("cas", "spire").isAuthEnabled = false;
    ziti.refresh();
    const r = await run(await files());
    expect(r.stdout).toContain('fix: CA "spire" has isAuthEnabled false');
  });

  it("cert: names a CA that holds another root than the SVID's", async () => {
    await deploy(await makePki("CN=another root"));
    const r = await run(await files());
    expect(r.stdout).toContain(
      `fix: the X509-SVID does not chain to CA "spire"'s certificate "CN=another root"`,
    );
  });

  it("cert: names an expired X509-SVID", async () => {
    await deploy();
    const notAfter = new Date(Date.now() - 60_000);
    const r = await run(await files({ notAfter }));
    expect(r.stdout).toContain(
      "FAIL openziti: authenticate cert: the controller refused it: HTTP 401 INVALID_AUTH",
    );
    expect(r.stdout).toContain(
      `fix: the X509-SVID expired at ${new Date(Math.floor(notAfter.getTime() / 1000) * 1000).toISOString()}`,
    );
  });
});
