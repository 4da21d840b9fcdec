/**
 * The two example stacks that federate with each other (east and west): planned offline, each
 * reading the other's outputs from its fixture (stacks/outputs/acme/spire-federation/<stack>.json).
 * Their ClusterFederatedTrustDomains and federating ClusterSPIFFEIDs are valid against the
 * spire-crds 0.6.0 CRDs; each fixture carries exactly the outputs the stack it stands for plans, so
 * a fixture cannot drift from the real outputs; the policies pass.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { policies } from "../../components/policies";
import { pemToSpiffeBundle } from "../../components/spire-federation/index";
import type { Plan } from "../../tools/plan-types";
import { runPolicies } from "../../tools/policy-runner";
import { planStack } from "../compiled";
import { crdValidator } from "../crd";
import { ROOT } from "../helpers";

const CFTD = "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain";
const CSID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";
const CRDS = "spire";
const validCftd = crdValidator(
  `${CRDS}/spire-crds-0.6.0-clusterfederatedtrustdomains.yaml`,
  "v1alpha1",
);
const validCsid = crdValidator(`${CRDS}/spire-crds-0.6.0-clusterspiffeids.yaml`, "v1alpha1");

const plans = new Map<string, Promise<Plan>>();
const planOf = (stack: string) => {
  let p = plans.get(stack);
  if (!p) plans.set(stack, (p = planStack(stack)));
  return p;
};
const fixture = (stack: string) =>
  JSON.parse(
    readFileSync(
      path.join(ROOT, "stacks", "outputs", "acme", "spire-federation", `${stack}.json`),
      "utf8",
    ),
  ) as Record<string, any>;
const inputs = (p: Plan, type: string) =>
  p.resources.filter((r) => r.type === type).map((r) => r.inputs as Record<string, any>);

describe.each([
  ["east", "west"],
  ["west", "east"],
])("stack %s (its peer: %s)", (stack, peer) => {
  it("plans a ClusterFederatedTrustDomain for the peer from the peer's outputs, valid for the CRD", async () => {
    const p = await planOf(stack);
    const published = fixture(peer);
    const cftds = inputs(p, CFTD);
    const toPeer = cftds.find((c) => c.spec.trustDomain === `${peer}.spiffe.example.com`);
    expect(toPeer).toEqual({
      apiVersion: "spire.spiffe.io/v1alpha1",
      kind: "ClusterFederatedTrustDomain",
      metadata: { name: `${peer}.spiffe.example.com` },
      spec: {
        className: "spire-federation",
        trustDomain: `${peer}.spiffe.example.com`,
        bundleEndpointURL: published.bundleEndpoint.url,
        bundleEndpointProfile: {
          type: "https_spiffe",
          endpointSPIFFEID: `spiffe://${peer}.spiffe.example.com/spire/server`,
        },
        trustDomainBundle: published.trustBundle,
      },
    });
    for (const c of cftds) expect(validCftd(c), JSON.stringify(validCftd.errors)).toBe(true);
    // Every peer waits on the spire release (the controller manager's webhook).
    const release = p.resources.find((r) => r.name === "spire-federation-spire-release")?.urn;
    for (const r of p.resources.filter((x) => x.type === CFTD)) {
      expect(r.dependencies).toContain(release);
    }
  });

  it("its federating workloads' ClusterSPIFFEIDs name the peer, valid for the CRD", async () => {
    const p = await planOf(stack);
    const federating = inputs(p, CSID).filter((c) => c.spec.federatesWith !== undefined);
    expect(federating.length).toBeGreaterThan(0);
    for (const c of federating) {
      expect(c.spec.federatesWith).toContain(`${peer}.spiffe.example.com`);
      expect(validCsid(c), JSON.stringify(validCsid.errors)).toBe(true);
    }
  });

  it(`the fixture of ${stack} carries exactly the outputs its plan exports`, async () => {
    const outputs = (await planOf(stack)).outputs as Record<string, unknown>;
    const f = fixture(stack);
    expect(Object.keys(f).sort()).toEqual(Object.keys(outputs).sort());
    for (const [key, value] of Object.entries(outputs)) {
      // Values the plan knows must be the fixture's; unknown ones (made at deploy) are real PEM.
      if (JSON.stringify(value).includes("[unknown]")) continue;
      expect(f[key], key).toEqual(value);
    }
    expect(outputs.rootCaPem).toBe("[unknown]");
    expect(outputs.trustBundle).toBe("[unknown]");
    // The bundle is the root as SPIFFE bundle JSON, as the stack computes it.
    expect(pemToSpiffeBundle(f.rootCaPem)).toEqual({ bundle: f.trustBundle });
  });

  it("passes every policy rule of the federation (no mandatory violation at all)", async () => {
    const p = await planOf(stack);
    const violations = await runPolicies(policies, p.resources);
    expect(violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
  });
});

describe("the west stack's second peer (https_web, no bootstrap bundle)", () => {
  it("is a ClusterFederatedTrustDomain without endpoint ID or bundle", async () => {
    const partner = inputs(await planOf("west"), CFTD).find(
      (c) => c.spec.trustDomain === "partner.example.net",
    );
    expect(partner?.spec).toEqual({
      className: "spire-federation",
      trustDomain: "partner.example.net",
      bundleEndpointURL: "https://spiffe-bundle.partner.example.net",
      bundleEndpointProfile: { type: "https_web" },
    });
    expect(validCftd(partner)).toBe(true);
    // The validator is the CRD's: it refuses what the API server would.
    const { bundleEndpointURL: _url, ...noUrl } = partner?.spec ?? {};
    expect(validCftd({ ...partner, spec: noUrl })).toBe(false);
    const badType = { ...partner?.spec, bundleEndpointProfile: { type: "https" } };
    expect(validCftd({ ...partner, spec: badType })).toBe(false);
    expect(validCftd({ ...partner, spec: { ...partner?.spec, federatesWith: [] } })).toBe(false);
  });
});
