/**
 * The openziti check against the spec-checked Edge Management double (test/openziti/server.ts, held
 * to test/contracts/openziti): entities made through the package's own client, then read back by
 * verify field by field — an unverified CA, a signer with another issuer, an identity with
 * another externalId — and a refused admin login named as INVALID_AUTH.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEntity, type ZitiSession } from "../../components/federation/openziti/api";
import { spiffeCaBody } from "../../components/federation/openziti/component";
import { makeCertificate } from "../fixtures";
import { ZitiTestController } from "../openziti/server";
import {
  makeKey,
  PAYMENTS_ID,
  runVerify,
  startIssuer,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
  type Issuer,
} from "./support";

const PASSWORD = "s3cret-admin-pw";
let issuer: Issuer;
let ziti: ZitiTestController;
let dir: string;

function zitiStack(url: string): Record<string, unknown> {
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

/** Makes what pulumi up makes, through the package's client; `over` changes fields. */
async function deploy(over: { signerIssuer?: string; externalId?: string } = {}) {
  const session: ZitiSession = {
    connection: {
      controllerUrl: ziti.url,
      username: "admin",
      password: PASSWORD,
      caPem: issuer.caPem,
    },
  };
  const root = await makeCertificate({ subject: "CN=spire root", ca: true });
  const caId = await createEntity(session, "ca", spiffeCaBody("spire", root.pem));
  await createEntity(session, "extJwtSigner", {
    name: "spire-jwt",
    enabled: true,
    issuer: over.signerIssuer ?? issuer.url,
    audience: "openziti",
    jwksEndpoint: `${issuer.url}/keys`,
    claimsProperty: "sub",
    useExternalId: true,
  });
  await createEntity(session, "identity", {
    name: "payments-api",
    type: "Default",
    isAdmin: false,
    externalId: over.externalId ?? PAYMENTS_ID,
    roleAttributes: ["payments"],
  });
  return caId;
}

beforeAll(async () => {
  issuer = await startIssuer({ keys: [makeKey("k1").jwk] });
  ziti = new ZitiTestController(issuer.tls);
  await ziti.start();
  dir = writeStack("t", zitiStack(ziti.url));
});
afterAll(async () => {
  await ziti.stop();
  await issuer.close();
});
beforeEach(() => {
  for (const m of Object.values(ziti.store)) {
    for (const id of [...m.keys()]) if (id !== "default" && id !== "default-admin") m.delete(id);
  }
});

const run = (env: Record<string, string> = {}) =>
  runVerify(dir, "t", vaultOutputs(issuer.url), ["--checks", "openziti"], {
    caPem: issuer.caPem,
    env,
  });

describe("verify openziti", () => {
  it("passes a verified, auth-enabled CA, the signer and the identity as planned", async () => {
    const caId = await deploy();
    ziti.store.cas.get(caId)!.isVerified = true;
    const r = await run();
    expect(r.stdout).toContain("PASS openziti: CA.isVerified: the CA is verified");
    expect(r.stdout).toContain("PASS openziti: CA.isAuthEnabled: CA.isAuthEnabled is true");
    expect(r.stdout).toContain(`PASS openziti: signer.issuer: signer.issuer is "${issuer.url}"`);
    expect(r.stdout).toContain(
      `PASS openziti: identity.externalId: identity.externalId is "${PAYMENTS_ID}"`,
    );
    expect(r.code).toBe(0);
    expect(ziti.violations).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it("fails an unverified CA, a signer of another issuer and an identity of another SPIFFE ID", async () => {
    await deploy({
      signerIssuer: "https://oidc.old.example.com",
      externalId: "spiffe://test.example.com/ns/x/sa/y",
    });
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "FAIL openziti: CA.isVerified: CA spire is not verified: OpenZiti authenticates no certificate it signs",
    );
    expect(r.stdout).toContain("fix: pulumi up verifies it (POST /cas/{id}/verify");
    expect(r.stdout).toContain(
      `FAIL openziti: signer.issuer: signer.issuer: expected "${issuer.url}", found "https://oidc.old.example.com"`,
    );
    expect(r.stdout).toContain(
      `FAIL openziti: identity.externalId: identity.externalId: expected "${PAYMENTS_ID}", found "spiffe://test.example.com/ns/x/sa/y"`,
    );
    expect(ziti.violations).toEqual([]);
  });

  it("names a refused admin login (INVALID_AUTH), never printing the password", async () => {
    await deploy();
    const r = await run({ OPENZITI_PASSWORD: "wrong-password-77" });
    expect(r.stdout).toContain("FAIL openziti: controller:");
    expect(r.stdout).toContain("INVALID_AUTH");
    expect(r.stdout).toContain(
      "fix: the admin login failed (INVALID_AUTH): check openziti.username and OPENZITI_PASSWORD",
    );
    expect(r.stdout + r.stderr).not.toContain("wrong-password-77");
  });
});
