/**
 * When no files are written: workloads whose grants need none, stacks whose workloads are in the
 * mesh or on nodes outside Kubernetes, and `workloadFiles.enabled: false`.
 */
import { describe, expect, it } from "vitest";
import { baseConfig } from "../fixtures";
import { previewStackFile, runRaw } from "../helpers";
import { CONFIG_MAP, resources } from "./files-check";

describe("workloads whose grants need no files", () => {
  it("get no ConfigMap and no patch", async () => {
    const raw = baseConfig() as Record<string, any>;
    raw.vault = { policies: { read: 'path "secret/*" { capabilities = ["read"] }' } };
    raw.workloads[1].vault = { policies: ["read"] };
    const run = await runRaw(raw, { preview: true });
    expect(Object.keys(run.outputs.workloadFiles as object)).toEqual(["worker"]);
    expect(resources(run, CONFIG_MAP).map((r) => (r.rawInputs.metadata as any).name)).toEqual([
      "worker-spiffe",
    ]);
  });

  it.each(["mesh", "edge"])(
    "the %s stack's workloads (Istio only, no grant, or on nodes outside Kubernetes) get none",
    async (stack) => {
      const run = await previewStackFile(stack);
      expect(run.resources.filter((r) => r.type.includes("WorkloadFiles"))).toEqual([]);
      expect(run.outputs.workloadFiles).toBeUndefined();
    },
  );
});

describe("workloadFiles.enabled: false", () => {
  it("registers no component and no output", async () => {
    const run = await previewStackFile("dev", (config) => {
      config["spire-federation:workloadFiles"] = JSON.stringify({ enabled: false });
    });
    expect(run.resources.filter((r) => r.type.includes("workload"))).toEqual([]);
    expect(resources(run, CONFIG_MAP)).toEqual([]);
    expect(run.outputs.workloadFiles).toBeUndefined();
  });
});
