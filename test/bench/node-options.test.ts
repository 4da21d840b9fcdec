/**
 * The program runs with the same garbage-collector options under the Pulumi CLI as in the
 * offline plan and the benchmark: Pulumi.yaml's `runtime.options.nodeargs` (which the Node.js
 * language host hands to `node`) holds them, and Node.js takes them.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PLAN_NODE_OPTIONS, PROGRAM_NODE_ARGS } from "../../tools/bench";
import { ROOT } from "../helpers";

describe("the program's Node.js options", () => {
  it("are Pulumi.yaml's nodeargs, and part of the plan's and the benchmark's options", () => {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
      runtime: { name: string; options: Record<string, unknown> };
    };
    expect(project.runtime.name).toBe("nodejs");
    expect(project.runtime.options.nodeargs).toBe(PROGRAM_NODE_ARGS.join(" "));
    expect(PLAN_NODE_OPTIONS).toEqual(expect.arrayContaining(PROGRAM_NODE_ARGS));
  });

  it("are options Node.js takes (a wrong one stops node before the program runs)", () => {
    const run = spawnSync(process.execPath, [...PROGRAM_NODE_ARGS, "-e", "process.exit(0)"]);
    expect(run.stderr.toString()).toBe("");
    expect(run.status).toBe(0);
    const bad = spawnSync(process.execPath, ["--max-semi-space-sise=64", "-e", "0"]);
    expect(bad.status).not.toBe(0);
  });
});
