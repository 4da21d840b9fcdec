/**
 * Workload SPIFFE IDs: the chart's default ClusterSPIFFEID issues `/ns/<ns>/sa/<sa>` as a fallback,
 * and a non-fallback ClusterSPIFFEID replaces it for every pod it selects (spire-controller-manager
 * `pkg/spireentry/reconciler.go`). So a ClusterSPIFFEID exists only for a custom path, selects by
 * labels, and no pod can be selected by two of them.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../components/config";
import { spireWorkloadProblems, type SpireWorkload } from "../components/spire";
import type { ProgramRun } from "../tools/harness";
import { baseConfig } from "./fixtures";
import { all, configProblems, find, runRaw, runStackFile } from "./helpers";

const CSID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";

/** The namespace and labels one ClusterSPIFFEID selects pods by, or why it selects too much. */
function selection(spec: any): { namespace: string; labels: Record<string, string> } | string {
  const ns = spec.namespaceSelector;
  const pods = spec.podSelector;
  if (ns?.matchExpressions !== undefined || pods?.matchExpressions !== undefined) {
    return "uses matchExpressions";
  }
  const nsLabels = Object.entries(ns?.matchLabels ?? {});
  if (nsLabels.length !== 1 || nsLabels[0][0] !== "kubernetes.io/metadata.name") {
    return "does not name exactly one namespace";
  }
  const labels = (pods?.matchLabels ?? {}) as Record<string, string>;
  if (Object.keys(labels).length === 0) return "selects every pod of its namespace";
  return { namespace: String(nsLabels[0][1]), labels };
}

/** Pairs of ClusterSPIFFEIDs that one pod can match, and ClusterSPIFFEIDs that select too much. */
function selectionProblems(run: ProgramRun): string[] {
  const problems: string[] = [];
  const ids = all(run, CSID).map((r) => ({ name: r.name, sel: selection(r.rawInputs.spec) }));
  ids.forEach((a, i) => {
    if (typeof a.sel === "string") {
      problems.push(`${a.name} ${a.sel}`);
      return;
    }
    for (const b of ids.slice(i + 1)) {
      if (typeof b.sel === "string" || b.sel.namespace !== a.sel.namespace) continue;
      const al = a.sel.labels;
      const bl = b.sel.labels;
      // A pod can carry both label sets unless some key is required with two different values.
      if (Object.keys(al).every((k) => !(k in bl) || bl[k] === al[k])) {
        problems.push(`${a.name} and ${b.name} can select the same pod`);
      }
    }
  });
  return problems;
}

/** baseConfig (api and worker in namespace shop, default paths) plus two custom-path workloads. */
function withCustomPaths(): Record<string, any> {
  const raw = baseConfig() as Record<string, any>;
  raw.workloads.push(
    {
      name: "batch",
      namespace: "shop",
      serviceAccount: "jobs",
      spiffeIdPath: "/jobs/batch",
      podLabels: { app: "jobs", job: "batch" },
    },
    {
      name: "report",
      namespace: "shop",
      serviceAccount: "jobs",
      spiffeIdPath: "/jobs/report",
      podLabels: { app: "jobs", job: "report" },
    },
  );
  return raw;
}

