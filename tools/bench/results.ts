/** What the benchmark measured, and the arithmetic on it (ratios, per-resource growth). */
import { ok, round, type Cost } from "./measure";

/** One stack's plan. */
export interface StackResult {
  /** Stack name. */
  stack: string;
  /** Resources in its plan. */
  resources: number;
  /** Median cost of the plan CLI. */
  cost: Cost;
  /** Longest chain of the dependency graph. */
  criticalPath: string[];
  /** Longest chain the data and the required orderings need. */
  requiredPath: string[];
  /** Edges neither data nor a required ordering explains. */
  unjustifiedEdges: string[];
}

/** One workload count: package and floor. */
export interface ScaleResult {
  /** Workloads in the generated stack. */
  workloads: number;
  /** Resources registered (root stack included), the same for both. */
  resources: number;
  /** Runs the medians come from. */
  runs: number;
  /** The plan CLI. */
  package: Cost | { failed: string };
  /** The floor program. */
  floor: Cost | { failed: string };
  /** package / floor CPU time. */
  cpuRatio?: number;
  /** package / floor peak memory. */
  memoryRatio?: number;
  /** Package CPU milliseconds per resource. */
  cpuMsPerResource?: number;
  /** Floor CPU milliseconds per resource. */
  floorCpuMsPerResource?: number;
}

/** How the cost per resource grows between two workload counts. */
export interface Growth {
  /** From this workload count… */
  from: number;
  /** …to this one. */
  to: number;
  /** Package CPU per resource at `to` ÷ at `from` (target ≤ 1.3). */
  cpuPerResource: number;
  /** Package CPU per resource added between them (marginal), milliseconds. */
  marginalCpuMsPerResource: number;
  /** Package peak memory per resource at `to` ÷ at `from`. */
  memoryPerResource: number;
  /** The same growth for the floor. */
  floorCpuPerResource: number;
}

/** What `npm run bench` writes to bench/results.json. */
export interface BenchResults {
  /** Where it ran. */
  machine: { cpus: number; memoryGb: number; node: string };
  /** Runs per measurement (fewer at 1000 and more workloads). */
  runs: number;
  /** Per stack. */
  stacks: StackResult[];
  /** Per workload count. */
  scale: ScaleResult[];
  /** Per-resource growth between the two largest workload counts. */
  growth?: Growth;
}

/** Ratios and per-resource costs of one workload count. */
export function scaleResult(
  workloads: number,
  resources: number,
  runs: number,
  pkg: Cost | { failed: string },
  floor: Cost | { failed: string },
): ScaleResult {
  const r: ScaleResult = { workloads, resources, runs, package: pkg, floor };
  if (ok(pkg)) r.cpuMsPerResource = round((pkg.cpuSeconds * 1000) / resources, 3);
  if (ok(floor)) r.floorCpuMsPerResource = round((floor.cpuSeconds * 1000) / resources, 3);
  if (ok(pkg) && ok(floor)) {
    r.cpuRatio = round(pkg.cpuSeconds / floor.cpuSeconds, 2);
    r.memoryRatio = round(pkg.peakRssMb / floor.peakRssMb, 2);
  }
  return r;
}

/** Per-resource growth from `a` to `b` (both measured), or undefined. */
export function growth(a: ScaleResult, b: ScaleResult): Growth | undefined {
  if (!ok(a.package) || !ok(b.package) || !ok(a.floor) || !ok(b.floor)) return undefined;
  const per = (c: Cost, n: number) => c.cpuSeconds / n;
  const mem = (c: Cost, n: number) => c.peakRssMb / n;
  return {
    from: a.workloads,
    to: b.workloads,
    cpuPerResource: round(per(b.package, b.resources) / per(a.package, a.resources), 2),
    marginalCpuMsPerResource: round(
      ((b.package.cpuSeconds - a.package.cpuSeconds) * 1000) / (b.resources - a.resources),
      3,
    ),
    memoryPerResource: round(mem(b.package, b.resources) / mem(a.package, a.resources), 2),
    floorCpuPerResource: round(per(b.floor, b.resources) / per(a.floor, a.resources), 2),
  };
}
