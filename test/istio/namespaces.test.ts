/**
 * Istio, issue 17 item 18: mesh workloads and the ingress gateway are refused in namespaces
 * where Istio never injects or SPIRE never issues an identity (the proxy would wait for ever).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  gatewayValues,
  ISTIO_IGNORED_NAMESPACES,
  ISTIO_REPO,
  istioPolicies,
  meshNamespaceProblem,
  SPIRE_IGNORED_NAMESPACE_PATTERNS,
  SPIRE_OWN_NAMESPACES,
} from "../../components/federation/istio/index";
import { chartDefaults, chartValueKeys } from "../helpers";
import { meshConfig, problemsOf } from "../support/stack-fixtures";

const P = "spire-federation:";
const NEVER_INJECTED = (ns: string) =>
  `is ${ns}, which Istio never injects (istiod skips kube-system, kube-public, kube-node-lease, local-path-storage): its pods would run without a proxy; use a namespace of your own`;
const SPIRE_OWN = (ns: string) =>
  `is ${ns}, SPIRE's own namespace: the chart's default ClusterSPIFFEID selects no pod there, so the proxy would wait on SPIRE for an identity and never become ready; use a namespace of your own`;
const IGNORED = (ns: string, pattern: string) =>
  `is ${ns}, which SPIRE's controller manager ignores (ignoreNamespaces pattern ${JSON.stringify(pattern)}, matched anywhere in the name): it registers no pod there, so the proxy would wait on SPIRE for an identity and never become ready; use another namespace`;

/** meshConfig with workloads[0] (a mesh workload) in `ns`. */
function meshWorkloadIn(ns: string) {
  const c = meshConfig();
  c.workloads[0].namespace = ns;
  return c;
}

describe("mesh workloads' namespaces", () => {
  it.each([
    ["kube-system", NEVER_INJECTED("kube-system")],
    ["kube-public", NEVER_INJECTED("kube-public")],
    ["kube-node-lease", NEVER_INJECTED("kube-node-lease")],
    ["local-path-storage", NEVER_INJECTED("local-path-storage")],
    ["spire-server", SPIRE_OWN("spire-server")],
    ["spire-system", SPIRE_OWN("spire-system")],
    ["openshift-monitoring", IGNORED("openshift-monitoring", "openshift-.*")],
    ["ibm-apps", IGNORED("ibm-apps", "ibm-.*")],
    // Unanchored, as the controller manager matches (regexp.MatchString).
    ["team-ibm-apps", IGNORED("team-ibm-apps", "ibm-.*")],
    ["my-kube-system-tools", IGNORED("my-kube-system-tools", "kube-system")],
  ])("refuses %s", (ns, message) => {
    expect(problemsOf(meshWorkloadIn(ns))).toEqual([`${P}workloads[0].namespace: ${message}`]);
  });

  it("accepts istio-system and ordinary namespaces", () => {
    for (const ns of ["istio-system", "shop", "ibm", "openshift", "spire-servers-app"]) {
      expect(() => parseStackConfig(meshWorkloadIn(ns)), ns).not.toThrow();
    }
  });

  it("leaves workloads outside the mesh alone", () => {
    const c = meshConfig();
    c.workloads[0].namespace = "spire-system";
    c.workloads[0].istio = { mesh: false };
    delete c.workloads[1].istio;
    c.workloads[1].namespace = "team-ibm-apps";
    expect(() => parseStackConfig(c)).not.toThrow();
  });
});

describe("the ingress gateway's namespace", () => {
  it.each([
    ["kube-system", NEVER_INJECTED("kube-system")],
    ["local-path-storage", NEVER_INJECTED("local-path-storage")],
    ["openshift-ingress", IGNORED("openshift-ingress", "openshift-.*")],
  ])("refuses %s", (ns, message) => {
    const c = meshConfig({ ingressGateway: { namespace: ns } });
    expect(problemsOf(c)).toEqual([`${P}istio.ingressGateway.namespace: ${message}`]);
  });

  it("accepts SPIRE's namespaces: the gateway's own ClusterSPIFFEID selects them", () => {
    expect(meshNamespaceProblem("spire-server", { gateway: true })).toBeUndefined();
    const c = meshConfig({ ingressGateway: { namespace: "spire-server" } });
    expect(() => parseStackConfig(c)).not.toThrow();
  });
});

describe("the lists, against their sources", () => {
  it("SPIRE's own namespaces are the chart's", () => {
    const d = chartDefaults();
    expect([...SPIRE_OWN_NAMESPACES].sort()).toEqual(
      [d.get("global.spire.namespaces.server.name"), d.get("global.spire.namespaces.system.name")]
        .map(String)
        .sort(),
    );
    expect(chartValueKeys().get("spire-server.controllerManager.ignoreNamespaces")).toBe("list");
  });

  it("the controller manager's patterns compile and Istio's list is exact-match", () => {
    for (const p of SPIRE_IGNORED_NAMESPACE_PATTERNS) expect(() => new RegExp(p)).not.toThrow();
    expect(ISTIO_IGNORED_NAMESPACES).toEqual([
      "kube-system",
      "kube-public",
      "kube-node-lease",
      "local-path-storage",
    ]);
    // kube-node-lease is Istio's only: the controller manager still registers pods there.
    expect(meshNamespaceProblem("a-kube-node-lease")).toBeUndefined();
    // A stack that overrides the patterns is checked against its own.
    expect(meshNamespaceProblem("team-ibm-apps", { ignorePatterns: [] })).toBeUndefined();
  });
});

describe("policy istio-spire-template: the gateway release's namespace", () => {
  const rule = istioPolicies.find((p) => p.name === "istio-spire-template");
  async function violations(namespace: string): Promise<string[]> {
    const messages: string[] = [];
    const props = {
      chart: "gateway",
      repositoryOpts: { repo: ISTIO_REPO },
      namespace,
      values: gatewayValues({ gateway: { namespace, name: "istio-ingressgateway" } }),
    };
    const args = { type: "kubernetes:helm.sh/v3:Release", props, urn: "urn:x", name: "gw" };
    for (const v of [(rule as ResourceValidationPolicy).validateResource].flat()) {
      await v?.(args as never, (m) => messages.push(m));
    }
    return messages;
  }

  it("passes the default gateway namespace", async () => {
    expect(await violations("istio-ingress")).toEqual([]);
  });

  it("reports a namespace Istio never injects or SPIRE ignores", async () => {
    expect(await violations("kube-system")).toEqual([
      `the gateway's namespace ${NEVER_INJECTED("kube-system")}`,
    ]);
    expect(await violations("ibm-edge")).toEqual([
      `the gateway's namespace ${IGNORED("ibm-edge", "ibm-.*")}`,
    ]);
  });
});
