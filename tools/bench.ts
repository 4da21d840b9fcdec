/**
 * The benchmark: `npm run bench [-- --update-readme] [--runs N] [--workloads 100,1000,3000]`
 * (after `npm ci`). Writes bench/results.json; rewrites the table between the bench markers in
 * README.md only with `--update-readme`. Every measurement runs in a process of its own (CPU time
 * and peak resident memory come from that process's own accounting, bin/bench/usage.js).
 *
 * - each stack in stacks/: plan wall time, CPU time and peak memory of the compiled CLI (median
 *   of several runs), and the deploy critical path: the longest chain of resources in the
 *   dependency graph, next to the longest chain that data dependencies and the relying parties'
 *   ordering rules require;
 * - scale: generated stacks with 100, 1000 and 3000 workloads, each with Vault, Azure, Google
 *   Cloud and OpenZiti grants, planned by the package (the CLI, as `npm run plan` runs it) and by
 *   the floor (bench/floor.ts: the same resources, parents, edges and secret inputs registered
 *   with trivial resource classes under the same mocks): CPU and memory of each, their ratio,
 *   and how the cost per resource grows from 1000 to 3000 workloads.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir, cpus, totalmem } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import type { Usage } from "../bench/usage";
import type { Shape } from "../bench/shape";
import type { Plan, PlanResource } from "./plan-types";
import { projectRoot } from "./plan";

const ROOT = projectRoot();
const BIN = path.join(ROOT, "bin");
const PLAN_JS = path.join(BIN, "tools", "plan.js");
const SHAPE_JS = path.join(BIN, "bench", "shape.js");
const FLOOR_JS = path.join(BIN, "bench", "floor.js");
const USAGE_JS = path.join(BIN, "bench", "usage.js");

/**
 * Node.js options of `npm run plan` (package.json), given to every measured process alike. The
 * plan of thousands of workloads needs more than V8's default heap limit (about 4 GB): near that
 * limit it spends most of its time collecting garbage.
 */
export const PLAN_NODE_OPTIONS = ["--max-old-space-size-percentage=75"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** What one process cost: wall seconds, CPU seconds (user + system), peak resident MB. */
export interface Cost {
  /** Wall time, seconds (process start included). */
  seconds: number;
  /** User + system CPU time, seconds. */
  cpuSeconds: number;
  /** Peak resident set size, MB. */
  peakRssMb: number;
}

/** Runs `node <args>` in a process of its own; its cost, or why it failed. */
export function measure(args: string[]): Cost | { failed: string } {
  const usageFile = path.join(mkdtempSync(path.join(tmpdir(), "bench-usage-")), "usage.json");
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [...PLAN_NODE_OPTIONS, "--require", USAGE_JS, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, BENCH_USAGE_FILE: usageFile },
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) {
    const lines = run.stderr.toString().trim().split("\n");
    const oom = lines.find((l) => /heap out of memory|Reached heap limit/.test(l));
    return { failed: oom ?? lines[lines.length - 1] ?? `exit ${run.status ?? run.signal}` };
  }
  const usage = JSON.parse(readFileSync(usageFile, "utf8")) as Usage;
  return { seconds, cpuSeconds: usage.cpuMs / 1000, peakRssMb: usage.peakRssMb };
}

/** Median of each measure over `runs` runs; the first failure ends the series. */
function medianCost(runs: number, args: string[]): Cost | { failed: string } {
  const costs: Cost[] = [];
  for (let i = 0; i < runs; i++) {
    const c = measure(args);
    if ("failed" in c) return c;
    costs.push(c);
  }
  const round = (x: number, d: number) => Number(x.toFixed(d));
  return {
    seconds: round(median(costs.map((c) => c.seconds)), 3),
    cpuSeconds: round(median(costs.map((c) => c.cpuSeconds)), 3),
    peakRssMb: round(median(costs.map((c) => c.peakRssMb)), 1),
  };
}

