/**
 * The offline plan: runs the real program against `stacks/Pulumi.<stack>.yaml` under the Pulumi
 * SDK's mocks (no CLI, no credentials, no cluster) and prints every resource it would register.
 *
 *   npm run plan -- --stack <name> [--json <file>] [--policy-config <file>] [--stacks-dir <dir>]
 *
 * Secure config values become placeholder secrets; every secret prints as "[secret]" and every
 * value known only after deployment as "[unknown]". The policy pack's rules run on the planned
 * resources. `--diff <base.json>` compares with a saved plan. Exit codes: 0 fine, 1 invalid stack
 * file or config, a duplicate URN, or a `--diff` / `--json` file that cannot be used, 2 usage or
 * a bad `--policy-config`, 3 a mandatory policy violation, 5 a change to an anchor under
 * `--diff` (one `pulumi up` would refuse, or one that replaces or deletes an anchor: see
 * `anchor-diff.ts`), 4 changes under `--expect-no-changes`; the first that applies, in this order.
 * Errors are one line each (`error: …`), lists cut after {@link MAX_LISTED_PROBLEMS} entries.
 */
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { prepareProgram } from "../program";
import { policies } from "../components/policies";
import { ANCHOR_EXIT_CODE, anchorChanges, formatAnchorChanges } from "./anchor-diff";
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
import { loadStackConfig, StackFileError } from "./stack-config";
import { parseStackOutputsFlag, readStackOutputs } from "./stack-outputs";

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

/**
 * Plans one stack of this project. Rejects with a RunError on invalid config. Referenced stacks'
 * outputs come from `stackOutputs` (name → file) or the convention of {@link readStackOutputs}.
 */
export async function planStack(
  stack: string,
  stacksDir: string = path.join(projectRoot(), "stacks"),
  stackOutputs: Readonly<Record<string, string>> = {},
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
      stackOutputs: (name) => readStackOutputs(name, stacksDir, stackOutputs),
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
      options: r.options,
    })),
    outputs: run.outputs,
  };
}

/** The resource options a resource sets, as the tree shows them: `  [protect, replaceOnChanges: a]`. */
export function optionsNote(r: PlanResource): string {
  const o = r.options;
  if (o === undefined) return "";
  const notes = [
    ...(o.protect ? ["protect"] : []),
    ...(o.retainOnDelete ? ["retainOnDelete"] : []),
    ...(o.deleteBeforeReplace ? ["deleteBeforeReplace"] : []),
    ...(o.replaceOnChanges.length > 0
      ? [`replaceOnChanges: ${o.replaceOnChanges.join(", ")}`]
      : []),
    ...(o.ignoreChanges.length > 0 ? [`ignoreChanges: ${o.ignoreChanges.join(", ")}`] : []),
  ];
  return notes.length > 0 ? `  [${notes.join("; ")}]` : "";
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
      lines.push(`${indent}${branch}${r.type}  ${r.name}${optionsNote(r)}${suffix}`);
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
  /** Referenced stacks' outputs files, `org/project/stack` → file (`--stack-outputs`). */
  stackOutputs: Record<string, string>;
}

const USAGE =
  "usage: npm run plan -- --stack <name> [--json <file>] [--policy-config <file>]" +
  " [--diff <base.json> [--expect-no-changes]] [--stacks-dir <dir>]" +
  " [--stack-outputs org/project/stack=FILE]...";
const VALUE_FLAGS: Record<string, keyof PlanArgs> = {
  "--stack": "stack",
  "--json": "json",
  "--stacks-dir": "stacksDir",
  "--policy-config": "policyConfig",
  "--diff": "diff",
};

