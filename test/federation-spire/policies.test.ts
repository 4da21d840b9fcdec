/**
 * SPIRE-to-SPIRE federation, policy rules: each on the east stack's plan as it is (compliant) and
 * on the plan with one thing broken (violating), with the exact message.
 */
import { describe, expect, it } from "vitest";
import { policies } from "../../components/policies";
import { spireFederationPolicies } from "../../components/spire-federation/index";
import type { PlanResource } from "../../tools/plan-types";
import { runPolicies } from "../../tools/policy-runner";
import { everyRuleTested, policy } from "../support/policy-harness";
import { planStack } from "../compiled";

const CFTD = "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain";
const CSID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";

let east: Promise<PlanResource[]> | undefined;
const eastResources = async () => {
  east ??= planStack("east").then((p) => p.resources);
  return structuredClone(await east);
};

type Inputs = Record<string, any>;
const asInputs = (v: unknown): Inputs => v as Inputs;
const byType = (rs: PlanResource[], type: string) =>
  rs.filter((r) => r.type === type).map((r) => asInputs(r.inputs));
const release = (rs: PlanResource[]) =>
  rs.find((r) => r.name === "spire-federation-spire-release")?.inputs as Inputs;
const peer = (rs: PlanResource[]) => byType(rs, CFTD)[0];
const federation = (rs: PlanResource[]) => release(rs).values["spire-server"].federation;

/** The messages of one rule on the east plan after `mutate`. */
async function violations(name: string, mutate: (rs: PlanResource[]) => void = () => {}) {
  const rs = await eastResources();
  mutate(rs);
  const rule = [policy(name)];
  return (await runPolicies(rule, rs)).map((v) => v.message);
}

