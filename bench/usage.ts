/**
 * Preloaded (`node --require bin/bench/usage.js …`) into each process the benchmark measures:
 * on exit it writes the process's CPU time and peak resident memory to the file named by
 * BENCH_USAGE_FILE, so that every measurement comes from a process of its own.
 */
import { writeFileSync } from "node:fs";

/** What one measured process used. */
export interface Usage {
  /** User + system CPU time, milliseconds. */
  cpuMs: number;
  /** Peak resident set size, MB (10^6 bytes). */
  peakRssMb: number;
}

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    const usage: Usage = {
      cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
      peakRssMb: (u.maxRSS * 1024) / 1e6,
    };
    writeFileSync(file, JSON.stringify(usage));
  });
}