/** Parses the command line; throws with the usage on anything unexpected. */
export function parseArgs(argv: string[]): PlanArgs {
  const args: Partial<PlanArgs> = { stackOutputs: {} };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--expect-no-changes") {
      args.expectNoChanges = true;
      continue;
    }
    const field = argv[i] === "--stack-outputs" ? "stackOutputs" : VALUE_FLAGS[argv[i]];
    if (field === undefined) {
      throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) {
      throw new Error(`${argv[i]} needs a value\n${USAGE}`);
    }
    if (field === "stackOutputs") {
      const [name, file] = parseStackOutputsFlag(value);
      args.stackOutputs = { ...args.stackOutputs, [name]: file };
    } else {
      (args as Record<string, unknown>)[field] = value;
    }
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

/** How many problems an error lists before it says how many more there are. */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * An error as the CLI prints it: `error: ` before each unindented line, and at most
 * {@link MAX_LISTED_PROBLEMS} lines after the first, then `… and N more`. A list already cut
 * (ending in such a line, e.g. by the ConfigError itself) is left as it is.
 */
export function formatError(message: string, max = MAX_LISTED_PROBLEMS): string {
  const [head, ...rest] = message.split("\n");
  const cut = rest.length > 0 && /^\s*… and \d+ more$/.test(rest[rest.length - 1]);
  let shown = rest;
  if (!cut && rest.length > max) {
    const indent = /^\s*/.exec(rest[max])?.[0] ?? "";
    shown = [...rest.slice(0, max), `${indent}… and ${rest.length - max} more`];
  }
  return [head, ...shown].map((l) => (/^\s/.test(l) ? l : `error: ${l}`)).join("\n");
}

/** Why a file cannot be used, from Node's error code. */
function fileProblem(e: unknown, file: string, writing: boolean): string {
  const code = (e as NodeJS.ErrnoException).code;
  const dir = path.dirname(file);
  switch (code) {
    case "ENOENT":
      return writing ? `directory ${dir} does not exist` : "no such file";
    case "ENOTDIR":
      return "a folder on its path is a file";
    case "EISDIR":
      return "is a directory";
    case "EACCES":
    case "EPERM":
      return writing
        ? "cannot be written (permission denied)"
        : "cannot be read (permission denied)";
    case "EROFS":
      return "cannot be written (read-only file system)";
    default:
      return (e as Error).message;
  }
}

/**
 * How deep a `--diff` base may nest. The diff walks values recursively; a plan of this package
 * nests a few dozen levels (Helm values), so a deeper file is not one of its plans.
 */
export const MAX_PLAN_DEPTH = 200;

/** True when `v` nests deeper than `limit` levels of objects and lists (walked without recursion). */
function nestedDeeper(v: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop() as [unknown, number];
    if (typeof x !== "object" || x === null) continue;
    if (depth >= limit) return true;
    for (const c of Object.values(x)) stack.push([c, depth + 1]);
  }
  return false;
}

/** `<file>` is a `--json` output of this tool: the fields {@link diffPlans} reads. */
function planShapeProblem(v: unknown): string | undefined {
  const isObject = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObject(v)) return "not a JSON object";
  if (nestedDeeper(v, MAX_PLAN_DEPTH)) return `nested more than ${MAX_PLAN_DEPTH} levels deep`;
  if (typeof v.stack !== "string") return "stack is not a string";
  if (!Array.isArray(v.resources)) return "resources is not a list";
  if (!isObject(v.outputs)) return "outputs is not an object";
  for (const [i, r] of v.resources.entries()) {
    if (!isObject(r)) return `resources[${i}] is not an object`;
    for (const k of ["urn", "type", "name"]) {
      if (typeof r[k] !== "string") return `resources[${i}].${k} is not a string`;
    }
    if (r.parent !== null && typeof r.parent !== "string") {
      return `resources[${i}].parent is not a URN or null`;
    }
    if (!isObject(r.inputs)) return `resources[${i}].inputs is not an object`;
    if (!Array.isArray(r.dependencies) || r.dependencies.some((d) => typeof d !== "string")) {
      return `resources[${i}].dependencies is not a list of URNs`;
    }
  }
  return undefined;
}

