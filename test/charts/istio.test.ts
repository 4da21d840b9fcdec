/**
 * Istio's `base`, `istiod` and `gateway` 1.30.3 releases of the mesh stack (and of gateway
 * shapes no repository stack has), rendered by the real `helm template` with the planned values;
 * the injected pod as Istio builds it: the `spire` template strategic-merged by real `kubectl
 * patch --local` onto what the rendered `sidecar` / `gateway` templates give istio-proxy.
 */
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  SPIFFE_CSI_DRIVER,
  WORKLOAD_SOCKET_DIR,
  WORKLOAD_SOCKET_VOLUME,
} from "../../components/federation/istio/rules";
import { baseConfig } from "../fixtures";
import { configProblems } from "../helpers";
import { kubectl } from "../support/k8s-tools";
import {
  configData,
  fixtureStacks,
  one,
  plan,
  releaseOf,
  releases,
  render,
  stackFile,
  type Rendered,
} from "./render";

const home = path.join(os.tmpdir(), `sf-charts-istio-${process.pid}`);

/** The mesh stack with its gateway block replaced. */
function meshStack(gateway: string): string {
  return stackFile(
    "gw",
    "spire: true",
    `  spire-federation:istio:
    ingressGateway: ${gateway}
  spire-federation:workloads:
    - name: storefront
      namespace: shop
      serviceAccount: storefront
      istio: {}
`,
  );
}

const dir = fixtureStacks({
  "gw-nodeport": meshStack("{ serviceType: NodePort }"),
  "gw-clusterip": meshStack("{ name: edge, serviceType: ClusterIP }"),
  "gw-lb": meshStack("{ serviceType: LoadBalancer }"),
});

async function istiod(): Promise<Rendered[]> {
  return render(releaseOf(await plan("mesh"), "istiod"));
}

/** The injector's config: default templates and every template's text. */
async function injector(): Promise<{
  defaultTemplates: string[];
  templates: Record<string, string>;
}> {
  const cm = one(await istiod(), "ConfigMap", "istio-sidecar-injector");
  return parse(configData(cm, "config")) as {
    defaultTemplates: string[];
    templates: Record<string, string>;
  };
}

/**
 * What an Istio template gives istio-proxy for the workload socket: its mount path and the
 * volume's own fields, read from the template's text (literal YAML there, no template actions).
 */
function socketFromTemplate(template: string): { mountPath: string; volume: string } {
  const mount = new RegExp(`- name: ${WORKLOAD_SOCKET_VOLUME}\\n\\s+mountPath: (\\S+)\\n`).exec(
    template,
  );
  const volume = new RegExp(`- (emptyDir:.*)\\n\\s+name: ${WORKLOAD_SOCKET_VOLUME}\\n`).exec(
    template,
  );
  if (!mount || !volume) throw new Error("the template has no workload-socket mount or volume");
  return { mountPath: mount[1], volume: volume[1] };
}

/** A pod as Istio's template leaves it, then the `spire` template merged on it as Istio does. */
function inject(base: string, spire: string): any {
  const socket = socketFromTemplate(base);
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "app" },
    spec: {
      containers: [
        { name: "app", image: "app" },
        {
          name: "istio-proxy",
          image: "proxyv2",
          volumeMounts: [{ name: WORKLOAD_SOCKET_VOLUME, mountPath: socket.mountPath }],
        },
      ],
      volumes: [{ name: WORKLOAD_SOCKET_VOLUME, ...(parse(socket.volume) as object) }],
    },
  };
  const patch = JSON.stringify(parse(spire));
  const out = kubectl(
    ["patch", "--local", "-f", "-", "--type", "strategic", "-p", patch, "-o", "json"],
    { home, input: JSON.stringify(pod) },
  );
  return JSON.parse(out);
}

