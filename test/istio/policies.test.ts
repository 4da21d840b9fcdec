/** Istio's CrossGuard rules, each on a compliant and a violating release or stack. */
import { describe, expect, it } from "vitest";
import { TYPES } from "../../components/policies";
import {
  gatewayValues as istioGatewayValues,
  istiodValues,
} from "../../components/federation/istio/index";
import {
  everyRuleTested,
  goodValues,
  release,
  stackViolations,
  violations,
} from "../support/policy-harness";

describe("Istio rules", () => {
  const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";
  const istioRelease = (chart: string, values: unknown, extra: Record<string, unknown> = {}) => ({
    chart,
    name: chart,
    namespace: chart === "gateway" ? "istio-ingress" : "istio-system",
    repositoryOpts: { repo: ISTIO_REPO },
    values,
    ...extra,
  });
  const spire = { type: TYPES.helmRelease, name: "spire", props: release(goodValues()) };
  const gatewayValues = () =>
    istioGatewayValues({ gateway: { namespace: "istio-ingress", name: "gw" } });
  const td = "prod.example.com";

  it("istio-trust-domain", async () => {
    const istiod = (values: unknown) => ({
      type: TYPES.helmRelease,
      name: "istiod",
      props: istioRelease("istiod", values),
    });
    const ok = istiod(istiodValues({ trustDomain: td }));
    expect(await stackViolations("istio-trust-domain", [spire, ok])).toEqual([]);
    // no SPIRE release in the stack (install: false elsewhere): nothing to compare
    expect(await stackViolations("istio-trust-domain", [istiod({})])).toEqual([]);
    expect(await stackViolations("istio-trust-domain", [spire, istiod({})])).toEqual([
      "meshConfig.trustDomain is cluster.local but SPIRE issues SVIDs in prod.example.com: every proxy would reject its peers' certificates; set meshConfig.trustDomain to prod.example.com",
    ]);
    expect(
      await stackViolations("istio-trust-domain", [
        spire,
        istiod(istiodValues({ trustDomain: "other.example.com" })),
      ]),
    ).toEqual([
      "meshConfig.trustDomain is other.example.com but SPIRE issues SVIDs in prod.example.com: every proxy would reject its peers' certificates; set meshConfig.trustDomain to prod.example.com",
    ]);
    // an istiod chart from another repository is not Istio's
    expect(
      await stackViolations("istio-trust-domain", [
        spire,
        istiod({}),
        {
          type: TYPES.helmRelease,
          name: "other",
          props: { ...istioRelease("istiod", {}), repositoryOpts: { repo: "https://x.test" } },
        },
      ]),
    ).toHaveLength(1);
  });

  it("istio-spire-template", async () => {
    const istiod = (values: unknown) =>
      violations("istio-spire-template", TYPES.helmRelease, istioRelease("istiod", values));
    const withTemplate = (spire: unknown) => ({
      sidecarInjectorWebhook: { templates: { spire } },
    });
    expect(await istiod(istiodValues({ trustDomain: td }))).toEqual([]);
    // Istio's documented form (volume and an explicit mount at /run/…) passes too
    expect(
      await istiod(
        withTemplate(
          "spec:\n  containers:\n  - name: istio-proxy\n    volumeMounts:\n    - name: workload-socket\n      mountPath: /run/secrets/workload-spiffe-uds\n      readOnly: true\n  volumes:\n  - name: workload-socket\n    csi:\n      driver: csi.spiffe.io\n      readOnly: true\n",
        ),
      ),
    ).toEqual([]);
    expect(await istiod({ meshConfig: { trustDomain: td } })).toEqual([
      "sidecarInjectorWebhook.templates.spire is not set: pods that ask for it fail injection, the others get istiod's certificates instead of SPIRE's",
    ]);
    expect(await istiod(withTemplate("spec: [unclosed"))).toEqual([
      expect.stringMatching(/^the spire template is not YAML: /),
    ]);
    expect(
      await istiod(
        withTemplate(
          "spec:\n  initContainers:\n  - name: istio-proxy\n    volumeMounts:\n    - name: workload-socket\n      mountPath: /spire\n  volumes:\n  - name: workload-socket\n    emptyDir: {}\n",
        ),
      ),
    ).toEqual([
      "the spire template does not give the workload-socket volume the SPIFFE CSI driver (csi: { driver: csi.spiffe.io, readOnly: true }): istio-agent would find no SPIRE socket and use istiod's CA",
      "the spire template mounts workload-socket into istio-proxy at /spire; istio-agent looks for the socket in /var/run/secrets/workload-spiffe-uds",
    ]);
    expect(
      await istiod(
        withTemplate(
          "spec:\n  volumes:\n  - name: workload-socket\n    csi:\n      driver: csi.spiffe.io\n",
        ),
      ),
    ).toEqual([
      "the spire template's CSI volume is not readOnly: the SPIFFE CSI driver mounts read-only volumes only",
    ]);

    const gateway = (values: unknown) =>
      violations("istio-spire-template", TYPES.helmRelease, istioRelease("gateway", values));
    expect(await gateway(gatewayValues())).toEqual([]);
    expect(
      await gateway({ podAnnotations: { "inject.istio.io/templates": "spire, gateway" } }),
    ).toEqual([]);
    expect(await gateway({})).toEqual([
      'the gateway\'s pods are injected with "gateway" only: their proxy would use istiod\'s certificates, which SPIRE-backed peers reject; set podAnnotations["inject.istio.io/templates"] to "gateway,spire"',
    ]);
    // values unknown during a preview: silent; other charts: not looked at
    expect(
      await violations("istio-spire-template", TYPES.helmRelease, {
        ...istioRelease("gateway", {}),
        values: undefined,
      }),
    ).toEqual([]);
    expect(await violations("istio-spire-template", TYPES.helmRelease, release({}))).toEqual([]);
  });

  it("istio-waits-on-spire", async () => {
    const sid = "spiffe://prod.example.com/ns/istio-ingress/sa/gw";
    const id = (template: string, deps = ["spire"]) => ({
      type: TYPES.clusterSpiffeId,
      name: "id",
      props: { spec: { spiffeIDTemplate: template } },
      deps,
    });
    const base = { type: TYPES.helmRelease, name: "base", props: istioRelease("base", {}) };
    const istiod = (deps: string[]) => ({
      type: TYPES.helmRelease,
      name: "istiod",
      props: istioRelease("istiod", {}),
      deps,
    });
    const gateway = (deps: string[]) => ({
      type: TYPES.helmRelease,
      name: "gateway",
      props: istioRelease("gateway", gatewayValues()),
      deps,
    });
    const good = [
      spire,
      { ...base, deps: ["spire"] },
      istiod(["spire", "base"]),
      id(sid),
      gateway(["istiod", "id"]),
    ];
    expect(await stackViolations("istio-waits-on-spire", good)).toEqual([]);
    expect(
      await stackViolations("istio-waits-on-spire", [
        spire,
        base,
        istiod(["base"]),
        id("spiffe://prod.example.com/ns/istio-ingress/sa/other"),
        gateway(["id"]),
      ]),
    ).toEqual([
      "base does not wait on the spire release: injected pods would mount the SPIFFE CSI driver before it exists",
      "istiod does not wait on the spire release: injected pods would mount the SPIFFE CSI driver before it exists",
      "gateway does not wait on a ClusterSPIFFEID for /ns/istio-ingress/sa/gw: the gateway could start before SPIRE knows its identity",
    ]);
    // the service account: serviceAccount.name, else the gateway's name, else the release name
    const named = (values: unknown) => ({
      type: TYPES.helmRelease,
      name: "gateway",
      props: istioRelease("gateway", values, { name: "rel" }),
      deps: ["id"],
    });
    const ns = "spiffe://prod.example.com/ns/istio-ingress/sa/";
    for (const [values, sa] of [
      [{ serviceAccount: { name: "custom" }, name: "gw" }, "custom"],
      [{ name: "gw" }, "gw"],
      [{}, "rel"],
    ] as const) {
      expect(
        await stackViolations("istio-waits-on-spire", [spire, id(ns + sa), named(values)]),
      ).toEqual([]);
    }
  });
});

everyRuleTested("istio");
