/** Google Cloud in the prod stack, and its external_account credential configurations. */
import { beforeAll, describe, expect, it } from "vitest";
import {
  oidcCredentialConfig,
  x509CredentialConfig,
  x509CertificateConfig,
} from "../../components/federation/gcp/component";
import type { ProgramRun } from "../../tools/harness";
import { all, byName, find } from "../helpers";
import { planProdStack } from "../support/federation-config";

const TD = "prod.spiffe.example.com";
const POOL =
  "//iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod";
describe("prod stack", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await planProdStack();
  });

  describe("Google Cloud", () => {
    it("creates the pool and both providers with subject mapping and trust-domain condition", () => {
      expect(
        find(run, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool").rawInputs,
      ).toMatchObject({
        project: "acme-platform-prod",
        workloadIdentityPoolId: "spiffe-prod",
      });
      const oidc = byName(run, "spire-federation-gcp-oidc").rawInputs;
      expect(oidc).toMatchObject({
        workloadIdentityPoolId: "spiffe-prod",
        workloadIdentityPoolProviderId: "spire-oidc",
        attributeMapping: { "google.subject": "assertion.sub" },
        attributeCondition: `assertion.sub.startsWith("spiffe://${TD}/")`,
        oidc: {
          issuerUri: `https://oidc.${TD}`,
          allowedAudiences: [`${POOL}/providers/spire-oidc`],
        },
      });
      const x509 = byName(run, "spire-federation-gcp-x509").rawInputs as any;
      expect(x509).toMatchObject({
        workloadIdentityPoolProviderId: "spire-x509",
        attributeMapping: { "google.subject": "assertion.san.uri" },
        attributeCondition: `assertion.san.uri.startsWith("spiffe://${TD}/")`,
      });
      expect(x509.x509.trustStore.trustAnchors).toHaveLength(1);
      expect(x509.x509.trustStore.trustAnchors[0].pemCertificate).toContain("BEGIN CERTIFICATE");
    });

    it("grants project roles to the workload's principal by project number", () => {
      const members = all(run, "gcp:projects/iAMMember:IAMMember").map((m) => m.rawInputs);
      expect(members).toEqual(
        expect.arrayContaining([
          {
            project: "acme-analytics-prod",
            role: "roles/bigquery.dataViewer",
            member: `principal://iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod/subject/spiffe://${TD}/ns/finance/sa/ledger`,
          },
          {
            project: "acme-platform-prod",
            role: "roles/storage.objectViewer",
            member: `principal://iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod/subject/spiffe://${TD}/workloads/batch-reports`,
          },
        ]),
      );
      expect(members).toHaveLength(4);
    });
  });
});

describe("Google's external_account credential configuration, field by field", () => {
  const aud = `${POOL}/providers/spire-oidc`;
  it("OIDC: a file-sourced JWT-SVID", () => {
    const c = oidcCredentialConfig(aud);
    expect(Object.keys(c).sort()).toEqual([
      "audience",
      "credential_source",
      "subject_token_type",
      "token_url",
      "type",
      "universe_domain",
    ]);
    expect(c.type).toBe("external_account");
    expect(c.universe_domain).toBe("googleapis.com");
    expect(c.audience).toMatch(
      /^\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/,
    );
    expect(c.subject_token_type).toBe("urn:ietf:params:oauth:token-type:jwt");
    expect(c.token_url).toBe("https://sts.googleapis.com/v1/token");
    expect(c.credential_source).toEqual({
      file: "/run/spiffe/certs/gcp-jwt-svid.token",
      format: { type: "text" },
    });
  });
  it("X.509: a certificate source over mTLS", () => {
    const c = x509CredentialConfig(`${POOL}/providers/spire-x509`);
    expect(Object.keys(c).sort()).toEqual([
      "audience",
      "credential_source",
      "subject_token_type",
      "token_url",
      "type",
      "universe_domain",
    ]);
    expect(c.subject_token_type).toBe("urn:ietf:params:oauth:token-type:mtls");
    expect(c.token_url).toBe("https://sts.mtls.googleapis.com/v1/token");
    expect(c.credential_source).toEqual({
      certificate: {
        certificate_config_location: "/run/spiffe/config/gcp-certificate-config.json",
        trust_chain_path: "/run/spiffe/certs/svid.pem",
      },
    });
    expect(x509CertificateConfig()).toEqual({
      cert_configs: {
        workload: {
          cert_path: "/run/spiffe/certs/svid.pem",
          key_path: "/run/spiffe/certs/svid_key.pem",
        },
      },
    });
  });
});
