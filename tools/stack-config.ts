/**
 * Reads `stacks/Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: every
 * value as a string (structured values JSON-encoded), secure values (`{ secure: … }`, at the top
 * or nested) replaced by a placeholder and their top-level key listed as secret — and, beyond
 * what the engine hands a program, the path of each secure value.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { pulumiConfigPath } from "../components/config-fields";

/** Placeholder that stands in for a secure value the offline plan cannot decrypt. */
export const SECRET_PLACEHOLDER = "offline-plan-placeholder-secret";

/** Config as the program receives it. */
export interface LoadedStackConfig {
  /** `ns:key` → string value. */
  config: Record<string, string>;
  /** Keys whose values are (or contain) secure values. */
  secretKeys: string[];
  /**
   * Each secure value's full key and path, in `pulumi config set --path` syntax:
   * `spire-federation:spire.datastore.password` (what the engine does not tell a program).
   */
  secretPaths: string[];
}

function replaceSecure(v: unknown, found: string[], path: PropertyKey[]): unknown {
  if (Array.isArray(v)) {
    return v.map((x, i) => replaceSecure(x, found, [...path, i]));
  }
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.secure === "string") {
      found.push(pulumiConfigPath(path));
      return SECRET_PLACEHOLDER;
    }
    return Object.fromEntries(
      Object.entries(o).map(([k, x]) => [k, replaceSecure(x, found, [...path, k])]),
    );
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
  const secretPaths: string[] = [];
  for (const [key, value] of Object.entries(configMap as Record<string, unknown>)) {
    const found: string[] = [];
    const plain = replaceSecure(value, found, [key]);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (found.length > 0) {
      secretKeys.push(key);
      secretPaths.push(...found);
    }
  }
  return { config, secretKeys, secretPaths };
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
