/**
 * The offline plan: runs the real program against `stacks/Pulumi.<stack>.yaml` under the Pulumi
 * SDK's mocks (no CLI, no credentials, no cluster) and prints every resource it would register.
 *
 *   npm run plan -- --stack <name> [--json <file>] [--policy-config <file>] [--stacks-dir <dir>]
 *
 * Secure config values become placeholder secrets; every secret prints as "[secret]" and every
 * value known only after deployment as "[unknown]". The policy pack's rules run on the planned
 * resources. `--diff <base.json>` compares with a saved plan. Exit codes: 0 fine, 1 invalid stack
 * config, 2 usage, 3 a mandatory policy violation, 4 changes under `--expect-no-changes`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { prepareProgram } from "../program";
import { policies } from "../policy/policies";
import { diffPlans, formatDiff, isEmptyDiff, type PlanDiff } from "./diff";
import { runProgram } from "./harness";
import type { Plan, PlanResource } from "./plan-types";
import {
  formatViolations,
  policyConfigProblems,
  runPolicies,
  type PolicyConfig,
} from "./policy-runner";

export type { Plan, PlanResource } from "./plan-types";
import { loadStackConfig } from "./stack-config";

/** The repository root: the nearest folder upward holding Pulumi.yaml. */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, "Pulumi.yaml"))) {
    const up = path.dirname(dir);
    if (up === dir) {
      throw new Error("Pulumi.yaml not found above " + from);
    }
    dir = up;
  }
  return dir;
}

/** Plans one stack of this project. Rejects with a RunError on invalid config. */
export async function planStack(
  stack: string,
  stacksDir: string = path.join(projectRoot(), "stacks"),
): Promise<Plan> {
  const { config, secretKeys, secretPaths } = loadStackConfig(projectRoot(), stack, stacksDir);
  // The SDK captures a stack trace for every promise it tracks (debugging aid); at thousands of
  // resources that is half the plan's time. The plan prints no traces (config errors are
  // messages), so it skips them unless PLAN_STACK_TRACES=1.
  const traceLimit = Error.stackTraceLimit;
  if (!process.env.PLAN_STACK_TRACES) Error.stackTraceLimit = 0;
  let run;
  try {
    run = await runProgram(() => prepareProgram({ secretPaths }), {
      project: "spire-federation",
      stack,
      config,
      secretKeys,
      preview: true,
    });
  } finally {
    Error.stackTraceLimit = traceLimit;
  }
  return {
    stack,
    resources: run.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent,
      inputs: r.inputs,
      dependencies: r.dependencies,
      propertyDependencies: r.propertyDependencies,
    })),
    outputs: run.outputs,
  };
}

/** A readable tree of the plan: type and name per resource, children under parents. */
export function formatTree(plan: Plan): string {
  const children = new Map<string | null, PlanResource[]>();
  for (const r of plan.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const lines = [`Plan of stack "${plan.stack}": ${plan.resources.length} resources`, ""];
  const walk = (parent: string | null, indent: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      const waits = r.dependencies
        .map((d) => byUrn.get(d)?.name)
        .filter((n): n is string => n !== undefined);
      const suffix = waits.length > 0 ? `  (waits on ${waits.join(", ")})` : "";
      const branch = parent === null ? "" : last ? "└─ " : "├─ ";
      lines.push(`${indent}${branch}${r.type}  ${r.name}${suffix}`);
      walk(r.urn, parent === null ? "" : indent + (last ? "   " : "│  "));
    });
  };
  walk(null, "");
  lines.push("", "Outputs:");
  for (const [k, v] of Object.entries(plan.outputs)) {
    lines.push(`  ${k}: ${JSON.stringify(v)}`);
  }
  return lines.join("\n");
}

/** Parsed command line. */
export interface PlanArgs {
  /** Stack to plan. */
  stack: string;
  /** Where to write the JSON plan. */
  json?: string;
  /** Folder holding `Pulumi.<stack>.yaml` (default: the project's `stacks/`). */
  stacksDir?: string;
  /** Policy config JSON (as for `pulumi preview --policy-pack-config`). */
  policyConfig?: string;
  /** A saved plan (`--json` output) to compare with. */
  diff?: string;
  /** Exit non-zero when the plan differs from `diff`. */
  expectNoChanges?: boolean;
}

const USAGE =
  "usage: npm run plan -- --stack <name> [--json <file>] [--policy-config <file>]" +
  " [--diff <base.json> [--expect-no-changes]] [--stacks-dir <dir>]";
const VALUE_FLAGS: Record<string, keyof PlanArgs> = {
  "--stack": "stack",
  "--json": "json",
  "--stacks-dir": "stacksDir",
  "--policy-config": "policyConfig",
  "--diff": "diff",
};

/** Parses the command line; throws with the usage on anything unexpected. */
export function parseArgs(argv: string[]): PlanArgs {
  const args: Partial<PlanArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--expect-no-changes") {
      args.expectNoChanges = true;
      continue;
    }
    const field = VALUE_FLAGS[argv[i]];
    if (field === undefined) {
      throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) {
      throw new Error(`${argv[i]} needs a value\n${USAGE}`);
    }
    (args as Record<string, unknown>)[field] = value;
    i++;
  }
  if (!args.stack) {
    throw new Error(USAGE);
  }
  if (args.expectNoChanges && !args.diff) {
    throw new Error(`--expect-no-changes needs --diff <base.json>\n${USAGE}`);
  }
  return args as PlanArgs;
}

/** CLI entry: returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: PlanArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  let plan: Plan;
  try {
    plan = await planStack(args.stack, args.stacksDir);
  } catch (e) {
    if (pulumi.RunError.isInstance(e)) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    if (e instanceof Error && e.message.startsWith("no stack file")) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
  let policyConfig: PolicyConfig = {};
  if (args.policyConfig) {
    try {
      policyConfig = JSON.parse(readFileSync(args.policyConfig, "utf8")) as PolicyConfig;
    } catch (e) {
      console.error(`error: --policy-config ${args.policyConfig}: ${(e as Error).message}`);
      return 2;
    }
    const problems = policyConfigProblems(policies, policyConfig);
    if (problems.length > 0) {
      console.error(`error: --policy-config ${args.policyConfig}:\n  ${problems.join("\n  ")}`);
      return 2;
    }
  }
  plan.policyViolations = await runPolicies(policies, plan.resources, policyConfig);
  console.log(formatTree(plan));
  console.log("\n" + formatViolations(plan.policyViolations));
  let diff: PlanDiff | undefined;
  if (args.diff) {
    let base: Plan;
    try {
      base = JSON.parse(readFileSync(args.diff, "utf8")) as Plan;
    } catch (e) {
      console.error(`error: --diff ${args.diff}: ${(e as Error).message}`);
      return 2;
    }
    diff = diffPlans(base, plan);
    console.log("\n" + formatDiff(diff, `Diff against ${args.diff}`));
  }
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(diff ? { ...plan, diff } : plan, null, 2) + "\n");
    console.log(`\nWrote ${args.json}`);
  }
  if (plan.policyViolations.some((v) => v.enforcementLevel === "mandatory")) return 3;
  return args.expectNoChanges && diff && !isEmptyDiff(diff) ? 4 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    // Not process.exit(): it would cut off output still queued for a pipe.
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exit(2);
    },
  );
}
