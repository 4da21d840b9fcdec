/**
 * The mesh stack under mocks: releases, ordering, the custom resources against their schemas;
 * other shapes (no install, other gateways).
 */
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication";
import { beforeAll, describe, expect, it } from "vitest";
import { gatewayValues, istiodValues } from "../../components/federation/istio/index";
import { criticalPaths } from "../../tools/bench";
import type { ProgramRun } from "../../tools/harness";
import { planStack } from "../compiled";
import { crdValidator } from "../crd";
import { meshConfig } from "../support/stack-fixtures";
import { all, byName, runRaw, runStackFile } from "../helpers";

const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";

// ---------------------------------------------------------------------------------------------
// The program under mocks

describe("mesh stack", () => {
  let run: ProgramRun;
  const TD = "mesh.spiffe.example.com";
  beforeAll(async () => {
    run = await runStackFile("mesh");
  });

  it("installs base, istiod and the gateway from Istio's repository, pinned", () => {
    const common = {
      version: "1.30.3",
      repositoryOpts: { repo: ISTIO_REPO },
      createNamespace: true,
    };
    expect(byName(run, "spire-federation-istio-base").rawInputs).toMatchObject({
      ...common,
      name: "istio-base",
      chart: "base",
      namespace: "istio-system",
      values: {},
    });
    expect(byName(run, "spire-federation-istio-istiod").rawInputs).toMatchObject({
      ...common,
      name: "istiod",
      chart: "istiod",
      namespace: "istio-system",
      values: istiodValues({ trustDomain: TD }),
    });
    expect(byName(run, "spire-federation-istio-gateway").rawInputs).toMatchObject({
      ...common,
      name: "istio-ingressgateway",
      chart: "gateway",
      namespace: "istio-ingress",
      values: {
        name: "istio-ingressgateway",
        podAnnotations: { "inject.istio.io/templates": "gateway,spire" },
      },
    });
  });

  it("orders Istio after SPIRE, istiod after base, the gateway after istiod and its identity", () => {
    const urn = (n: string) => byName(run, `spire-federation-${n}`).urn;
    const deps = (n: string) => [...byName(run, `spire-federation-${n}`).dependencies].sort();
    expect(deps("istio-base")).toEqual([urn("spire-release")]);
    expect(deps("istio-istiod")).toEqual([urn("spire-release"), urn("istio-base")].sort());
    expect(deps("istio-gateway-id")).toEqual([urn("spire-release")]);
    expect(deps("istio-gateway")).toEqual(
      [urn("spire-release"), urn("istio-istiod"), urn("istio-gateway-id")].sort(),
    );
    expect(deps("istio-mtls")).toEqual([urn("istio-istiod")]);
    expect(byName(run, "spire-federation-istio").type).toBe("spire-federation:federation:Istio");
  });

  it("the gateway's ClusterSPIFFEID: exactly its pods, the Istio form, the controller's class", () => {
    const id = byName(run, "spire-federation-istio-gateway-id");
    expect(id.rawInputs).toEqual({
      apiVersion: "spire.spiffe.io/v1alpha1",
      kind: "ClusterSPIFFEID",
      metadata: { name: "spire-federation.istio.istio-ingress.istio-ingressgateway" },
      spec: {
        className: "spire-federation",
        hint: "istio-ingressgateway",
        spiffeIDTemplate: `spiffe://${TD}/ns/istio-ingress/sa/istio-ingressgateway`,
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-ingress" } },
        podSelector: { matchLabels: { app: "istio-ingressgateway", istio: "ingressgateway" } },
        workloadSelectorTemplates: ["k8s:ns:istio-ingress", "k8s:sa:istio-ingressgateway"],
      },
    });
  });

  it("every ClusterSPIFFEID of the stack satisfies the CRD", () => {
    const validate = crdValidator("spire/spire-crds-0.6.0-clusterspiffeids.yaml", "v1alpha1");
    const ids = all(run, "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID");
    expect(ids.map((r) => r.name)).toContain("spire-federation-istio-gateway-id");
    for (const r of ids) {
      const ok = validate(r.rawInputs);
      expect(validate.errors ?? [], r.name).toEqual([]);
      expect(ok).toBe(true);
    }
    const gatewayId = byName(run, "spire-federation-istio-gateway-id").rawInputs as any;
    expect(validate({ ...gatewayId, spec: { ...gatewayId.spec, workloadSelectors: [] } })).toBe(
      false,
    );
  });

  it("the mesh-wide PeerAuthentication is STRICT and valid for Istio's CRD", () => {
    const pa = byName(run, "spire-federation-istio-mtls");
    expect(pa.type).toBe("kubernetes:security.istio.io/v1:PeerAuthentication");
    expect(pa.rawInputs).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system" },
      spec: { mtls: { mode: "STRICT" } },
    });
    const model = new PeerAuthentication(pa.rawInputs);
    expect(() => model.validate()).not.toThrow();
    const bad = new PeerAuthentication({
      ...(pa.rawInputs as any),
      spec: { mtls: { mode: "ON" } },
    });
    expect(() => bad.validate()).toThrow(/mode/);
  });

  it("outputs each mesh workload's pod annotations and labels, none for the others", () => {
    const federation = run.outputs.federation as Record<string, Record<string, unknown>>;
    for (const w of ["storefront", "cart", "payments"]) {
      expect(federation[w].istio).toEqual({
        podAnnotations: { "inject.istio.io/templates": "sidecar,spire" },
        podLabels: { "sidecar.istio.io/inject": "true" },
      });
    }
    expect(federation["nightly-report"]).toEqual({});
    expect(run.outputs.istioValues).toBeUndefined();
  });

  it("the deploy's critical path has no unneeded edge", async () => {
    const p = criticalPaths(await planStack("mesh"));
    expect(p.unjustifiedEdges).toEqual([]);
    // SPIRE, then base → istiod, then the gateway (or the PeerAuthentication, as long)
    expect(p.longest.slice(-4, -1)).toEqual([
      "spire-federation-spire-release",
      "spire-federation-istio-base",
      "spire-federation-istio-istiod",
    ]);
    expect(["spire-federation-istio-gateway", "spire-federation-istio-mtls"]).toContain(
      p.longest[p.longest.length - 1],
    );
  });
});

