/** Which ClusterSPIFFEID gives each pod in the mesh its SVID (spire-controller-manager's rules). */
import { describe, expect, it } from "vitest";
import { meshPodMetadata } from "../../components/federation/istio/index";
import type { ProgramRun } from "../../tools/harness";
import { all, runStackFile } from "../helpers";

// ---------------------------------------------------------------------------------------------
// Identities: which ClusterSPIFFEID gives each pod its SVID

type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};

/** Kubernetes label-selector semantics (an absent selector selects everything). */
function matches(sel: Selector | undefined, labels: Record<string, string>): boolean {
  if (sel === undefined) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok =
      e.operator === "In"
        ? has && (e.values ?? []).includes(labels[e.key])
        : e.operator === "NotIn"
          ? !has || !(e.values ?? []).includes(labels[e.key])
          : e.operator === "Exists"
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

interface Pod {
  what: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
}

/** The chart's default ClusterSPIFFEID: a fallback for every namespace but SPIRE's own. */
const CHART_DEFAULT = {
  spiffeIDTemplate:
    "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
  namespaceSelector: {
    matchExpressions: [
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["spire-mgmt", "spire-server", "spire-system"],
      },
    ],
  },
};

function render(template: string, td: string, pod: Pod): string {
  return template
    .replace("{{ .TrustDomain }}", td)
    .replace("{{ .PodMeta.Namespace }}", pod.namespace)
    .replace("{{ .PodSpec.ServiceAccountName }}", pod.serviceAccount);
}

/** For each pod: the non-fallback ClusterSPIFFEIDs that select it, and the SPIFFE ID it gets. */
function identities(run: ProgramRun, td: string, pods: Pod[]) {
  const ids = all(run, "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID").map(
    (r) => [r.name, (r.rawInputs as any).spec] as const,
  );
  return pods.map((pod) => {
    const nsLabels = { "kubernetes.io/metadata.name": pod.namespace };
    const selecting = ids.filter(
      ([, spec]) =>
        matches(spec.namespaceSelector, nsLabels) && matches(spec.podSelector, pod.labels),
    );
    const attestable = selecting.every(([, spec]) =>
      (spec.workloadSelectorTemplates ?? []).every(
        (s: string) =>
          s === `k8s:ns:${pod.namespace}` ||
          s === `k8s:sa:${pod.serviceAccount}` ||
          !/^k8s:(ns|sa):/.test(s),
      ),
    );
    const spec =
      selecting.length > 0
        ? selecting[0][1]
        : matches(CHART_DEFAULT.namespaceSelector, nsLabels)
          ? CHART_DEFAULT
          : undefined;
    return {
      pod: pod.what,
      selectedBy: selecting.map(([name]) => name),
      attestable,
      spiffeId: spec && render(spec.spiffeIDTemplate, td, pod),
    };
  });
}

describe("mesh identities", () => {
  it("every pod is selected by at most one ClusterSPIFFEID and mesh pods get the Istio form", async () => {
    const run = await runStackFile("mesh");
    const td = "mesh.spiffe.example.com";
    const meta = meshPodMetadata();
    const mesh = (what: string, namespace: string, sa: string, labels: Record<string, string>) => ({
      what,
      namespace,
      serviceAccount: sa,
      labels: { ...labels, ...meta.podLabels },
    });
    const pods: Pod[] = [
      mesh("storefront", "shop", "storefront", { app: "storefront" }),
      mesh("cart", "shop", "cart", { app: "cart" }),
      mesh("payments", "payments", "payments", {}),
      {
        what: "nightly-report",
        namespace: "reports",
        serviceAccount: "reporter",
        labels: { app: "nightly-report" },
      },
      {
        what: "gateway",
        namespace: "istio-ingress",
        serviceAccount: "istio-ingressgateway",
        labels: {
          app: "istio-ingressgateway",
          istio: "ingressgateway",
          "sidecar.istio.io/inject": "true",
        },
      },
      // a pod nobody listed, injected in a mesh namespace: the chart's fallback
      mesh("unlisted", "shop", "other", { app: "other" }),
    ];
    const got = identities(run, td, pods);
    for (const g of got) {
      expect(g.selectedBy.length, `${g.pod}: ${g.selectedBy.join(", ")}`).toBeLessThanOrEqual(1);
      expect(g.attestable, g.pod).toBe(true);
    }
    const idOf = (p: string) => got.find((g) => g.pod === p)?.spiffeId;
    expect(idOf("storefront")).toBe(`spiffe://${td}/ns/shop/sa/storefront`);
    expect(idOf("cart")).toBe(`spiffe://${td}/ns/shop/sa/cart`);
    expect(idOf("payments")).toBe(`spiffe://${td}/ns/payments/sa/payments`);
    expect(idOf("unlisted")).toBe(`spiffe://${td}/ns/shop/sa/other`);
    expect(idOf("nightly-report")).toBe(`spiffe://${td}/batch/nightly-report`);
    const gateway = got.find((g) => g.pod === "gateway");
    expect(gateway).toEqual({
      pod: "gateway",
      selectedBy: ["spire-federation-istio-gateway-id"],
      attestable: true,
      spiffeId: `spiffe://${td}/ns/istio-ingress/sa/istio-ingressgateway`,
    });
  });

  it("the selection model sees two ClusterSPIFFEIDs on one pod", () => {
    const fake = {
      resources: ["a", "b"].map((name) => ({
        name,
        type: "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID",
        rawInputs: { spec: { spiffeIDTemplate: `spiffe://t/${name}`, podSelector: {} } },
      })),
      outputs: {},
    } as unknown as ProgramRun;
    const [g] = identities(fake, "t", [
      { what: "p", namespace: "n", serviceAccount: "s", labels: {} },
    ]);
    expect(g.selectedBy).toEqual(["a", "b"]);
  });
});
