/**
 * The shapes every verify check shares: a check's verdict, the context the checks read, and the
 * check's own signature. A check never throws for a finding: it returns FAIL with the reason and
 * the fix; an exception is a bug or an unreachable system, which the runner turns into a FAIL.
 */
import type { StackModel } from "../../components/config";

/** A check's verdict. */
export type Status = "PASS" | "FAIL" | "SKIP";

/** One verdict, one line of output. */
export interface CheckResult {
  /** The check that produced it, e.g. `discovery`. */
  check: string;
  /** The relying party or area it concerns, e.g. `vault`, `core`. */
  party: string;
  /** The workload it concerns, when it concerns one. */
  workload?: string;
  /** What was checked, e.g. `issuer`. */
  name: string;
  /** The verdict. */
  status: Status;
  /** Why: the values compared, the answer seen. */
  reason: string;
  /** What to do about a FAIL or SKIP. */
  fix?: string;
}

/** The deployed stack's outputs (`pulumi stack output --json --show-secrets`). */
export type StackOutputs = Readonly<Record<string, unknown>>;

/** What every check reads. */
export interface VerifyContext {
  /** The stack name. */
  stack: string;
  /** The stack config as the plan reads it, validated. */
  model: StackModel;
  /** The deployed stack's outputs. */
  outputs: StackOutputs;
  /** Extra trust for every TLS call (PEM bundle), from `--ca-file`. */
  caPem?: string;
  /** Where spiffe-helper writes the workload's SVIDs (turns on the token exchanges). */
  svidDir?: string;
  /** The process environment (credentials such as VAULT_TOKEN). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Every credential and token seen so far: each message passes through `redact` with these
   * before it is printed. Checks add what they read.
   */
  secrets: string[];
  /** Reports progress on stderr. */
  progress(message: string): void;
  /** Overall deadline of one HTTP call, ms. */
  deadlineMs: number;
  /**
   * The outputs of a stack this one references (`org/project/stack`), from `--stack-outputs` or
   * `<stacks dir>/outputs/<org>/<project>/<stack>.json`. Throws a one-line reason.
   */
  stackOutputs?(name: string): Record<string, unknown>;
}

/** A named check: what `--checks` selects. */
export interface Check {
  /** Its `--checks` name. */
  name: string;
  /** Whether the stack configures what it verifies (the default selection). */
  applies(ctx: VerifyContext): boolean;
  /** Runs it; never throws for a finding. */
  run(ctx: VerifyContext): Promise<CheckResult[]>;
}
