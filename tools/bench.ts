/**
 * The benchmark: `npm run bench [-- --update-readme | --update-stacks] [--runs N]
 * [--workloads 100,1000,3000]` (after `npm ci`). Every measurement runs in a process of its own
 * (tools/bench/measure.ts).
 *
 * - each stack in stacks/: plan wall time, CPU time and peak memory of the compiled CLI (median
 *   of several runs), and the deploy critical path (tools/bench/critical-path.ts);
 * - scale: generated stacks with 100, 1000 and 3000 workloads, each with Vault, Azure, Google
 *   Cloud and OpenZiti grants, planned by the package (the CLI, as `npm run plan` runs it) and by
 *   the floor (bench/floor.ts: the same resources, parents, edges and secret inputs registered
 *   with trivial resource classes under the same mocks): CPU and memory of each, their ratio,
 *   and how the cost per resource grows from 1000 to 3000 workloads.
 *
 * It writes the results to a file in the system's temporary folder and leaves every tracked file
 * alone, unless asked: `--update-readme` writes bench/results.json and rewrites the `bench` and
 * `stacks` regions of bench/README.md; `--update-stacks` measures nothing and only regenerates the
 * `stacks` region (resources and critical paths, from one plan of each stack).
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, totalmem } from "node:os";
import * as path from "node:path";
import type { Shape } from "../bench/shape";
import { criticalPaths } from "./bench/critical-path";
import { generatedStack } from "./bench/generated-stack";
import { BIN, measure, medianCost, ok, round, type Cost } from "./bench/measure";
import { formatted, readmeTable, stackTable, writeRegions } from "./bench/readme";
import {
  growth,
  scaleResult,
  type BenchResults,
  type ScaleResult,
  type StackResult,
} from "./bench/results";
import { planStack, projectRoot, type Plan } from "./plan";

export { criticalPaths, longestChain } from "./bench/critical-path";
export { generatedStack } from "./bench/generated-stack";
export { measure, PLAN_NODE_OPTIONS, type Cost } from "./bench/measure";
export { readmeTable, stackTable } from "./bench/readme";
export * from "./bench/results";

const ROOT = projectRoot();

/** Command-line options of the benchmark. */
export interface BenchOptions {
  /** Write bench/results.json and the `bench` and `stacks` regions of bench/README.md. */
  updateReadme: boolean;
  /** Only regenerate the `stacks` region of bench/README.md; measure nothing. */
  updateStacks: boolean;
  /** Runs per measurement (the median counts); fewer at 1000 and 3000 workloads. */
  runs: number;
  /** Workload counts of the scale runs. */
  workloads: number[];
}

const BENCH_USAGE =
  "usage: npm run bench -- [--update-readme | --update-stacks] [--runs N] [--workloads 100,1000,3000]";

/** Parses the command line; throws with the usage on anything unexpected. */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    updateReadme: false,
    updateStacks: false,
    runs: Number(process.env.BENCH_RUNS ?? 3),
    workloads: [100, 1000, 3000],
  };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--update-readme") {
      options.updateReadme = true;
    } else if (argv[i] === "--update-stacks") {
      options.updateStacks = true;
    } else if (argv[i] === "--runs" && /^[1-9][0-9]*$/.test(value ?? "")) {
      options.runs = Number(value);
      i++;
    } else if (argv[i] === "--workloads" && /^[1-9][0-9]*(,[1-9][0-9]*)*$/.test(value ?? "")) {
      options.workloads = value.split(",").map(Number);
      i++;
    } else {
      throw new Error(`unexpected argument ${argv[i]}\n${BENCH_USAGE}`);
    }
  }
  if (options.updateReadme && options.updateStacks) {
    throw new Error(`--update-readme already updates the stacks region\n${BENCH_USAGE}`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) {
    throw new Error(`BENCH_RUNS must be a positive integer\n${BENCH_USAGE}`);
  }
  return options;
}