describe("mesh stack: istiod, rendered", () => {
  it("the mesh config carries SPIRE's trust domain", async () => {
    const mesh = parse(configData(one(await istiod(), "ConfigMap", "istio"), "mesh"));
    expect(mesh.trustDomain).toBe("mesh.spiffe.example.com");
  });

  it("the injector holds the spire template and applies it by default", async () => {
    const config = await injector();
    expect(config.defaultTemplates).toEqual(["sidecar", "spire"]);
    expect(parse(config.templates.spire)).toEqual({
      spec: {
        volumes: [
          { name: WORKLOAD_SOCKET_VOLUME, csi: { driver: SPIFFE_CSI_DRIVER, readOnly: true } },
        ],
      },
    });
  });

  it.each(["sidecar", "gateway"])(
    "a pod injected with %s,spire: istio-proxy finds SPIRE's socket on the CSI volume",
    async (base) => {
      const { templates } = await injector();
      const pod = inject(templates[base], templates.spire);
      // Istio decodes the merged pod into a corev1.Pod: the template's null emptyDir is no source.
      const volumes = (pod.spec.volumes as Record<string, unknown>[]).map((v) =>
        Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)),
      );
      expect(pod.spec.volumes[0]).toHaveProperty("emptyDir", null);
      expect(volumes).toEqual([
        { name: WORKLOAD_SOCKET_VOLUME, csi: { driver: SPIFFE_CSI_DRIVER, readOnly: true } },
      ]);
      const proxy = pod.spec.containers.find((c: { name: string }) => c.name === "istio-proxy");
      expect(proxy.volumeMounts).toEqual([
        { name: WORKLOAD_SOCKET_VOLUME, mountPath: WORKLOAD_SOCKET_DIR },
      ]);
    },
  );

  it("base: the chart's CRDs and cluster roles, nothing of SPIRE", async () => {
    const objects = render(releaseOf(await plan("mesh"), "base"));
    expect(objects.filter((o) => o.kind === "CustomResourceDefinition").length).toBeGreaterThan(10);
    expect(objects.map((o) => o.text).join("")).not.toContain(SPIFFE_CSI_DRIVER);
  });
});

describe("the ingress gateway, rendered", () => {
  it("mesh stack: pods ask for gateway,spire and carry the labels its ClusterSPIFFEID selects", async () => {
    const p = await plan("mesh");
    const objects = render(releaseOf(p, "gateway"));
    const deployment = one(objects, "Deployment", "istio-ingressgateway") as any;
    const pod = deployment.spec.template;
    expect(pod.metadata.annotations["inject.istio.io/templates"]).toBe("gateway,spire");
    expect(pod.spec.serviceAccountName).toBe("istio-ingressgateway");
    const id = p.resources.find(
      (r) =>
        r.type.endsWith(":ClusterSPIFFEID") &&
        (r.inputs as any).metadata.name ===
          "spire-federation.istio.istio-ingress.istio-ingressgateway",
    )!.inputs as any;
    expect(pod.metadata.labels).toMatchObject(id.spec.podSelector.matchLabels);
    expect(id.spec.workloadSelectorTemplates).toEqual([
      `k8s:ns:${deployment.metadata.namespace}`,
      `k8s:sa:${pod.spec.serviceAccountName}`,
    ]);
  });

  it("by default (mesh stack) and with serviceType LoadBalancer the Service is a LoadBalancer", async () => {
    for (const p of [await plan("mesh"), await plan("gw-lb", dir)]) {
      const svc = one(render(releaseOf(p, "gateway")), "Service", "istio-ingressgateway") as any;
      expect(svc.spec.type).toBe("LoadBalancer");
    }
    // The default plans the values as before: no service key.
    expect(releaseOf(await plan("gw-lb", dir), "gateway").values).not.toHaveProperty("service");
  });

  it.each([
    ["gw-nodeport", "istio-ingressgateway", "NodePort"],
    ["gw-clusterip", "edge", "ClusterIP"],
  ])("%s: the Service %s is a %s: nothing waits for a load balancer", async (stack, name, type) => {
    const p = await plan(stack, dir);
    const svc = one(render(releaseOf(p, "gateway")), "Service", name) as any;
    expect(svc.spec.type).toBe(type);
    expect(releases(p).map((r) => r.chart)).toEqual([
      "spire-crds",
      "cert-manager",
      "spire",
      "base",
      "istiod",
      "gateway",
    ]);
  });

  it("the chart's values.schema.json is enforced: helm refuses a misspelt top-level key", async () => {
    const r = releaseOf(await plan("gw-nodeport", dir), "gateway");
    expect(() => render({ ...r, values: { ...r.values, servce: { type: "NodePort" } } })).toThrow(
      /servce/,
    );
  });
});

describe("istio.ingressGateway.serviceType", () => {
  it.each([
    ["Nodeport", "must be LoadBalancer, NodePort or ClusterIP"],
    ["", "must be LoadBalancer, NodePort or ClusterIP"],
  ])("%j: %s", (serviceType, message) => {
    const raw = { ...baseConfig(), istio: { ingressGateway: { serviceType } } };
    expect(configProblems(raw)).toEqual([
      `spire-federation:istio.ingressGateway.serviceType: ${message}`,
    ]);
  });
});
