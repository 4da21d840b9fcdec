/**
 * The gcp check's X.509 (mTLS) exchange (`--svid-dir`): google-auth-library's IdentityPoolClient
 * on the deployed X.509 credential configuration (`credential_source.certificate`) presents the
 * real X509-SVID to a local mTLS STS (test/verify/gcp-sts-mtls-server.ts) that verifies it
 * against the provider's trust anchors. One test per named cause.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  providerAudience,
  x509CertificateConfig,
  x509CredentialConfig,
  x509ProviderAttributes,
} from "../../components/federation/gcp/component";
import { GcpMtlsSts } from "./gcp-sts-mtls-server";
import type { GcpState } from "./gcp-server";
import { makePki, makeServerCredentials, svidDir, type TestPki } from "./svid-support";
import { PAYMENTS_ID, runVerify, vaultOutputs, vaultStackConfig, writeStack } from "./support";

const NUMBER = "482915736204";
const POOL = "projects/acme-platform/locations/global/workloadIdentityPools/spiffe-test";
const AUDIENCE = providerAudience(NUMBER, "spiffe-test", "spire-x509");
let sts: GcpMtlsSts;
let state: GcpState;
let pki: TestPki;
let caPem: string;
let dir: string;

function outputs(): Record<string, unknown> {
  const o = vaultOutputs("https://oidc.test.example.com");
  (o.federation as Record<string, Record<string, unknown>>)["payments-api"].gcp = {
    principal: `principal://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/spiffe-test/subject/${PAYMENTS_ID}`,
    audiences: { x509: AUDIENCE },
    credentialConfigs: { x509: JSON.stringify(x509CredentialConfig(AUDIENCE)) },
    certificateConfig: JSON.stringify(x509CertificateConfig()),
  };
  return o;
}

function provider(anchor: string): Record<string, unknown> {
  return {
    name: `${POOL}/providers/spire-x509`,
    state: "ACTIVE",
    disabled: false,
    ...x509ProviderAttributes("test.example.com"),
    x509: { trustStore: { trustAnchors: [{ pemCertificate: anchor }] } },
  };
}

beforeAll(async () => {
  pki = await makePki();
  const tls = await makeServerCredentials("CN=sts test CA");
  caPem = tls.caPem;
  state = { token: "unused", resources: {} };
  sts = new GcpMtlsSts(state, tls);
  await sts.start();
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  dir = writeStack("t", {
    ...base,
    "spire-federation:gcp": {
      project: "acme-platform",
      projectNumber: NUMBER,
      poolId: "spiffe-test",
      oidcProviderId: "spire-oidc",
      x509ProviderId: "spire-x509",
    },
    "spire-federation:workloads": [
      { ...workloads[0], gcp: { roles: [{ role: "roles/storage.objectViewer" }] } },
    ],
  });
});
afterAll(() => sts.stop());
beforeEach(() => {
  state.resources = { [`${POOL}/providers/spire-x509`]: provider(pki.root.pem) };
  sts.refresh();
  sts.exchanges.length = 0;
});

async function run(o: { spiffeId?: string; notAfter?: Date } = {}) {
  const svid = await pki.svid(
    o.spiffeId ?? PAYMENTS_ID,
    o.notAfter ? { notBefore: new Date(Date.now() - 7200_000), notAfter: o.notAfter } : {},
  );
  return {
    svid,
    r: await runVerify(dir, "t", outputs(), ["--checks", "gcp", "--svid-dir", svidDir(svid)], {
      caPem,
      env: { GOOGLE_STS_MTLS_TOKEN_URL: `${sts.url}/v1/token` },
    }),
  };
}

const der = (pem: string) =>
  pem
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!
    .map((b) => b.replace(/-----[A-Z ]+-----|\s/g, ""));

describe("verify gcp: the X.509 (mTLS) STS exchange by google-auth-library", () => {
  it("exchanges the X509-SVID: mTLS client certificate plus the DER chain as subject token", async () => {
    const { svid, r } = await run();
    expect(r.stdout).toContain(
      `PASS gcp: sts exchange x509: the STS issued a federated access token for "${PAYMENTS_ID}" (X509-SVID over mTLS)`,
    );
    expect(sts.exchanges).toHaveLength(1);
    expect(sts.exchanges[0].chainVerified).toBe(true);
    expect(sts.exchanges[0].form).toMatchObject({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      audience: AUDIENCE,
      subject_token_type: "urn:ietf:params:oauth:token-type:mtls",
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
    });
    expect(JSON.parse(sts.exchanges[0].form.subject_token)).toEqual(der(svid.certPem));
    expect(sts.violations).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain("ya29.federated-x509-7c2d");
    expect(r.stdout + r.stderr).not.toContain("PRIVATE KEY");
  });

  it("names a trust store that holds another root", async () => {
    state.resources[`${POOL}/providers/spire-x509`] = provider(
      (await makePki("CN=another root")).root.pem,
    );
    sts.refresh();
    const { r } = await run();
    expect(r.stdout).toContain("FAIL gcp: sts exchange x509: the STS refused the X509-SVID:");
    expect(r.stdout).toContain(
      "fix: the X509-SVID does not chain to the provider's trust store (x509.trustStore: SPIRE's upstream root as trust anchor)",
    );
  });

  it("names an attribute condition that refuses the SPIFFE ID", async () => {
    state.resources[`${POOL}/providers/spire-x509`].attributeCondition =
      'assertion.san.uri.startsWith("spiffe://prod.example.com/")';
    const { r } = await run();
    expect(r.stdout).toContain(
      `fix: the provider's attributeCondition refuses the URI SAN "${PAYMENTS_ID}": it must start with "spiffe://test.example.com/"`,
    );
  });

  it("names a deleted provider (invalid_target)", async () => {
    state.resources[`${POOL}/providers/spire-x509`].state = "DELETED";
    const { r } = await run();
    expect(r.stdout).toContain("invalid_target");
    expect(r.stdout).toContain(
      "fix: the STS finds no active X.509 provider for the audience: the pool or provider is deleted, disabled or missing",
    );
  });

  it("names an expired X509-SVID", async () => {
    const notAfter = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
    const { r } = await run({ notAfter });
    expect(r.stdout).toContain(
      `fix: the X509-SVID expired at ${notAfter.toISOString()}: check that spiffe-helper renews svid.pem`,
    );
  });
});
