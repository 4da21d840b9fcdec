/**
 * The benchmark's regions of bench/README.md, each between `<!-- <name>:start -->` and
 * `<!-- <name>:end -->`:
 * - `stacks`: per stack in stacks/, its resource count and deploy critical path. Deterministic
 *   (no timing), so a test fails when it differs from the plans: `npm run bench -- --update-stacks`
 *   regenerates it in seconds;
 * - `bench`: the measured figures, rewritten only by `npm run bench -- --update-readme`.
 * Written as `prettier --check` expects them (tables aligned).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import type { Plan } from "../plan-types";
import { criticalPaths } from "./critical-path";
import { ok, type Cost } from "./measure";
import type { BenchResults } from "./results";

/** The file holding the benchmark's generated regions. */
export const BENCH_README = path.join("bench", "README.md");

/** The command that regenerates the `stacks` region. */
export const UPDATE_STACKS = "npm run bench -- --update-stacks";

/** The `stacks` region: per plan, its resources and its critical and required paths. */
export function stackTable(plans: Plan[]): string {
  const rows = [...plans]
    .sort((a, b) => a.stack.localeCompare(b.stack))
    .map((plan) => {
      const p = criticalPaths(plan);
      const required = `${p.required.length}${p.unjustifiedEdges.length ? ` (${p.unjustifiedEdges.length} unneeded edges)` : " (same)"}`;
      return `| ${plan.stack} | ${plan.resources.length} | ${p.longest.length}: ${p.longest.join(" → ")} | ${required} |`;
    });
  return [
    `Generated from the plans of stacks/ by \`${UPDATE_STACKS}\` (a test fails when it is stale). Resources include the root stack and the components; the critical path is the longest chain of the dependency graph, the required path the longest one that data and the relying parties' ordering rules need.`,
    "",
    "| stack | resources | critical path | required path |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The `bench` region: the figures of a benchmark run. */
export function readmeTable(r: BenchResults): string {
  const cost = (c: Cost | { failed: string }) =>
    ok(c) ? `${c.cpuSeconds.toFixed(1)} s / ${c.peakRssMb.toFixed(0)} MB` : `failed: ${c.failed}`;
  const lines = [
    `Measured by \`npm run bench\` on ${r.machine.cpus} cores, ${r.machine.memoryGb} GB, Node.js ${r.machine.node}; medians of ${r.runs} runs (fewer at 1000 and more workloads), each in a process of its own, process start included.`,
    "",
    "| stack | plan time | CPU | peak memory |",
    "| --- | --- | --- | --- |",
    ...r.stacks.map(
      (s) =>
        `| ${s.stack} | ${s.cost.seconds.toFixed(2)} s | ${s.cost.cpuSeconds.toFixed(2)} s | ${s.cost.peakRssMb.toFixed(0)} MB |`,
    ),
    "",
    "| workloads (Vault + Azure + GCP + OpenZiti + AWS each) | resources | package: CPU / peak memory | floor: CPU / peak memory | package ÷ floor: CPU, memory | package CPU per resource |",
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

/** `text` with the region `name` replaced by `content`; throws when its markers are missing. */
export function replaceRegion(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end, i);
  if (i === -1 || j === -1) throw new Error(`${BENCH_README} lacks the markers ${start} … ${end}`);
  return `${text.slice(0, i + start.length)}\n\n${content}\n\n${text.slice(j)}`;
}

/** The region `name` of `text`, as written (formatted); undefined without its markers. */
export function readRegion(text: string, name: string): string | undefined {
  const start = `<!-- ${name}:start -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(`<!-- ${name}:end -->`, i);
  return i === -1 || j === -1 ? undefined : text.slice(i + start.length, j).trim();
}

/** A file's text formatted as the repository's prettier configuration wants it. */
export async function formatted(text: string, file: string): Promise<string> {
  const options = await prettier.resolveConfig(file);
  return prettier.format(text, { ...options, filepath: file });
}

/** Rewrites the given regions of bench/README.md under `root`; returns the file's path. */
export async function writeRegions(root: string, regions: Record<string, string>): Promise<string> {
  const file = path.join(root, BENCH_README);
  let text = readFileSync(file, "utf8");
  for (const [name, content] of Object.entries(regions)) text = replaceRegion(text, name, content);
  writeFileSync(file, await formatted(text, file));
  return file;
}
