/** The root of trust: CA modes, root keys and certificates, the root outliving SPIRE's CA. */
import { describe, expect, it } from "vitest";
import { baseConfig, makeCertificate } from "../fixtures";
import { problemsOf, rejectsEach, type Mutate } from "../support/config-problems";

const badConfigs: [string, Mutate, string[]][] = [
  [
    "ca without mode",
    (c) => (c.ca = { keyAlgorithm: "ECDSA-P256" }),
    ['spire-federation:ca.mode: must be "generated" or "clusterIssuer"'],
  ],
  [
    "unsupported root key algorithm",
    (c) => (c.ca.keyAlgorithm = "ED25519"),
    ["spire-federation:ca.keyAlgorithm: must be ECDSA-P256, ECDSA-P384, RSA-2048 or RSA-4096"],
  ],
  [
    "clusterIssuer mode without the root PEM",
    (c) => (c.ca = { mode: "clusterIssuer", clusterIssuer: "vault-pki" }),
    ["spire-federation:ca.rootCertificatePem: required"],
  ],
  [
    "clusterIssuer mode with garbage PEM",
    (c) =>
      (c.ca = {
        mode: "clusterIssuer",
        clusterIssuer: "vault-pki",
        rootCertificatePem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      }),
    ["spire-federation:ca.rootCertificatePem: must be a PEM-encoded X.509 certificate"],
  ],
  [
    "root that expires before SPIRE's intermediate",
    (c) => {
      c.ca.validityHours = 24;
      c.spire = { caTTL: "48h" };
    },
    [
      "spire-federation:ca.validityHours: must be longer than spire.caTTL (48h); the root must outlive SPIRE's intermediates",
    ],
  ],
];

describe("CA config errors", () => {
  rejectsEach(badConfigs);

  it("rejects a root certificate that is not a CA, or expired", async () => {
    const leaf = await makeCertificate({ subject: "CN=leaf", ca: false });
    const expired = await makeCertificate({
      subject: "CN=old root",
      ca: true,
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
    });
    const withRoot = (pem: string) => ({
      ...baseConfig(),
      ca: { mode: "clusterIssuer", clusterIssuer: "vault-pki", rootCertificatePem: pem },
    });
    expect(problemsOf(withRoot(leaf.pem))).toEqual([
      "spire-federation:ca.rootCertificatePem: must be a CA certificate (basicConstraints CA:TRUE)",
    ]);
    expect(problemsOf(withRoot(expired.pem))).toEqual([
      "spire-federation:ca.rootCertificatePem: certificate expired on Jan  1 00:00:00 2021 GMT",
    ]);
  });
});