/** The stacks in stacks/, by name. */
export function stackNames(root: string = ROOT): string[] {
  return readdirSync(path.join(root, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Measures each stack's plan; its results, and the plans (for the `stacks` region). */
function benchStacks(runs: number): { results: StackResult[]; plans: Plan[] } {
  const plans: Plan[] = [];
  const results = stackNames().map((stack) => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "plan.json");
    const cost = medianCost(runs, [BIN.plan, "--stack", stack, "--json", out]);
    if (!ok(cost)) throw new Error(`the plan of ${stack} failed: ${cost.failed}`);
    const plan = JSON.parse(readFileSync(out, "utf8")) as Plan;
    plans.push(plan);
    const paths = criticalPaths(plan);
    console.log(
      `${stack}: ${plan.resources.length} resources, ${cost.seconds.toFixed(2)} s, ` +
        `${cost.cpuSeconds.toFixed(2)} s CPU, ${cost.peakRssMb.toFixed(0)} MB`,
    );
    console.log(`  critical path (${paths.longest.length}): ${paths.longest.join(" → ")}`);
    console.log(`  required path (${paths.required.length}): ${paths.required.join(" → ")}`);
    return {
      stack,
      resources: plan.resources.length,
      cost,
      criticalPath: paths.longest,
      requiredPath: paths.required,
      unjustifiedEdges: paths.unjustifiedEdges,
    };
  });
  return { results, plans };
}

function fmtCost(c: Cost | { failed: string }): string {
  return ok(c)
    ? `${c.cpuSeconds.toFixed(2)} s CPU, ${c.peakRssMb.toFixed(0)} MB`
    : `failed (${c.failed})`;
}

function benchScale(options: BenchOptions): ScaleResult[] {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-stacks-"));
  return options.workloads.map((n) => {
    const stack = `gen-${n}`;
    writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), generatedStack(n));
    const shapeFile = path.join(dir, `${stack}.shape.json`);
    const shaped = measure([BIN.shape, "--stack", stack, "--stacks-dir", dir, "--out", shapeFile]);
    if (!ok(shaped)) throw new Error(`the shape of ${n} workloads failed: ${shaped.failed}`);
    const resources = (JSON.parse(readFileSync(shapeFile, "utf8")) as Shape).resources.length + 1;
    const runs = n >= 3000 ? 1 : n >= 1000 ? Math.min(options.runs, 3) : options.runs;
    const pkg = medianCost(runs, [BIN.plan, "--stack", stack, "--stacks-dir", dir]);
    const floor = medianCost(runs, [BIN.floor, shapeFile]);
    const r = scaleResult(n, resources, runs, pkg, floor);
    console.log(
      `${n} workloads, ${resources} resources: package ${fmtCost(pkg)}; floor ${fmtCost(floor)}` +
        (r.cpuRatio !== undefined ? `; ratio ${r.cpuRatio}× CPU, ${r.memoryRatio}× memory` : ""),
    );
    return r;
  });
}

/** Where a run writes its results: bench/results.json only when asked, else a temporary file. */
export function resultsFile(options: BenchOptions, root: string = ROOT): string {
  return options.updateReadme
    ? path.join(root, "bench", "results.json")
    : path.join(mkdtempSync(path.join(tmpdir(), "bench-results-")), "results.json");
}

async function main(argv: string[]): Promise<void> {
  const options = parseBenchArgs(argv);
  if (options.updateStacks) {
    const plans: Plan[] = [];
    for (const stack of stackNames()) plans.push(await planStack(stack));
    const file = await writeRegions(ROOT, { stacks: stackTable(plans) });
    console.log(`Wrote the stacks region of ${path.relative(ROOT, file)}`);
    return;
  }
  const stacks = benchStacks(options.runs);
  const results: BenchResults = {
    machine: { cpus: cpus().length, memoryGb: round(totalmem() / 1e9, 1), node: process.version },
    runs: options.runs,
    stacks: stacks.results,
    scale: benchScale(options),
  };
  const [a, b] = results.scale.slice(-2);
  results.growth = a && b ? growth(a, b) : undefined;
  if (a && b && results.growth) {
    const g = results.growth;
    console.log(
      `per resource from ${a.workloads} to ${b.workloads} workloads: ${g.cpuPerResource}× CPU ` +
        `(marginal ${g.marginalCpuMsPerResource} ms), ${g.memoryPerResource}× memory; ` +
        `floor ${g.floorCpuPerResource}× CPU`,
    );
  }
  const file = resultsFile(options);
  writeFileSync(file, await formatted(JSON.stringify(results, null, 2), file));
  console.log(
    `Wrote ${path.relative(ROOT, file).startsWith("..") ? file : path.relative(ROOT, file)}`,
  );
  if (options.updateReadme) {
    const readme = await writeRegions(ROOT, {
      stacks: stackTable(stacks.plans),
      bench: readmeTable(results),
    });
    console.log(`Wrote the stacks and bench regions of ${path.relative(ROOT, readme)}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 2;
  });
}