describe("federation policy rules", () => {
  it("the package's pack holds each rule once", () => {
    const names = spireFederationPolicies.map((p) => p.name);
    for (const n of names) expect(policies.filter((p) => p.name === n)).toHaveLength(1);
    expect(names).toEqual([
      "spire-peer-not-self",
      "spire-peers-unique",
      "spire-peer-bootstrap",
      "spire-peer-class",
      "spire-federates-with-peer",
      "spire-bundle-endpoint-refresh-hint",
      "spire-bundle-endpoint-exposure",
      "spire-peer-waits-on-spire",
    ]);
  });

  const cases: [string, (rs: PlanResource[]) => void, string[]][] = [
    [
      "spire-peer-not-self",
      (rs) => (peer(rs).spec.trustDomain = "east.spiffe.example.com"),
      [
        "spire-federation-trust-domains-peer-west.spiffe.example.com: spec.trustDomain east.spiffe.example.com is this stack's own trust domain; a trust domain does not federate with itself: remove the peer",
      ],
    ],
    [
      "spire-peers-unique",
      (rs) => {
        const copy = structuredClone(rs.find((r) => r.type === CFTD) as PlanResource);
        rs.push({ ...copy, urn: `${copy.urn}-2`, name: `${copy.name}-2` });
      },
      [
        "spire-federation-trust-domains-peer-west.spiffe.example.com-2: spec.trustDomain west.spiffe.example.com is also the peer of spire-federation-trust-domains-peer-west.spiffe.example.com; SPIRE keeps one federation relationship per trust domain and the two would overwrite each other: keep one",
      ],
    ],
    [
      "spire-peer-bootstrap",
      (rs) => {
        delete peer(rs).spec.trustDomainBundle;
        peer(rs).spec.bundleEndpointProfile.endpointSPIFFEID =
          "spiffe://east.spiffe.example.com/spire/server";
      },
      [
        "spec.trustDomainBundle is missing for https_spiffe peer west.spiffe.example.com: SPIRE authenticates the peer's endpoint with the peer's bundle, so the first fetch fails; set the peer's bundle (or read it from the peer's stack)",
        "spec.bundleEndpointProfile.endpointSPIFFEID must lie in the peer's trust domain west.spiffe.example.com (it is in east.spiffe.example.com): the peer's server authenticates with an SVID of its own trust domain, default spiffe://west.spiffe.example.com/spire/server",
      ],
    ],
    [
      "spire-peer-bootstrap",
      (rs) => (peer(rs).spec.bundleEndpointProfile.type = "https_web"),
      [
        "spec.bundleEndpointProfile.endpointSPIFFEID is set for an https_web peer; the controller manager refuses it: remove it",
      ],
    ],
    [
      "spire-peer-class",
      (rs) => (peer(rs).spec.className = "other"),
      [
        'spire-federation-trust-domains-peer-west.spiffe.example.com: spec.className "other" is not the controller manager\'s class "spire-federation"; no controller reconciles it and the peer is never federated: set it',
      ],
    ],
    [
      "spire-federates-with-peer",
      (rs) => byType(rs, CSID)[0].spec.federatesWith.push("nobody.example.org"),
      [
        "spire-federation-spire-id-storefront: federatesWith nobody.example.org has no ClusterFederatedTrustDomain; SPIRE has no bundle of nobody.example.org, so the workload's entry is refused or never gets it: add the peer or remove it",
      ],
    ],
    [
      "spire-bundle-endpoint-refresh-hint",
      (rs) => (federation(rs).bundleEndpoint.refreshHint = "9h"),
      [
        "spire-server.federation.bundleEndpoint.refreshHint 9h is more than a third of caTTL 24h; the chart: CA TTL must be 3-5x the refresh hint, so that peers load new public keys before the CA rotates: lower the hint or raise caTTL",
      ],
    ],
    [
      "spire-bundle-endpoint-exposure",
      (rs) => (release(rs).values.global.spire.ingressControllerType = "other"),
      [
        "the https_spiffe bundle endpoint's ingress (controller type other) gets no TLS passthrough: peers would see the ingress's certificate instead of the SPIRE server's SVID and refuse it; use ingress-nginx or openshift (the chart annotates both for passthrough)",
      ],
    ],
    [
      "spire-bundle-endpoint-exposure",
      (rs) => (federation(rs).tls = { spire: { enabled: false } }),
      [
        "the https_web bundle endpoint has no certificate source; peers check it against public roots: enable tls.certManager (ACME) or tls.externalSecret",
      ],
    ],
    [
      "spire-bundle-endpoint-exposure",
      (rs) => (federation(rs).tls = { spire: { enabled: false }, certManager: { enabled: true } }),
      [
        "the https_web bundle endpoint's cert-manager issuer has no ACME email; the chart's ACME issuer cannot register, so no public certificate is issued: set tls.certManager.issuer.acme.email",
      ],
    ],
    [
      "spire-bundle-endpoint-exposure",
      (rs) =>
        (federation(rs).tls = { spire: { enabled: false }, externalSecret: { enabled: true } }),
      [
        "the https_web bundle endpoint's external secret has no secretName; the server has no certificate to serve: name the TLS Secret",
      ],
    ],
    [
      "spire-peer-waits-on-spire",
      (rs) => {
        const r = rs.find((x) => x.type === CFTD) as PlanResource;
        r.dependencies = [];
      },
      [
        "spire-federation-trust-domains-peer-west.spiffe.example.com does not wait on the spire release",
      ],
    ],
  ];

  it.each(cases)(
    "%s: silent on the east stack, reports the broken one",
    async (name, mutate, expected) => {
      expect(await violations(name)).toEqual([]);
      expect(await violations(name, mutate)).toEqual(expected);
    },
  );

  it("spire-bundle-endpoint-exposure: an https_web endpoint with ACME or a Secret is compliant", async () => {
    for (const tls of [
      {
        spire: { enabled: false },
        certManager: { enabled: true, issuer: { acme: { email: "ops@example.com" } } },
      },
      { spire: { enabled: false }, externalSecret: { enabled: true, secretName: "bundle-tls" } },
    ]) {
      expect(
        await violations("spire-bundle-endpoint-exposure", (rs) => (federation(rs).tls = tls)),
      ).toEqual([]);
    }
  });
});

everyRuleTested("federation-spire");
