/**
 * Reads `stacks/Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: every
 * value as a string (structured values JSON-encoded), secure values (`{ secure: … }`, at the top
 * or nested) replaced by a placeholder and their top-level key listed as secret.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** Placeholder that stands in for a secure value the offline plan cannot decrypt. */
export const SECRET_PLACEHOLDER = "offline-plan-placeholder-secret";

/** Config as the program receives it. */
export interface LoadedStackConfig {
  /** `ns:key` → string value. */
  config: Record<string, string>;
  /** Keys whose values are (or contain) secure values. */
  secretKeys: string[];
}

function replaceSecure(v: unknown, found: { secure: boolean }): unknown {
  if (Array.isArray(v)) {
    return v.map((x) => replaceSecure(x, found));
  }
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.secure === "string") {
      found.secure = true;
      return SECRET_PLACEHOLDER;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, replaceSecure(x, found)]));
  }
  return v;
}

/** Turns a stack file's `config:` map into program config. */
export function stackConfigFromYaml(text: string, file = "stack file"): LoadedStackConfig {
  const doc = parse(text) as unknown;
  if (doc === null || typeof doc !== "object") {
    throw new Error(`${file}: not a YAML mapping`);
  }
  const configMap = (doc as Record<string, unknown>).config ?? {};
  if (configMap === null || typeof configMap !== "object" || Array.isArray(configMap)) {
    throw new Error(`${file}: config must be a mapping`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(configMap as Record<string, unknown>)) {
    const found = { secure: false };
    const plain = replaceSecure(value, found);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (found.secure) {
      secretKeys.push(key);
    }
  }
  return { config, secretKeys };
}

/** Loads `Pulumi.<stack>.yaml` from a stacks folder (default `<root>/stacks`). */
export function loadStackConfig(
  root: string,
  stack: string,
  stacksDir = path.join(root, "stacks"),
): LoadedStackConfig {
  const file = path.join(stacksDir, `Pulumi.${stack}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`no stack file ${path.relative(process.cwd(), file)} (stack "${stack}")`);
  }
  return stackConfigFromYaml(text, file);
}