/** A JSON file's content; throws a one-line reason. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(fileProblem(e, file, false));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message})`);
  }
}

/** Reads a saved plan for `--diff`; throws a one-line reason. */
export function readBasePlan(file: string): Plan {
  const v = readJson(file);
  const problem = planShapeProblem(v);
  if (problem) throw new Error(`not a plan (a --json output of npm run plan): ${problem}`);
  return v as Plan;
}

/**
 * Checks that `--json <file>` can be written, before planning: opens it as the write will (and
 * removes it again if it did not exist). Throws a one-line reason.
 */
export function checkWritable(file: string): void {
  const existed = existsSync(file);
  try {
    closeSync(openSync(file, existed ? "a" : "wx"));
  } catch (e) {
    throw new Error(fileProblem(e, file, true));
  }
  if (!existed) unlinkSync(file);
}

/** Reads and checks `--policy-config <file>`; throws the problems, one per line. */
export function readPolicyConfig(file: string): PolicyConfig {
  const v = readJson(file);
  const problems = policyConfigProblems(policies, v);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return v as PolicyConfig;
}

/** CLI entry: returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let args: PlanArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  // Every file flag is checked before planning: a bad one fails at once, not after the plan.
  let policyConfig: PolicyConfig = {};
  if (args.policyConfig) {
    try {
      policyConfig = readPolicyConfig(args.policyConfig);
    } catch (e) {
      const [first, ...more] = (e as Error).message.split("\n");
      const text =
        more.length === 0
          ? `--policy-config ${args.policyConfig}: ${first}`
          : `--policy-config ${args.policyConfig}:\n  ${[first, ...more].join("\n  ")}`;
      console.error(formatError(text));
      return 2;
    }
  }
  let base: Plan | undefined;
  if (args.diff) {
    try {
      base = readBasePlan(args.diff);
    } catch (e) {
      console.error(formatError(`--diff ${args.diff}: ${(e as Error).message}`));
      return 1;
    }
  }
  if (args.json) {
    try {
      checkWritable(args.json);
    } catch (e) {
      console.error(formatError(`--json ${args.json}: ${(e as Error).message}`));
      return 1;
    }
  }
  let plan: Plan;
  try {
    plan = await planStack(args.stack, args.stacksDir, args.stackOutputs);
  } catch (e) {
    if (pulumi.RunError.isInstance(e) || e instanceof StackFileError) {
      console.error(formatError(e.message));
      return 1;
    }
    throw e;
  }
  plan.policyViolations = await runPolicies(policies, plan.resources, policyConfig);
  console.log(formatTree(plan));
  console.log("\n" + formatViolations(plan.policyViolations));
  let diff: PlanDiff | undefined;
  if (args.diff && base) {
    diff = diffPlans(base, plan);
    diff.anchors = anchorChanges(base, plan, diff);
    console.log("\n" + formatDiff(diff, `Diff against ${args.diff}`));
    console.log("\n" + formatAnchorChanges(diff.anchors));
  }
  if (args.json) {
    try {
      writeFileSync(args.json, JSON.stringify(diff ? { ...plan, diff } : plan, null, 2) + "\n");
    } catch (e) {
      console.error(formatError(`--json ${args.json}: ${fileProblem(e, args.json, true)}`));
      return 1;
    }
    console.log(`\nWrote ${args.json}`);
  }
  if (plan.policyViolations.some((v) => v.enforcementLevel === "mandatory")) return 3;
  if (diff?.anchors !== undefined && diff.anchors.length > 0) return ANCHOR_EXIT_CODE;
  return args.expectNoChanges && diff && !isEmptyDiff(diff) ? 4 : 0;
}

if (require.main === module) {
  // A RunError thrown while a resource's inputs resolve (e.g. a referenced stack whose outputs do
  // not fit) rejects no promise the plan awaits: report it as the engine does (its message only,
  // no stack; pulumi/pulumi sdk/nodejs/cmd/run/run.ts uncaughtHandler) and fail the run.
  process.on("unhandledRejection", (e: unknown) => {
    if (!pulumi.RunError.isInstance(e)) throw e;
    console.error(formatError(e.message));
    process.exit(1);
  });
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