describe("other shapes", () => {
  it("without install: no release, the values to merge as an output, the gateway's identity still", async () => {
    const c = meshConfig({ install: false, ingressGateway: { name: "edge" }, mtls: "STRICT" });
    const run = await runRaw(c);
    const releases = all(run, "kubernetes:helm.sh/v3:Release").map((r) => r.name);
    expect(releases.filter((n) => n.includes("istio"))).toEqual([]);
    expect(run.outputs.istioValues).toEqual({
      istiod: istiodValues({ trustDomain: "test.example.com" }),
      gateway: gatewayValues({ gateway: { namespace: "istio-ingress", name: "edge" } }),
    });
    const id = byName(run, "spire-federation-istio-gateway-id");
    expect((id.rawInputs as any).spec.spiffeIDTemplate).toBe(
      "spiffe://test.example.com/ns/istio-ingress/sa/edge",
    );
    expect(id.dependencies).toEqual([byName(run, "spire-federation-spire-release").urn]);
    expect(byName(run, "spire-federation-istio-mtls").dependencies).toEqual([]);
  });

  it("a revision names istiod, labels the gateway and the workloads' pods", async () => {
    const run = await runRaw(meshConfig({ revision: "canary", ingressGateway: true }));
    expect(byName(run, "spire-federation-istio-istiod").rawInputs).toMatchObject({
      name: "istiod-canary",
      values: { revision: "canary" },
    });
    expect(byName(run, "spire-federation-istio-gateway").rawInputs).toMatchObject({
      values: { revision: "canary" },
    });
    const federation = run.outputs.federation as Record<string, any>;
    expect(federation.api.istio.podLabels).toEqual({
      "sidecar.istio.io/inject": "true",
      "istio.io/rev": "canary",
    });
  });

  it("no gateway, no mtls: base and istiod only; mesh: false gets no login", async () => {
    const c = meshConfig();
    c.workloads[1].istio = { mesh: false };
    const run = await runRaw(c);
    expect(
      run.resources.filter((r) => r.name.startsWith("spire-federation-istio-")).map((r) => r.name),
    ).toEqual(["spire-federation-istio-base", "spire-federation-istio-istiod"]);
    const federation = run.outputs.federation as Record<string, any>;
    expect(Object.keys(federation.api)).toEqual(["istio"]);
    expect(federation.worker).toEqual({});
  });
});