/** A stack config with `n` workloads, each with Vault, Azure, Google Cloud and OpenZiti grants. */
export function generatedStack(n: number): string {
  const sub = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
  const workloads = Array.from({ length: n }, (_, i) => ({
    name: `svc-${i}`,
    namespace: `team-${i % 50}`,
    serviceAccount: `svc-${i}`,
    vault: { policies: ["read"] },
    azure: {
      roleAssignments: [
        {
          role: "Storage Blob Data Reader",
          scope: `/subscriptions/${sub}/resourceGroups/rg-team-${i % 50}`,
        },
      ],
    },
    gcp: { roles: [{ role: "roles/storage.objectViewer" }] },
    openziti: { roleAttributes: [`team-${i % 50}`] },
  }));
  return stringify({
    config: {
      "azure-native:subscriptionId": sub,
      "spire-federation:trustDomain": "bench.spiffe.example.com",
      "spire-federation:clusterName": "bench",
      "spire-federation:oidc": {
        host: "oidc.bench.spiffe.example.com",
        ingressClassName: "nginx",
        tls: { acme: { email: "ops@example.com" } },
      },
      "spire-federation:ca": { mode: "generated" },
      "spire-federation:vault": {
        policies: { read: 'path "secret/*" { capabilities = ["read"] }' },
      },
      "spire-federation:azure": { resourceGroupName: "rg-bench", location: "westeurope" },
      "spire-federation:gcp": {
        project: "acme-bench",
        projectNumber: "123456789",
        poolId: "spiffe-bench",
      },
      "spire-federation:openziti": {
        controllerUrl: "https://ziti.bench.example.com",
        username: "admin",
        password: { secure: "v1:YmVuY2g=" },
        jwt: true,
      },
      "spire-federation:workloads": workloads,
    },
  });
}

/**
 * Orderings that are required although no input carries them (type of the waiting resource →
 * types it must wait on): each is a fact of the system, documented in DESIGN.md.
 */
const REQUIRED_ORDER: Record<string, string[]> = {
  // cert-manager's CRDs and namespace must exist
  "kubernetes:core/v1:Secret": ["kubernetes:helm.sh/v3:Release"],
  "kubernetes:cert-manager.io/v1:ClusterIssuer": [
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:core/v1:Secret",
  ],
  // spire after spire-crds and its upstream issuer; Istio's gateway after the ClusterSPIFFEID
  // of its service account
  "kubernetes:helm.sh/v3:Release": [
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:cert-manager.io/v1:ClusterIssuer",
    "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID",
  ],
  // Istio's CRDs come with base; istiod's webhook validates Istio config
  "kubernetes:security.istio.io/v1:PeerAuthentication": ["kubernetes:helm.sh/v3:Release"],
  // the controller manager's webhook rejects them before the release is ready
  "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID": ["kubernetes:helm.sh/v3:Release"],
  // the gate polls what the release serves; Vault fetches discovery when the backend is written
  "command:local:Command": ["kubernetes:helm.sh/v3:Release"],
  "vault:jwt/authBackend:AuthBackend": ["command:local:Command"],
  // Entra: credentials under one identity one at a time, after the identity
  "azure-native:managedidentity:FederatedIdentityCredential": [
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:managedidentity:FederatedIdentityCredential",
  ],
  // IAM principals name the pool
  "gcp:projects/iAMMember:IAMMember": ["gcp:iam/workloadIdentityPool:WorkloadIdentityPool"],
  // OpenZiti: identities authenticate through the CA only once it is verified
  "pulumi-nodejs:dynamic/openziti:Identity": [
    "pulumi-nodejs:dynamic/openziti:Ca",
    "pulumi-nodejs:dynamic/openziti:CaVerification",
  ],
  "pulumi-nodejs:dynamic/openziti:CaVerification": ["pulumi-nodejs:dynamic/openziti:Ca"],
};

/** Longest chain (by resource count) in the graph given by `edges` (resource → what it waits on). */
export function longestChain(
  resources: PlanResource[],
  edges: (r: PlanResource) => string[],
): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, string[]>();
  const visit = (urn: string): string[] => {
    const hit = memo.get(urn);
    if (hit) return hit;
    const r = byUrn.get(urn);
    if (!r) return [];
    let best: string[] = [];
    for (const d of edges(r)) {
      const chain = visit(d);
      if (chain.length > best.length) best = chain;
    }
    const result = [...best, r.name];
    memo.set(urn, result);
    return result;
  };
  let longest: string[] = [];
  for (const r of resources) {
    const chain = visit(r.urn);
    if (chain.length > longest.length) longest = chain;
  }
  return longest;
}

