/**
 * A `--diff` base nested far deeper than any plan fails as a bad file (one line, exit 1) instead
 * of overflowing the stack in the diff's recursive walk.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_PLAN_DEPTH, readBasePlan } from "../../tools/plan";
import { ROOT } from "../helpers";

const PLAN_JS = path.join(ROOT, "bin", "tools", "plan.js");

/** A plan-shaped file whose one output nests `depth` lists deep. */
function deepPlan(dir: string, name: string, depth: number): string {
  const nested = "[".repeat(depth) + "]".repeat(depth);
  const f = path.join(dir, name);
  writeFileSync(f, `{"stack":"dev","resources":[],"outputs":{"x":${nested}}}`);
  return f;
}

describe("a deeply nested --diff base", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "plan-depth-"));
  const why = `not a plan (a --json output of npm run plan): nested more than ${MAX_PLAN_DEPTH} levels deep`;

  it("is refused by the reader, at the limit's edge", () => {
    // outputs (1) + x (2) + the lists: depth - 2 lists fit exactly.
    expect(() => readBasePlan(deepPlan(dir, "edge.json", MAX_PLAN_DEPTH - 2))).not.toThrow();
    expect(() => readBasePlan(deepPlan(dir, "over.json", MAX_PLAN_DEPTH - 1))).toThrow(why);
  });

  it("100000 levels: one line, exit 1, no stack trace, before planning", () => {
    const f = deepPlan(dir, "deep.json", 100_000);
    const r = spawnSync(process.execPath, [PLAN_JS, "--stack", "dev", "--diff", f], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe(`error: --diff ${f}: ${why}\n`);
    expect(r.stdout).toBe("");
    expect(r.status).toBe(1);
  });
});
