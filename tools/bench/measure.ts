/**
 * One measurement of the benchmark: `node <args>` in a process of its own, its CPU time and peak
 * resident memory from that process's own accounting (bin/bench/usage.js, preloaded).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Usage } from "../../bench/usage";
import { projectRoot } from "../plan";

/** The compiled entry points the benchmark runs. */
export const BIN = {
  plan: path.join(projectRoot(), "bin", "tools", "plan.js"),
  shape: path.join(projectRoot(), "bin", "bench", "shape.js"),
  floor: path.join(projectRoot(), "bin", "bench", "floor.js"),
  usage: path.join(projectRoot(), "bin", "bench", "usage.js"),
};

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

/** A measurement that did not fail. */
export const ok = (c: Cost | { failed: string }): c is Cost => !("failed" in c);

/** `x` rounded to `d` decimals. */
export const round = (x: number, d: number): number => Number(x.toFixed(d));

/** Runs `node <args>` in a process of its own; its cost, or why it failed. */
export function measure(args: string[]): Cost | { failed: string } {
  const usageFile = path.join(mkdtempSync(path.join(tmpdir(), "bench-usage-")), "usage.json");
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [...PLAN_NODE_OPTIONS, "--require", BIN.usage, ...args], {
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
export function medianCost(runs: number, args: string[]): Cost | { failed: string } {
  const costs: Cost[] = [];
  for (let i = 0; i < runs; i++) {
    const c = measure(args);
    if ("failed" in c) return c;
    costs.push(c);
  }
  return {
    seconds: round(median(costs.map((c) => c.seconds)), 3),
    cpuSeconds: round(median(costs.map((c) => c.cpuSeconds)), 3),
    peakRssMb: round(median(costs.map((c) => c.peakRssMb)), 1),
  };
}