/** Critical paths of a plan: all edges, and only the required ones. */
export function criticalPaths(plan: Plan) {
  const custom = plan.resources.filter(
    (r) => !r.type.startsWith("spire-federation:") && r.type !== "pulumi:pulumi:Stack",
  );
  const byUrn = new Map(custom.map((r) => [r.urn, r]));
  const required = (r: PlanResource) =>
    r.dependencies.filter((d) => {
      const dep = byUrn.get(d);
      if (!dep) return false;
      const data = Object.values(r.propertyDependencies ?? {}).some((urns) => urns.includes(d));
      return data || (REQUIRED_ORDER[r.type] ?? []).includes(dep.type);
    });
  const unjustified = custom.flatMap((r) =>
    r.dependencies
      .filter((d) => byUrn.has(d) && !required(r).includes(d))
      .map((d) => `${r.name} → ${byUrn.get(d)?.name}`),
  );
  return {
    longest: longestChain(custom, (r) => r.dependencies),
    required: longestChain(custom, required),
    unjustifiedEdges: unjustified,
  };
}

/** Command-line options of the benchmark. */
export interface BenchOptions {
  /** Rewrite the table in README.md. */
  updateReadme: boolean;
  /** Runs per measurement (the median counts); fewer at 1000 and 3000 workloads. */
  runs: number;
  /** Workload counts of the scale runs. */
  workloads: number[];
}

const BENCH_USAGE =
  "usage: npm run bench -- [--update-readme] [--runs N] [--workloads 100,1000,3000]";

/** Parses the command line; throws with the usage on anything unexpected. */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    updateReadme: false,
    runs: Number(process.env.BENCH_RUNS ?? 3),
    workloads: [100, 1000, 3000],
  };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--update-readme") {
      options.updateReadme = true;
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
  if (!Number.isInteger(options.runs) || options.runs < 1) {
    throw new Error(`BENCH_RUNS must be a positive integer\n${BENCH_USAGE}`);
  }
  return options;
}

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

const ok = (c: Cost | { failed: string }): c is Cost => !("failed" in c);
const round = (x: number, d: number) => Number(x.toFixed(d));

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

function benchStacks(runs: number): StackResult[] {
  const stacksDir = path.join(ROOT, "stacks");
  const stacks = readdirSync(stacksDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
  return stacks.map((stack) => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "plan.json");
    const cost = medianCost(runs, [PLAN_JS, "--stack", stack, "--json", out]);
    if (!ok(cost)) throw new Error(`the plan of ${stack} failed: ${cost.failed}`);
    const plan = JSON.parse(readFileSync(out, "utf8")) as Plan;
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
    const shaped = measure([SHAPE_JS, "--stack", stack, "--stacks-dir", dir, "--out", shapeFile]);
    if (!ok(shaped)) throw new Error(`the shape of ${n} workloads failed: ${shaped.failed}`);
    const resources = (JSON.parse(readFileSync(shapeFile, "utf8")) as Shape).resources.length + 1;
    const runs = n >= 3000 ? 1 : n >= 1000 ? Math.min(options.runs, 3) : options.runs;
    const pkg = medianCost(runs, [PLAN_JS, "--stack", stack, "--stacks-dir", dir]);
    const floor = medianCost(runs, [FLOOR_JS, shapeFile]);
    const r = scaleResult(n, resources, runs, pkg, floor);
    console.log(
      `${n} workloads, ${resources} resources: package ${fmtCost(pkg)}; floor ${fmtCost(floor)}` +
        (r.cpuRatio !== undefined ? `; ratio ${r.cpuRatio}× CPU, ${r.memoryRatio}× memory` : ""),
    );
    return r;
  });
}

