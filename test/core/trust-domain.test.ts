/** The trust domain, the cluster name and the OIDC discovery endpoint: exact errors, SVID DNS names. */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { spireValues } from "../../components/spire";
import { spireValuesArgs } from "../../components/stack";
import { baseConfig } from "../fixtures";
import { chartValueKeys } from "../helpers";
import { rejectsEach, type Mutate } from "../support/config-problems";

const badConfigs: [string, Mutate, string[]][] = [
  [
    "trust domain with uppercase",
    (c) => (c.trustDomain = "Test.example.com"),
    [
      "spire-federation:trustDomain: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
    ],
  ],
  [
    "trust domain with a port",
    (c) => (c.trustDomain = "test.example.com:8443"),
    ["spire-federation:trustDomain: trust domain must not contain a port"],
  ],
  [
    "the chart's example trust domain",
    (c) => (c.trustDomain = "example.org"),
    [
      "spire-federation:trustDomain: example.org is the chart's example trust domain; choose your own",
    ],
  ],
  ["missing clusterName", (c) => delete c.clusterName, ["spire-federation:clusterName: required"]],
  [
    "clusterName not a DNS label",
    (c) => (c.clusterName = "Prod_Cluster"),
    ["spire-federation:clusterName: must be a DNS-1123 label"],
  ],
  [
    "oidc.host without a domain",
    (c) => (c.oidc.host = "oidc"),
    [
      "spire-federation:oidc.host: must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)",
    ],
  ],
  [
    "oidc.tls with no choice",
    (c) => (c.oidc.tls = {}),
    [
      "spire-federation:oidc.tls: must set exactly one of acme: { email, server? }, secretName, or spire: true",
    ],
  ],
  [
    "oidc.tls with two choices",
    (c) => (c.oidc.tls = { acme: { email: "a@b.co" }, spire: true }),
    [
      "spire-federation:oidc.tls: must set exactly one of acme: { email, server? }, secretName, or spire: true (found acme, spire)",
    ],
  ],
  [
    "ACME email not an address",
    (c) => (c.oidc.tls.acme.email = "ops"),
    ["spire-federation:oidc.tls.acme.email: must be an email address"],
  ],
  [
    "ACME server over http",
    (c) => (c.oidc.tls.acme.server = "http://acme.example.com/directory"),
    ["spire-federation:oidc.tls.acme.server: must be an https:// URL"],
  ],
  [
    "a trust domain given as a SPIFFE ID",
    (c) => (c.trustDomain = "spiffe://test.example.com"),
    [
      "spire-federation:trustDomain: must be given without the spiffe:// scheme: use test.example.com",
    ],
  ],
  [
    "a trust domain given as a SPIFFE ID with a bad host",
    (c) => (c.trustDomain = "spiffe://Test.example.com/"),
    [
      "spire-federation:trustDomain: must be given without the spiffe:// scheme: use e.g. prod.example.org",
    ],
  ],
  [
    "a TLS secret name that is not a Kubernetes name",
    (c) => (c.oidc.tls = { secretName: "OIDC_TLS" }),
    [
      "spire-federation:oidc.tls.secretName: must be the name of a TLS Secret (a DNS-1123 subdomain) in the discovery provider's namespace, spire-server",
    ],
  ],
];

describe("trust domain and OIDC discovery config errors", () => {
  rejectsEach(badConfigs);
});

describe("oidc.tls.spire with a custom host", () => {
  const DNS_KEY =
    "spire-server.controllerManager.identities.clusterSPIFFEIDs.oidc-discovery-provider.dnsNameTemplates";
  const dnsNames = (raw: Record<string, unknown>) => {
    const v = spireValues(spireValuesArgs(parseStackConfig(raw), "root")) as any;
    return v["spire-server"].controllerManager.identities.clusterSPIFFEIDs[
      "oidc-discovery-provider"
    ]?.dnsNameTemplates;
  };

  it("adds the host to the DNS names of the discovery provider's SVID, keeping the chart's", () => {
    const raw = baseConfig();
    (raw.oidc as Record<string, unknown>).tls = { spire: true };
    expect(chartValueKeys().get(DNS_KEY)).toBe("list");
    expect(dnsNames(raw)).toEqual(["oidc-discovery.{{ .TrustDomain }}", "oidc.test.example.com"]);
  });

  it("leaves the chart's list alone when the host is the chart's name, or TLS is not SPIRE's", () => {
    const raw = baseConfig();
    (raw.oidc as Record<string, unknown>).tls = { spire: true };
    (raw.oidc as Record<string, unknown>).host = "oidc-discovery.test.example.com";
    expect(dnsNames(raw)).toEqual(["oidc-discovery.{{ .TrustDomain }}"]);
    expect(dnsNames(baseConfig())).toBeUndefined();
  });
});
