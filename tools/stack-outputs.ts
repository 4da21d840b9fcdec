/**
 * Outputs of the stacks a program references (`pulumi.StackReference`), for planning offline:
 * the plan has no Pulumi service to ask, so each referenced stack's outputs come from a file, in
 * the format `pulumi stack output --json` prints (one JSON object, output name → value).
 *
 * Where a reference's file is looked up, first match wins:
 * 1. `--stack-outputs org/project/stack=FILE` on the plan's command line;
 * 2. the convention `<stacks dir>/outputs/<org>/<project>/<stack>.json`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** A fully qualified stack name, as a StackReference takes it. */
const STACK_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Parses one `--stack-outputs` value, `org/project/stack=FILE`; throws a one-line reason. */
export function parseStackOutputsFlag(value: string): [name: string, file: string] {
  const at = value.indexOf("=");
  const name = at < 0 ? value : value.slice(0, at);
  const file = at < 0 ? "" : value.slice(at + 1);
  if (!STACK_NAME.test(name) || file === "") {
    throw new Error(`--stack-outputs ${value}: must be org/project/stack=FILE`);
  }
  return [name, file];
}

/** Where the outputs of `name` are read from. */
export function stackOutputsFile(
  name: string,
  stacksDir: string,
  given: Readonly<Record<string, string>> = {},
): string {
  return given[name] ?? path.join(stacksDir, "outputs", ...name.split("/")) + ".json";
}

/**
 * Reads the outputs of the referenced stack `name`; throws a one-line reason naming the stack,
 * the file and how to provide it.
 */
export function readStackOutputs(
  name: string,
  stacksDir: string,
  given: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const file = stackOutputsFile(name, stacksDir, given);
  const how = `give its outputs with --stack-outputs ${name}=FILE (pulumi stack output --json --stack ${name})`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`stack reference ${name}: no outputs at ${file}; ${how}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`stack reference ${name}: ${file} is not JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`stack reference ${name}: ${file} must hold one JSON object of outputs`);
  }
  return value as Record<string, unknown>;
}
