#!/usr/bin/env node
/**
 * Proves a deployed stack works, relying party by relying party, and says why not:
 *
 *   npm run verify -- --stack NAME --outputs FILE|- [--checks LIST] [--ca-file PEM]
 *                     [--svid-dir DIR] [--json FILE] [--stacks-dir DIR]
 *
 * The expected state is the stack's outputs (`pulumi stack output --json --show-secrets`) and its
 * config as the offline plan reads it. One line per check on stdout (PASS / FAIL / SKIP, the
 * reason and the fix), progress on stderr. Exit 0 when every selected check passes (or is
 * skipped), 1 when one fails, 2 on bad usage. Read-only: verify changes nothing anywhere; every
 * call goes through the package's hardened HTTP client; tokens and credentials never printed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError, parseStackConfig } from "../../components/config";
import { redact } from "../../components/http/client";
import { decode } from "../../program";
import { loadStackConfig, StackFileError } from "../stack-config";
import { parseStackOutputsFlag, readStackOutputs } from "../stack-outputs";
import { discoveryCheck } from "./discovery";
import { buildReport, formatReport, type VerifyReport } from "./report";
import { rotationCheck } from "./rotation";
import { stackCheck } from "./stack";
import type { Check, CheckResult, StackOutputs, VerifyContext } from "./types";
import { vaultCheck } from "./vault";
import { azureCheck } from "./azure";
import { gcpCheck } from "./gcp";
import { openzitiCheck } from "./openziti";
import { curityCheck } from "./curity";
import { nodesCheck } from "./nodes";
import { federationCheck } from "./federation";

/** Every check, in the order they run. */
export const CHECKS: readonly Check[] = [
  stackCheck,
  discoveryCheck,
  rotationCheck,
  vaultCheck,
  azureCheck,
  gcpCheck,
  openzitiCheck,
  curityCheck,
  nodesCheck,
  federationCheck,
];

/** The command's usage line. */
export const USAGE =
  "usage: npm run verify -- --stack NAME --outputs FILE|- [--checks " +
  CHECKS.map((c) => c.name).join(",") +
  "] [--ca-file PEM] [--svid-dir DIR] [--json FILE] [--stacks-dir DIR] [--stack-outputs org/project/stack=FILE]...";

/** Parsed arguments. */
export interface VerifyArgs {
  /** Stack name. */
  stack: string;
  /** Outputs file, or `-` for stdin. */
  outputs: string;
  /** Selected checks; undefined: every one the stack configures. */
  checks?: string[];
  /** Extra CA bundle. */
  caFile?: string;
  /** SVID directory. */
  svidDir?: string;
  /** Where to write the JSON report. */
  json?: string;
  /** Where the stack files are. Default: `<cwd>/stacks`. */
  stacksDir?: string;
  /** Referenced stacks' outputs files, `org/project/stack` → file (`--stack-outputs`, repeatable). */
  stackOutputs?: Record<string, string>;
}

/** A usage problem (exit 2). */
export class UsageError extends Error {}

const FLAGS: Record<string, keyof VerifyArgs> = {
  "--stack": "stack",
  "--outputs": "outputs",
  "--checks": "checks",
  "--ca-file": "caFile",
  "--svid-dir": "svidDir",
  "--json": "json",
  "--stacks-dir": "stacksDir",
};

/** Parses the command line. @throws UsageError */
export function parseArgs(argv: readonly string[]): VerifyArgs {
  const v: Partial<Record<keyof VerifyArgs, string>> = {};
  const stackOutputs: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--stack-outputs") {
      try {
        const [name, file] = parseStackOutputsFlag(argv[++i] ?? "");
        stackOutputs[name] = file;
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      continue;
    }
    const key = FLAGS[argv[i]];
    if (key === undefined) throw new UsageError(`unknown argument ${argv[i]}`);
    const value = argv[++i];
    if (value === undefined || (value.startsWith("--") && value !== "-")) {
      throw new UsageError(`${argv[i - 1]} needs a value`);
    }
    v[key] = value;
  }
  if (!v.stack) throw new UsageError("--stack is required");
  if (!v.outputs) throw new UsageError("--outputs is required (a file, or - for stdin)");
  let checks: string[] | undefined;
  if (v.checks !== undefined) {
    checks = v.checks
      .split(",")
      .map((c) => c.trim())
      .filter((c) => c !== "");
    const known = CHECKS.map((c) => c.name);
    const unknown = checks.filter((c) => !known.includes(c));
    if (unknown.length > 0 || checks.length === 0) {
      throw new UsageError(
        `--checks: ${unknown.length ? `unknown check ${unknown.join(", ")}` : "empty"}; known: ${known.join(", ")}`,
      );
    }
  }
  return { ...(v as VerifyArgs), checks, stackOutputs };
}