function main(argv: string[]): void {
  const options = parseBenchArgs(argv);
  const results: BenchResults = {
    machine: {
      cpus: cpus().length,
      memoryGb: round(totalmem() / 1e9, 1),
      node: process.version,
    },
    runs: options.runs,
    stacks: benchStacks(options.runs),
    scale: benchScale(options),
  };
  const [a, b] = results.scale.slice(-2);
  if (a && b) {
    results.growth = growth(a, b);
    if (results.growth) {
      console.log(
        `per resource from ${a.workloads} to ${b.workloads} workloads: ` +
          `${results.growth.cpuPerResource}× CPU (marginal ${results.growth.marginalCpuMsPerResource} ms), ` +
          `${results.growth.memoryPerResource}× memory; floor ${results.growth.floorCpuPerResource}× CPU`,
      );
    }
  }

  mkdirSync(path.join(ROOT, "bench"), { recursive: true });
  const written = [path.join(ROOT, "bench", "results.json")];
  writeFileSync(written[0], JSON.stringify(results, null, 2) + "\n");
  if (options.updateReadme) {
    writeReadmeTable(results);
    written.push(path.join(ROOT, "README.md"));
  }
  // Keep what was written as `npm run lint` (prettier --check) expects it.
  spawnSync(
    process.execPath,
    [path.join(ROOT, "node_modules", "prettier", "bin", "prettier.cjs"), "--write", ...written],
    { stdio: "ignore" },
  );
  console.log(`Wrote ${written.map((f) => path.relative(ROOT, f)).join(" and ")}`);
}

/** The README table of a benchmark run. */
export function readmeTable(r: BenchResults): string {
  const cost = (c: Cost | { failed: string }) =>
    ok(c) ? `${c.cpuSeconds.toFixed(1)} s / ${c.peakRssMb.toFixed(0)} MB` : `failed: ${c.failed}`;
  const lines = [
    `Measured by \`npm run bench\` on ${r.machine.cpus} cores, ${r.machine.memoryGb} GB, Node.js ${r.machine.node}; medians of ${r.runs} runs (fewer at 1000 and more workloads), each in a process of its own, process start included.`,
    "",
    "| stack | resources | plan time | CPU | peak memory | critical path | required path |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...r.stacks.map(
      (s) =>
        `| ${s.stack} | ${s.resources} | ${s.cost.seconds.toFixed(2)} s | ${s.cost.cpuSeconds.toFixed(2)} s | ${s.cost.peakRssMb.toFixed(0)} MB | ${s.criticalPath.length}: ${s.criticalPath.join(" → ")} | ${s.requiredPath.length}${s.unjustifiedEdges.length ? ` (${s.unjustifiedEdges.length} unneeded edges)` : " (same)"} |`,
    ),
    "",
    "| workloads (Vault + Azure + GCP + OpenZiti each) | resources | package: CPU / peak memory | floor: CPU / peak memory | package ÷ floor: CPU, memory | package CPU per resource |",
    "| --- | --- | --- | --- | --- | --- |",
    ...r.scale.map(
      (s) =>
        `| ${s.workloads} | ${s.resources} | ${cost(s.package)} | ${cost(s.floor)} | ${s.cpuRatio !== undefined ? `${s.cpuRatio.toFixed(2)}×, ${(s.memoryRatio ?? 0).toFixed(2)}×` : "–"} | ${s.cpuMsPerResource !== undefined ? `${s.cpuMsPerResource.toFixed(2)} ms` : "–"} |`,
    ),
  ];
  if (r.growth) {
    const g = r.growth;
    lines.push(
      "",
      `From ${g.from} to ${g.to} workloads the package's CPU time per resource grows ${g.cpuPerResource.toFixed(2)}× (each added resource costs ${g.marginalCpuMsPerResource.toFixed(2)} ms) and its peak memory per resource ${g.memoryPerResource.toFixed(2)}×; the floor's CPU per resource ${g.floorCpuPerResource.toFixed(2)}×.`,
    );
  }
  return lines.join("\n");
}

/** Replaces the table between `<!-- bench:start -->` and `<!-- bench:end -->` in README.md. */
function writeReadmeTable(r: BenchResults): void {
  const readme = path.join(ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i === -1 || j === -1) throw new Error("README.md lacks the bench markers");
  writeFileSync(readme, `${text.slice(0, i + start.length)}\n${readmeTable(r)}\n${text.slice(j)}`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
  }
}
