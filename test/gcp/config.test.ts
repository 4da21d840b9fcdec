/** Google Cloud's config: exact errors, and the component's own checks of its args. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { gcpArgsProblems } from "../../components/federation/gcp/component";
import { fedConfig, problemsOf, SUB } from "../support/federation-config";

const badConfigs: [string, (c: Record<string, any>) => void, string[]][] = [
  [
    "a pool ID starting gcp-",
    (c) => (c.gcp.poolId = "gcp-spiffe"),
    [
      'spire-federation:gcp.poolId: must be 4–32 characters of lowercase letters, digits and dashes, not starting with "gcp-"',
    ],
  ],
  [
    "a provider ID of 3 characters",
    (c) => (c.gcp.x509ProviderId = "x59"),
    [
      'spire-federation:gcp.x509ProviderId: must be 4–32 characters of lowercase letters, digits and dashes, not starting with "gcp-"',
    ],
  ],
  [
    "a SPIFFE ID over 127 characters with GCP grants",
    (c) => {
      c.workloads[0].spiffeIdPath = "/" + "b".repeat(120);
      c.workloads[0].podLabels = { app: "api" };
      delete c.workloads[0].azure;
    },
    [
      'spire-federation:workloads[0]: SPIFFE ID of workload "api" is 146 characters; Google Cloud limits google.subject to 127',
    ],
  ],
  [
    "GCP OIDC with the discovery endpoint on SPIRE's own TLS",
    (c) => {
      c.oidc.tls = { spire: true };
      delete c.azure;
      delete c.workloads[0].azure;
    },
    [
      "spire-federation:gcp.oidc: Google Cloud fetches the discovery document itself and needs a publicly trusted certificate: set oidc.tls to acme or secretName, or gcp.oidc to false",
    ],
  ],
  [
    "a GCP role without roles/",
    (c) => (c.workloads[0].gcp.roles[0].role = "storage.admin"),
    [
      "spire-federation:workloads[0].gcp.roles[0].role: must be an IAM role such as roles/storage.objectViewer or projects/<p>/roles/<custom>",
    ],
  ],
  [
    "a project number that is not a number",
    (c) => (c.gcp.projectNumber = "acme"),
    ["spire-federation:gcp.projectNumber: must be the numeric project number"],
  ],
  [
    "a project number that is not a string or a number",
    (c) => (c.gcp.projectNumber = true),
    ["spire-federation:gcp.projectNumber: must be the numeric project number"],
  ],
  [
    "GCP grants without the gcp block",
    (c) => delete c.gcp,
    ["spire-federation:workloads[0].gcp: needs the spire-federation:gcp block"],
  ],
  [
    "Google Cloud OIDC with a P-384 CA key (ES384)",
    (c) => {
      c.spire = { caKeyType: "ec-p384" };
      delete c.azure;
      delete c.workloads[0].azure;
    },
    [
      "spire-federation:spire.caKeyType: must be rsa-2048, rsa-4096 or ec-p256 while gcp.oidc is on: Google Cloud's STS accepts RS256 and ES256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p384)",
    ],
  ],
  [
    "a GCP grant in an invalid project",
    (c) => (c.workloads[0].gcp.roles[0].project = "Acme_Analytics"),
    [
      "spire-federation:workloads[0].gcp.roles[0].project: must be a project ID: 6–30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
    ],
  ],
  [
    "a GCP grant in a project ID ending with a hyphen",
    (c) => (c.workloads[0].gcp.roles[0].project = "acme-analytics-"),
    [
      "spire-federation:workloads[0].gcp.roles[0].project: must be a project ID: 6–30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
    ],
  ],
  [
    "an unquoted project number past 2^53",
    (c) => (c.gcp.projectNumber = JSON.parse("12345678901234567890")),
    [
      "spire-federation:gcp.projectNumber: is an unquoted number past 2^53 that lost digits when parsed: quote it",
    ],
  ],
  [
    "a fractional project number",
    (c) => (c.gcp.projectNumber = 1234567.5),
    ["spire-federation:gcp.projectNumber: must be the numeric project number"],
  ],
];

describe("Google Cloud config errors", () => {
  it.each(badConfigs)("%s", (_n, mutate, expected) => {
    const c = fedConfig();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("accepts an unquoted project number below 2^53, as a string", () => {
    const c = fedConfig();
    c.gcp.projectNumber = 482915736204;
    expect(parseStackConfig(c, { azureSubscriptionId: SUB }).gcp?.projectNumber).toBe(
      "482915736204",
    );
  });

  it("a P-384 CA key is fine with GCP X.509 only, and P-256 with GCP OIDC", () => {
    const c = fedConfig();
    delete c.azure;
    delete c.workloads[0].azure;
    c.spire = { caKeyType: "ec-p384" };
    c.gcp.oidc = false;
    expect(parseStackConfig(c).spire.caKeyType).toBe("ec-p384");
    c.spire = { caKeyType: "ec-p256" };
    c.gcp.oidc = true;
    expect(parseStackConfig(c).spire.caKeyType).toBe("ec-p256");
  });

  it("GCP OIDC can be switched off to keep SPIRE's own TLS for X.509 federation", () => {
    const c = fedConfig();
    c.oidc.tls = { spire: true };
    delete c.azure;
    delete c.workloads[0].azure;
    c.gcp.oidc = false;
    expect(parseStackConfig(c, { azureSubscriptionId: SUB }).gcp).toMatchObject({
      oidc: false,
      x509: true,
      oidcProviderId: "spire-oidc",
      x509ProviderId: "spire-x509",
    });
  });
});

describe("the component validates its own args", () => {
  it("GCP problem list", () => {
    expect(
      gcpArgsProblems({
        project: "p",
        projectNumber: "12x",
        poolId: "pool",
        oidcProviderId: "oidc",
        x509ProviderId: "x509",
        oidc: true,
        x509: true,
        issuerUrl: "http://x",
        trustDomain: "td",
        rootCaPem: pulumi.output(""),
        grants: [],
      }),
    ).toEqual(["project number must be digits", "OIDC issuer must be an https:// URL"]);
  });
});