describe("ClusterSPIFFEIDs in the plan", () => {
  it("no two ClusterSPIFFEIDs can select the same pod, and none selects a whole namespace", async () => {
    const runs: [string, ProgramRun][] = [
      ["dev", await runStackFile("dev")],
      ["prod", await runStackFile("prod")],
      ["base config", await runRaw(baseConfig())],
      ["custom paths", await runRaw(withCustomPaths())],
    ];
    for (const [label, run] of runs) {
      expect(selectionProblems(run), label).toEqual([]);
    }
    // The check itself sees an overlap and an empty selector.
    const fake = (name: string, labels: Record<string, string>) => ({
      name,
      type: CSID,
      rawInputs: {
        spec: {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } },
          podSelector: { matchLabels: labels },
        },
      },
    });
    const bad = {
      resources: [fake("a", { app: "x" }), fake("b", { app: "x", tier: "y" }), fake("c", {})],
    } as unknown as ProgramRun;
    expect(selectionProblems(bad)).toEqual([
      "a and b can select the same pod",
      "c selects every pod of its namespace",
    ]);
  });

  it("a workload without a custom path gets no ClusterSPIFFEID: its ID comes from the chart's default", async () => {
    const base = await runRaw(baseConfig());
    expect(all(base, CSID)).toEqual([]);
    const prod = await runStackFile("prod");
    expect(
      all(prod, CSID).map(
        (r) => (r.rawInputs.spec as { spiffeIDTemplate: string }).spiffeIDTemplate,
      ),
    ).toEqual(["spiffe://prod.spiffe.example.com/workloads/batch-reports"]);
    // payments-api, orders-worker and ledger get /ns/<ns>/sa/<sa> from the chart's default,
    // which the release enables as a fallback in the controller manager's class.
    const cm = (find(prod, "kubernetes:helm.sh/v3:Release", "spire-release").rawInputs as any)
      .values["spire-server"].controllerManager;
    expect(cm).toMatchObject({
      enabled: true,
      className: "spire-federation",
      identities: { clusterSPIFFEIDs: { default: { enabled: true, fallback: true } } },
    });
    const custom = await runRaw(withCustomPaths());
    expect(all(custom, CSID).map((r) => r.name)).toEqual([
      "spire-federation-spire-id-batch",
      "spire-federation-spire-id-report",
    ]);
  });

  it("a spiffeIdPath equal to the default path is not custom: no ClusterSPIFFEID, no labels needed", async () => {
    const raw = baseConfig() as Record<string, any>;
    raw.workloads[0].spiffeIdPath = "/ns/shop/sa/api";
    const run = await runRaw(raw);
    expect(all(run, CSID)).toEqual([]);
  });
});

describe("config rules of custom-path workloads", () => {
  it("a custom path needs podLabels (absent or empty)", () => {
    for (const labels of [undefined, {}]) {
      const raw = baseConfig() as Record<string, any>;
      raw.workloads[0].spiffeIdPath = "/api";
      if (labels !== undefined) raw.workloads[0].podLabels = labels;
      expect(configProblems(raw)).toEqual([
        'spire-federation:workloads[0].podLabels: required with a custom spiffeIdPath; a ClusterSPIFFEID selects pods by labels, and without them it would select every pod in namespace "shop" and replace their default IDs: set labels that only this workload\'s pods carry',
      ]);
    }
  });

  it("two custom-path workloads whose labels one pod can match are rejected", () => {
    const raw = withCustomPaths();
    raw.workloads[3].podLabels = { app: "jobs" }; // a pod with app=jobs,job=batch matches both
    expect(configProblems(raw)).toEqual([
      'spire-federation:workloads[3].podLabels: overlaps workloads[2].podLabels ("batch") in namespace "shop"; a pod that matches both would be registered under both custom SPIFFE IDs: give one of them a label value the other does not match',
    ]);
  });

  it("disjoint labels, or the same labels in another namespace, are accepted", () => {
    expect(() => parseStackConfig(withCustomPaths())).not.toThrow();
    const raw = withCustomPaths();
    raw.workloads[3].namespace = "reports";
    raw.workloads[3].podLabels = { app: "jobs", job: "batch" };
    expect(() => parseStackConfig(raw)).not.toThrow();
  });
});

describe("the Spire component refuses unsafe workloads given directly", () => {
  const w = (name: string, spiffeId: string, podLabels: Record<string, string>): SpireWorkload => ({
    name,
    namespace: "shop",
    serviceAccount: name,
    spiffeId,
    podLabels,
  });

  it("names a custom ID without labels and an overlap; the default ID needs nothing", () => {
    expect(
      spireWorkloadProblems(
        [
          w("api", "spiffe://t.example.com/ns/shop/sa/api", {}),
          w("a", "spiffe://t.example.com/a", {}),
          w("b", "spiffe://t.example.com/b", { app: "b" }),
          w("c", "spiffe://t.example.com/c", { app: "c" }),
        ],
        "t.example.com",
      ),
    ).toEqual([
      "workload a has a custom SPIFFE ID and no pod labels; its ClusterSPIFFEID would select every pod in namespace shop",
      "workloads a and b select the same pods",
      "workloads a and c select the same pods",
    ]);
  });
});