/** Reads standard input (replaceable in tests). */
export type StdinReader = () => string;
const readStdin: StdinReader = () => readFileSync(0, "utf8");

function readText(file: string, what: string, stdin: StdinReader = readStdin): string {
  try {
    return file === "-" ? stdin() : readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(
      `${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/** Reads the outputs JSON. @throws UsageError */
export function readOutputs(file: string, stdin?: StdinReader): StackOutputs {
  const text = readText(file, "--outputs", stdin);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(
      `--outputs ${file}: not JSON (write it with pulumi stack output --json --show-secrets)`,
    );
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new UsageError(`--outputs ${file}: not a JSON object of stack outputs`);
  }
  return v as StackOutputs;
}

/** The context of a run. @throws UsageError on a bad file or an invalid stack config */
export function loadContext(
  args: VerifyArgs,
  env: Readonly<Record<string, string | undefined>>,
  progress: (m: string) => void,
  stdin?: StdinReader,
): VerifyContext {
  const outputs = readOutputs(args.outputs, stdin);
  let loaded;
  try {
    loaded = loadStackConfig(
      process.cwd(),
      args.stack,
      args.stacksDir && path.resolve(args.stacksDir),
    );
  } catch (e) {
    if (e instanceof StackFileError) throw new UsageError(e.message);
    throw e;
  }
  const prefix = "spire-federation:";
  const raw: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(loaded.config)) {
    if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = decode(value);
  }
  let model;
  try {
    model = parseStackConfig(raw, {
      azureSubscriptionId: loaded.config["azure-native:subscriptionId"],
      providerConfig: { "vault:address": loaded.config["vault:address"] },
    });
  } catch (e) {
    if (e instanceof ConfigError)
      throw new UsageError(`the stack config is invalid:\n${e.message}`);
    throw e;
  }
  const caPem = args.caFile === undefined ? undefined : readText(args.caFile, "--ca-file");
  if (caPem !== undefined && !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`--ca-file ${args.caFile}: no PEM certificate in it`);
  }
  return {
    stack: args.stack,
    model,
    outputs,
    caPem,
    svidDir: args.svidDir,
    env,
    secrets: [],
    progress,
    deadlineMs: 30_000,
    stackOutputs: (name) =>
      readStackOutputs(name, path.resolve(args.stacksDir ?? "stacks"), args.stackOutputs),
  };
}

/** Runs the selected checks; an unexpected exception becomes that check's FAIL. */
export async function runChecks(ctx: VerifyContext, names?: string[]): Promise<VerifyReport> {
  const selected = CHECKS.filter((c) => (names ? names.includes(c.name) : c.applies(ctx)));
  const results: CheckResult[] = [];
  for (const check of selected) {
    ctx.progress(`${check.name}: running`);
    try {
      results.push(...(await check.run(ctx)));
    } catch (e) {
      results.push({
        check: check.name,
        party: "core",
        name: "run",
        status: "FAIL",
        reason: `the check stopped: ${e instanceof Error ? e.message : String(e)}`,
        fix: "report this as a bug with the message",
      });
    }
  }
  return buildReport(
    ctx.stack,
    selected.map((c) => c.name),
    results,
    ctx.secrets,
  );
}

/** Where the command reads and writes (the process's, unless a test replaces them). */
export interface VerifyIo {
  /** The environment (credentials). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Writes one stdout line. */
  out?: (s: string) => void;
  /** Writes one stderr line. */
  err?: (s: string) => void;
  /** Reads stdin (for `--outputs -`). */
  stdin?: StdinReader;
  /** Overall deadline of one HTTP call in ms (default 30 s; the fault tests shorten it). */
  deadlineMs?: number;
}

/** The command; returns the exit code. */
export async function main(argv: readonly string[], io: VerifyIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((s: string) => void process.stdout.write(s + "\n"));
  const err = io.err ?? ((s: string) => void process.stderr.write(s + "\n"));
  let ctx: VerifyContext;
  let args: VerifyArgs;
  try {
    args = parseArgs(argv);
    const secrets: string[] = [];
    ctx = loadContext(args, env, (m) => err(redact(`verify: ${m}`, secrets)), io.stdin);
    ctx.secrets = secrets;
    ctx.deadlineMs = io.deadlineMs ?? ctx.deadlineMs;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`verify: ${e.message}`);
      err(USAGE);
      return 2;
    }
    throw e;
  }
  const report = await runChecks(ctx, args.checks);
  out(formatReport(report));
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2) + "\n");
  return report.summary.fail > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`verify: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
