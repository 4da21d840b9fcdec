/**
 * The benchmark's floor registers what the package registers (URNs, parents, kinds, data edges,
 * explicit edges, secret inputs) with trivial classes; the benchmark's arithmetic and options.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../tools/harness";
import {
  generatedStack,
  growth,
  parseBenchArgs,
  PLAN_NODE_OPTIONS,
  readmeTable,
  scaleResult,
  type BenchResults,
} from "../../tools/bench";
import { loadStackConfig } from "../../tools/stack-config";
import { prepareProgram, runProgram } from "../compiled";
import { ROOT } from "../helpers";

const load = createRequire(__filename);
const { shapeOf, holdsSecret } = load(
  path.join(ROOT, "bin", "bench", "shape.js"),
) as typeof import("../../bench/shape");
const { registerShape } = load(
  path.join(ROOT, "bin", "bench", "floor.js"),
) as typeof import("../../bench/floor");

/** What the floor must reproduce of each resource. */
function outline(resources: PlannedResource[]) {
  return resources
    .map((r) => ({
      urn: r.urn,
      parent: r.parent,
      custom: r.custom,
      dependencies: [...r.dependencies].sort(),
      edges: Object.fromEntries(
        Object.entries(r.propertyDependencies)
          .filter(([, urns]) => urns.length > 0)
          .map(([k, urns]) => [k, [...urns].sort()]),
      ),
      secrets: Object.keys(r.inputs)
        .filter((k) => holdsSecret(r.inputs[k]))
        .sort(),
    }))
    .sort((a, b) => a.urn.localeCompare(b.urn));
}

describe("the floor (bench/floor.ts)", () => {
  let pkg: PlannedResource[];
  let floor: PlannedResource[];

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "floor-test-"));
    writeFileSync(path.join(dir, "Pulumi.gen-3.yaml"), generatedStack(3));
    const { config, secretKeys } = loadStackConfig(ROOT, "gen-3", dir);
    const options = { project: "spire-federation", stack: "gen-3", preview: true };
    pkg = (await runProgram(prepareProgram, { ...options, config, secretKeys })).resources;
    const shape = shapeOf("spire-federation", "gen-3", pkg);
    floor = (
      await runProgram(
        () => () => {
          registerShape(shape);
          return {};
        },
        { ...options, config: {} },
      )
    ).resources;
  });

  it("registers the package's resources, parents, kinds, edges and secret inputs", () => {
    expect(floor).toHaveLength(pkg.length);
    expect(outline(floor)).toEqual(outline(pkg));
  });

  it("carries the edges and secrets that matter, with nothing else as input", () => {
    const byName = (rs: PlannedResource[], n: string) => rs.find((r) => r.name === n)!;
    const role = "spire-federation-vault-role-svc-0";
    expect(Object.keys(byName(pkg, role).inputs).length).toBeGreaterThan(2);
    expect(Object.keys(byName(floor, role).inputs).sort()).toEqual(["backend", "tokenPolicies"]);
    const identity = "spire-federation-openziti-identity-svc-0";
    expect(byName(floor, identity).inputs.connection).toBe("[secret]");
    // dependsOn without a data edge: the readiness gate waits on the SPIRE release
    const gate = byName(floor, "spire-federation-vault-oidc-ready");
    expect(gate.dependencies).toEqual([byName(floor, "spire-federation-spire-release").urn]);
    expect(gate.inputs).toEqual({});
  });

  it("refuses a shape that refers to a later resource", () => {
    const p = (name: string, parent: string | null): PlannedResource => ({
      urn: `urn:${name}`,
      type: "x:y:Z",
      name,
      parent,
      custom: true,
      inputs: {},
      dependencies: [],
      propertyDependencies: {},
      rawInputs: {},
      options: {} as PlannedResource["options"],
    });
    expect(() => shapeOf("p", "s", [p("child", "urn:parent"), p("parent", null)])).toThrow(
      "child refers to a later resource",
    );
  });
});

describe("the benchmark's arithmetic and options", () => {
  const cost = (cpuSeconds: number, peakRssMb: number) => ({ seconds: 1, cpuSeconds, peakRssMb });

  it("computes ratios per workload count and the per-resource growth", () => {
    const a = scaleResult(1000, 7000, 3, cost(14, 1000), cost(3.5, 500));
    const b = scaleResult(3000, 21000, 1, cost(63, 2400), cost(10.5, 1500));
    expect(a).toMatchObject({ cpuRatio: 4, memoryRatio: 2, cpuMsPerResource: 2 });
    expect(b).toMatchObject({ cpuRatio: 6, memoryRatio: 1.6, floorCpuMsPerResource: 0.5 });
    expect(growth(a, b)).toEqual({
      from: 1000,
      to: 3000,
      cpuPerResource: 1.5,
      marginalCpuMsPerResource: 3.5,
      memoryPerResource: 0.8,
      floorCpuPerResource: 1,
    });
  });

  it("reports a failed run without ratios or growth", () => {
    const failed = { failed: "FATAL ERROR: Reached heap limit" };
    const a = scaleResult(1000, 7000, 3, cost(14, 1000), cost(3.5, 500));
    const b = scaleResult(3000, 21000, 1, failed, cost(10.5, 1500));
    expect(b.cpuRatio).toBeUndefined();
    expect(growth(a, b)).toBeUndefined();
    const results: BenchResults = {
      machine: { cpus: 2, memoryGb: 8, node: "v24.0.0" },
      runs: 3,
      stacks: [],
      scale: [a, b],
    };
    expect(readmeTable(results)).toContain(
      "| 3000 | 21000 | failed: FATAL ERROR: Reached heap limit | 10.5 s / 1500 MB | – | – |",
    );
    expect(readmeTable(results)).toContain(
      "| 1000 | 7000 | 14.0 s / 1000 MB | 3.5 s / 500 MB | 4.00×, 2.00× | 2.00 ms |",
    );
  });

  it("measures the plan with the Node.js options npm run plan uses", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.plan).toContain(`node ${PLAN_NODE_OPTIONS.join(" ")} bin/tools/plan.js`);
  });

  it("leaves bench/README.md alone unless asked", () => {
    expect(parseBenchArgs([]).updateReadme).toBe(false);
    expect(parseBenchArgs(["--update-readme"]).updateReadme).toBe(true);
    expect(parseBenchArgs(["--runs", "2", "--workloads", "10,20"])).toEqual({
      updateReadme: false,
      updateStacks: false,
      runs: 2,
      workloads: [10, 20],
    });
    expect(() => parseBenchArgs(["--readme"])).toThrow("unexpected argument --readme");
    expect(() => parseBenchArgs(["--workloads", "ten"])).toThrow("unexpected argument --workloads");
  });
});
