/** The verify report: one line per check, grouped by relying party and workload; or JSON. */
import { redact } from "../../components/http/client";
import type { CheckResult } from "./types";

/** The whole run, as `--json` writes it. */
export interface VerifyReport {
  /** The stack verified. */
  stack: string;
  /** The checks that ran, in order. */
  checks: string[];
  /** Every verdict. */
  results: CheckResult[];
  /** Counts by status. */
  summary: { pass: number; fail: number; skip: number };
}

/** Builds the report, every text passed through `redact` with the run's secrets. */
export function buildReport(
  stack: string,
  checks: string[],
  results: CheckResult[],
  secrets: readonly string[],
): VerifyReport {
  const clean = results.map((r) => JSON.parse(redact(JSON.stringify(r), secrets)) as CheckResult);
  const count = (s: string) => clean.filter((r) => r.status === s).length;
  return {
    stack,
    checks,
    results: clean,
    summary: { pass: count("PASS"), fail: count("FAIL"), skip: count("SKIP") },
  };
}

/** The report as text: a heading per relying party (and workload), one line per verdict. */
export function formatReport(report: VerifyReport): string {
  const lines: string[] = [`verify: stack ${report.stack} (checks: ${report.checks.join(", ")})`];
  const groups = new Map<string, CheckResult[]>();
  for (const r of report.results) {
    const key = r.workload ? `${r.party} / ${r.workload}` : r.party;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [group, rs] of groups) {
    lines.push("", `[${group}]`);
    for (const r of rs) {
      lines.push(`  ${r.status.padEnd(4)} ${r.check}: ${r.name}: ${r.reason}`);
      if (r.fix && r.status !== "PASS") lines.push(`       fix: ${r.fix}`);
    }
  }
  const s = report.summary;
  lines.push("", `${s.pass} passed, ${s.fail} failed, ${s.skip} skipped`);
  return lines.join("\n");
}
