/**
 * How the config parser collects problems: one line per problem, each prefixed with its full key
 * path (`spire-federation:workloads[2].namespace: must be a DNS-1123 label`), zod's issues
 * reworded into the package's voice. The core's rules (`./rules/*`) and the relying parties'
 * checks report through one {@link Problems} so that every problem is listed at once.
 */
import type { z } from "zod";
import type { KeyPath } from "../federation/contract";

/** The Pulumi config namespace of this package (the project name). */
export const CONFIG_NAMESPACE = "spire-federation";

/** How many problems the message of a {@link ConfigError} lists; `problems` holds them all. */
export const MAX_LISTED_PROBLEMS = 100;

/** Thrown when the stack config is invalid; `problems` holds one line per problem. */
export class ConfigError extends Error {
  /** Each problem as `<namespace>:<key path>: <what is wrong>` (all of them). */
  readonly problems: string[];
  constructor(problems: string[]) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    const more = problems.length - listed.length;
    super(
      `invalid stack config:\n  ${listed.join("\n  ")}` +
        (more > 0 ? `\n  … and ${more} more` : ""),
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Reports a problem at a key path below `spire-federation:`. */
export type Report = (path: KeyPath, message: string) => void;

/** Whether a value is a plain object (a YAML mapping). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A key path in the `pulumi config --path` spelling of lists: `workloads[2].namespace`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") {
      out += `[${p}]`;
    } else {
      out += out === "" ? String(p) : `.${String(p)}`;
    }
  }
  return out;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") {
      return undefined;
    }
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
    return "required";
  }
  if (issue.code === "invalid_key" && issue.issues.length > 0) {
    // A record key that breaks its rule: the rule's own message.
    return issueMessage(issue.issues[0], undefined);
  }
  // Messages the schema spells out win; zod's own defaults ("Invalid input…") are reworded.
  if (!issue.message.startsWith("Invalid") && !issue.message.startsWith("Too ")) {
    return issue.message;
  }
  if (issue.code === "invalid_type") {
    return `must be ${issue.expected === "object" ? "an object" : `a ${issue.expected}`}`;
  }
  if (issue.code === "invalid_value" && issue.values.length > 0) {
    return `must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
  }
  if (issue.code === "too_small" && issue.origin === "string") {
    return "must not be empty";
  }
  return issue.message;
}

/** The problems found so far, as the lines of a {@link ConfigError}. */
export class Problems {
  readonly lines: string[] = [];
  /** Reports a problem at a key path below `spire-federation:`. */
  readonly report: Report = (path, message) => this.add(path, message);
  add(path: readonly PropertyKey[], message: string): void {
    this.lines.push(`${CONFIG_NAMESPACE}:${formatPath(path)}: ${message}`);
  }
  addZod(prefix: readonly PropertyKey[], error: z.ZodError, input: unknown): void {
    for (const issue of error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          this.add([...prefix, ...issue.path, key], "unknown key");
        }
      } else {
        this.add([...prefix, ...issue.path], issueMessage(issue, input));
      }
    }
  }
  /** Indices of lines that quote no value (the secrecy rule's), left as they are by {@link redacted}. */
  private readonly quoteNoValue = new Set<number>();
  /** Adds a problem whose message quotes no config value, only key paths. */
  addUnquoted(path: readonly PropertyKey[], message: string): void {
    this.quoteNoValue.add(this.lines.length);
    this.add(path, message);
  }
  /**
   * The lines with each of `texts` (the secure values) replaced by `[secret]` in the message
   * part wherever it stands as a token of its own (no letter or digit on either side), so that
   * no rule quotes a secure value. One regular expression, one pass over each line.
   */
  redacted(texts: readonly string[]): string[] {
    const sorted = [...new Set(texts)].filter((t) => t !== "").sort((a, b) => b.length - a.length);
    if (sorted.length === 0) return this.lines;
    const alternatives = sorted.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
    const pattern = new RegExp(`(?<![A-Za-z0-9])(?:${alternatives})(?![A-Za-z0-9])`, "g");
    return this.lines.map((line, i) => {
      const at = line.indexOf(": ");
      if (at < 0 || this.quoteNoValue.has(i)) return line;
      return line.slice(0, at + 2) + line.slice(at + 2).replace(pattern, "[secret]");
    });
  }
  parse<T>(schema: z.ZodType<T>, value: unknown, path: readonly PropertyKey[]): T | undefined {
    const result = schema.safeParse(value);
    if (result.success) {
      return result.data;
    }
    this.addZod(path, result.error, value);
    return undefined;
  }
}

/**
 * One field of an object read on its own, so that a rule runs on whatever is valid: `valid` is
 * false when the raw value is set and breaks the field's schema (the rule must then skip);
 * `value` is the parsed value (undefined when unset or invalid).
 */
export function fieldOf<S extends z.ZodType>(
  schema: S,
  raw: unknown,
): { valid: boolean; value: z.output<S> | undefined } {
  const r = schema.safeParse(raw);
  return r.success ? { valid: true, value: r.data } : { valid: false, value: undefined };
}
