/**
 * Reads `stacks/Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: every
 * value as a string (structured values JSON-encoded), secure values (`{ secure: … }`, at the top
 * or nested) replaced by a placeholder and their top-level key listed as secret — and, beyond
 * what the engine hands a program, the path of each secure value.
 *
 * Like the CLI (Go's yaml.v3), it accepts anchors, aliases and `<<` merge keys, and rejects
 * syntax errors and duplicate keys; it also rejects an empty file. Every such problem is a
 * {@link StackFileError} naming the file, line and column.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
} from "yaml";
import { pulumiConfigPath } from "../components/config-fields";
import { CONFIG_NAMESPACE } from "../components/core/problems";

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

/** A stack file that cannot be read or parsed: one line, `<file>:<line>:<col>: <what>`. */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
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

/** Where a YAML node starts, if it is one. */
function start(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}

/** `file:line:col` for a character offset. */
function where(file: string, lines: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return file;
  const { line, col } = lines.linePos(offset);
  return `${file}:${line}:${col}`;
}

/** The YAML library's messages are sentences ("Map keys must be unique"); keep the house style. */
function lower(message: string): string {
  return (message.charAt(0).toLowerCase() + message.slice(1)).replace(/\.$/, "");
}

/** The message for a parse error, in plain words for the mistakes hand-edited files have. */
function parseProblem(
  doc: Document.Parsed,
  lines: LineCounter,
  code: string,
  message: string,
  offset: number,
): string {
  if (code === "MULTIPLE_DOCS") {
    return "a stack file holds one YAML document; remove the second ---";
  }
  if (code === "DUPLICATE_KEY") {
    // Name the key and where it first appears, as the CLI's yaml.v3 does.
    let found: string | undefined;
    visit(doc, {
      Map(_, map) {
        const i = map.items.findIndex((p) => start(p.key) === offset);
        if (i < 0) return undefined;
        const key = map.items[i].key;
        const name = isScalar(key) ? String(key.value) : String(key);
        const first = map.items.find(
          (p, j) => j < i && isScalar(p.key) && isScalar(key) && p.key.value === key.value,
        );
        const firstAt = start(first?.key);
        found =
          `duplicate key ${JSON.stringify(name)}` +
          (firstAt === undefined ? "" : ` (first at line ${lines.linePos(firstAt).line})`);
        return visit.BREAK;
      },
    });
    return found ?? "duplicate key";
  }
  return lower(message);
}

/**
 * Turns a stack file's `config:` map into program config.
 * @throws StackFileError on a syntax error, a duplicate key, a bad merge key, an empty file or
 * a `config` that is not a mapping.
 */
export function stackConfigFromYaml(text: string, file = "stack file"): LoadedStackConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const offset = first.pos[0];
    throw new StackFileError(
      `${where(file, lines, offset)}: ${parseProblem(doc, lines, first.code, first.message, offset)}`,
    );
  }
  // A merge source must be a mapping (or a list of them); the library throws a bare Error
  // without a position at toJS(), so check first and say where.
  visit(doc, {
    Pair(_, pair) {
      // With `merge: true` a plain `<<` key parses to a symbol; a quoted "<<" stays a string.
      if (!isScalar(pair.key) || typeof pair.key.value !== "symbol") return;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const s of sources) {
        const target = isAlias(s) ? s.resolve(doc) : s;
        if (!isMap(target)) {
          throw new StackFileError(
            `${where(file, lines, start(s) ?? start(pair.key))}: a << merge key needs a mapping, an alias of one, or a list of them`,
          );
        }
      }
    },
  });
  if (doc.contents === null) {
    throw new StackFileError(`${file}:1:1: the stack file is empty; it needs a config: mapping`);
  }
  if (!isMap(doc.contents)) {
    throw new StackFileError(
      `${where(file, lines, start(doc.contents))}: a stack file must be a mapping with a config: key`,
    );
  }
  const configNode = doc.contents.get("config", true);
  if (configNode !== undefined && configNode !== null && !isMap(configNode)) {
    const empty = isScalar(configNode) && configNode.value === null;
    if (!empty) {
      throw new StackFileError(
        `${where(file, lines, start(configNode))}: config must be a mapping of keys to values`,
      );
    }
  }
  if (isMap(configNode)) noNamespaceCheck(configNode.items, file, lines);
  let js: Record<string, unknown>;
  try {
    js = doc.toJS() as Record<string, unknown>;
  } catch (e) {
    // e.g. an alias expanded past the library's limit (a "billion laughs" file)
    throw new StackFileError(`${file}: ${lower((e as Error).message)}`);
  }
  const configMap = (js.config ?? {}) as Record<string, unknown>;
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const secretPaths: string[] = [];
  for (const [key, value] of Object.entries(configMap)) {
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

/**
 * Every config key is `<namespace>:<key>`, as the Pulumi CLI requires (it refuses the file); a
 * key without one would otherwise be ignored.
 */
function noNamespaceCheck(items: readonly { key: unknown }[], file: string, lines: LineCounter) {
  for (const { key } of items) {
    if (!isScalar(key) || typeof key.value !== "string" || key.value.includes(":")) continue;
    const name = key.value;
    throw new StackFileError(
      `${where(file, lines, start(key))}: config key ${JSON.stringify(name)} has no namespace; Pulumi config keys are <namespace>:<key>: did you mean ${CONFIG_NAMESPACE}:${name}`,
    );
  }
}

/** Loads `Pulumi.<stack>.yaml` from a stacks folder (default `<root>/stacks`). */
export function loadStackConfig(
  root: string,
  stack: string,
  stacksDir = path.join(root, "stacks"),
): LoadedStackConfig {
  const file = path.join(stacksDir, `Pulumi.${stack}.yaml`);
  const relative = path.relative(process.cwd(), file);
  const shown = relative === "" || relative.startsWith("..") ? file : relative;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new StackFileError(
        `no stack file ${shown} (stack "${stack}"); ${availableStacks(stacksDir)}`,
      );
    }
    throw new StackFileError(`${shown}: cannot read the stack file (${code ?? "read error"})`);
  }
  return stackConfigFromYaml(text, shown);
}

/** The stacks a folder holds, as a sentence for an error about a stack not found. */
function availableStacks(stacksDir: string): string {
  let names: string[];
  try {
    names = readdirSync(stacksDir)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .sort();
  } catch {
    return "the stacks folder cannot be read";
  }
  return names.length === 0
    ? "the folder holds no Pulumi.<stack>.yaml"
    : `available stacks: ${names.join(", ")}`;
}
