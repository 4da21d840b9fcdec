/**
 * For the workflow tests: the shape of a GitHub Actions workflow's jobs and steps as they read
 * them, and a step's `run` script run as the GitHub runner would.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** A step of a workflow job: an action it uses or a script it runs. */
export interface WorkflowStep {
  uses?: string;
  run?: string;
  id?: string;
  name?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

/** A job of a workflow. */
export interface WorkflowJob {
  "runs-on": string;
  needs?: string;
  if?: string;
  steps: WorkflowStep[];
  outputs?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
}

/**
 * Runs `script` with bash -e and `env` (plus PATH and the runner's output and summary files);
 * returns its exit code, its `stacks` output parsed as JSON, and its stdout with the summary.
 */
export function runPickScript(
  script: string,
  env: Record<string, string>,
): { code: number; stacks?: unknown; log: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "gha-"));
  const output = path.join(dir, "output");
  const summary = path.join(dir, "summary");
  writeFileSync(output, "");
  writeFileSync(summary, "");
  let code = 0;
  let log = "";
  try {
    log = execFileSync("bash", ["-e", "-c", script], {
      env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    code = err.status;
    log = err.stdout;
  }
  const line = readFileSync(output, "utf8")
    .split("\n")
    .find((l) => l.startsWith("stacks="));
  return {
    code,
    stacks: line === undefined ? undefined : JSON.parse(line.slice("stacks=".length)),
    log: log + readFileSync(summary, "utf8"),
  };
}
