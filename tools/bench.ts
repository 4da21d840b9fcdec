/**
 * The benchmark: `npm run bench` (after `npm ci`). Writes bench/results.json and the table between
 * the bench markers in README.md.
 *
 * - plan wall time of each stack in stacks/ (the compiled CLI, median of several runs);
 * - scaling: generated stacks with 10, 100 and 1000 workloads, each with Vault, Azure, Google
 *   Cloud and OpenZiti grants: resource count, plan time, time per resource;
 * - deploy critical path: the longest chain of resources in each stack's dependency graph, next to
 *   the longest chain that data dependencies and the relying parties' ordering rules require.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import type { Plan, PlanResource } from "./plan-types";
import { projectRoot } from "./plan";

const ROOT = projectRoot();
const PLAN_JS = path.join(ROOT, "bin", "tools", "plan.js");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs the plan CLI once; returns wall seconds and the plan. */
function timePlan(stack: string, stacksDir: string): { seconds: number; plan: Plan } {
  const out = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "plan.json");
  const start = process.hrtime.bigint();
  execFileSync(
    process.execPath,
    [PLAN_JS, "--stack", stack, "--stacks-dir", stacksDir, "--json", out],
    {
      stdio: "ignore",
      maxBuffer: 1 << 30,
    },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, plan: JSON.parse(readFileSync(out, "utf8")) as Plan };
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

function main(): void {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const results: Record<string, unknown> = {
    machine: { cpus: cpus().length, node: process.version },
    runs,
  };

  const stacksDir = path.join(ROOT, "stacks");
  const stacks = readdirSync(stacksDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
  const stackResults = [];
  for (const stack of stacks) {
    const times: number[] = [];
    let plan: Plan | undefined;
    for (let i = 0; i < runs; i++) {
      const r = timePlan(stack, stacksDir);
      times.push(r.seconds);
      plan = r.plan;
    }
    const paths = criticalPaths(plan as Plan);
    stackResults.push({
      stack,
      resources: plan?.resources.length,
      medianSeconds: Number(median(times).toFixed(3)),
      criticalPath: paths.longest,
      requiredPath: paths.required,
      unjustifiedEdges: paths.unjustifiedEdges,
    });
    console.log(
      `${stack}: ${plan?.resources.length} resources, median ${median(times).toFixed(3)} s`,
    );
    console.log(`  critical path (${paths.longest.length}): ${paths.longest.join(" → ")}`);
    console.log(`  required path (${paths.required.length}): ${paths.required.join(" → ")}`);
  }
  results.stacks = stackResults;

  const genDir = mkdtempSync(path.join(tmpdir(), "bench-stacks-"));
  const scaling = [];
  for (const n of [10, 100, 1000]) {
    writeFileSync(path.join(genDir, `Pulumi.gen-${n}.yaml`), generatedStack(n));
    const reps = n >= 1000 ? Math.max(1, Math.min(runs, 3)) : runs;
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < reps; i++) {
      const r = timePlan(`gen-${n}`, genDir);
      times.push(r.seconds);
      count = r.plan.resources.length;
    }
    const seconds = median(times);
    scaling.push({
      workloads: n,
      resources: count,
      medianSeconds: Number(seconds.toFixed(3)),
      msPerResource: Number(((seconds * 1000) / count).toFixed(3)),
    });
    console.log(
      `${n} workloads: ${count} resources, ${seconds.toFixed(3)} s, ${((seconds * 1000) / count).toFixed(3)} ms/resource`,
    );
  }
  results.scaling = scaling;

  mkdirSync(path.join(ROOT, "bench"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
  writeReadmeTable(results as unknown as BenchResults);
  // Keep both files as `npm run lint` (prettier --check) expects them.
  execFileSync(process.execPath, [
    path.join(ROOT, "node_modules", "prettier", "bin", "prettier.cjs"),
    "--write",
    path.join(ROOT, "README.md"),
    path.join(ROOT, "bench", "results.json"),
  ]);
  console.log("Wrote bench/results.json and the README table");
}

interface BenchResults {
  machine: { cpus: number; node: string };
  runs: number;
  stacks: {
    stack: string;
    resources: number;
    medianSeconds: number;
    criticalPath: string[];
    requiredPath: string[];
    unjustifiedEdges: string[];
  }[];
  scaling: { workloads: number; resources: number; medianSeconds: number; msPerResource: number }[];
}

/** Replaces the table between `<!-- bench:start -->` and `<!-- bench:end -->` in README.md. */
function writeReadmeTable(r: BenchResults): void {
  const lines = [
    `Measured by \`npm run bench\` on ${r.machine.cpus} cores, Node.js ${r.machine.node}; plan times are the median of ${r.runs} runs of the compiled CLI (process start included).`,
    "",
    "| stack | resources | plan time | critical path | required path |",
    "| --- | --- | --- | --- | --- |",
    ...r.stacks.map(
      (s) =>
        `| ${s.stack} | ${s.resources} | ${s.medianSeconds.toFixed(2)} s | ${s.criticalPath.length}: ${s.criticalPath.join(" → ")} | ${s.requiredPath.length}${s.unjustifiedEdges.length ? ` (${s.unjustifiedEdges.length} unneeded edges)` : " (same)"} |`,
    ),
    "",
    "| workloads (Vault + Azure + GCP + OpenZiti each) | resources | plan time | per resource |",
    "| --- | --- | --- | --- |",
    ...r.scaling.map(
      (s) =>
        `| ${s.workloads} | ${s.resources} | ${s.medianSeconds.toFixed(2)} s | ${s.msPerResource.toFixed(2)} ms |`,
    ),
  ];
  const readme = path.join(ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i === -1 || j === -1) throw new Error("README.md lacks the bench markers");
  writeFileSync(
    readme,
    `${text.slice(0, i + start.length)}\n${lines.join("\n")}\n${text.slice(j)}`,
  );
}

if (require.main === module) {
  main();
}
