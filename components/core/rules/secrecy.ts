/**
 * Secure values where the package needs them, and nowhere else. A password must be a secure value
 * (a {@link secureString} field); every other value is used in clear — in resource inputs, URLs,
 * outputs — so a secure one there would be shown to anyone who reads the plan, and is refused.
 * Every leaf of every known key is checked, whatever its depth (lists of nodes and workloads
 * included); a leaf the schema does not know is never a password, so it must not be secure.
 */
import { z } from "zod";
import { pulumiConfigPath, secureString } from "../../config-fields";
import type { KeyPath } from "../../federation/contract";
import { isRecord } from "../problems";

/**
 * Whether the schema expects a secure value at `path`: true for a {@link secureString} field,
 * false for any other path (known or not).
 */
export function expectsSecret(schema: z.ZodType, path: readonly PropertyKey[]): boolean {
  let options: z.ZodType[] = [schema];
  for (let i = 0; ; i++) {
    // Unwrap optionals and pipes; fan out over union options.
    const flat: z.ZodType[] = [];
    const todo = [...options];
    while (todo.length > 0) {
      const s = todo.pop() as z.ZodType;
      if (s instanceof z.ZodOptional) todo.push(s.unwrap() as z.ZodType);
      else if (s instanceof z.ZodPipe) todo.push(s.in as z.ZodType);
      else if (s instanceof z.ZodUnion) todo.push(...(s.options as z.ZodType[]));
      else flat.push(s);
    }
    if (i === path.length) {
      return flat.some((s) => s === secureString);
    }
    const seg = path[i];
    options = [];
    for (const s of flat) {
      if (s instanceof z.ZodObject && typeof seg === "string" && seg in s.shape) {
        options.push(s.shape[seg] as z.ZodType);
      } else if (s instanceof z.ZodArray && typeof seg === "number") {
        options.push(s.element as z.ZodType);
      } else if (s instanceof z.ZodRecord && typeof seg === "string") {
        options.push(s.valueType as z.ZodType);
      }
    }
    if (options.length === 0) return false;
  }
}

/** Every scalar in a config value, with its path below the value. */
export function leaves(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (isRecord(value)) return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}

/** Whether some secure path lies under the top-level `key`. */
function hasPathUnder(key: string, secretPaths: ReadonlySet<string> | undefined): boolean {
  for (const p of secretPaths ?? []) {
    if (p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[`)) return true;
  }
  return false;
}

/** One leaf of a top-level key: where it is, whether it must be secure, whether it is. */
interface SecureLeaf {
  /** The path below the key. */
  path: PropertyKey[];
  /** The schema expects a secure value here. */
  expected: boolean;
  /** Pulumi holds it as a secret; undefined when only the whole key is known to hold one. */
  held: boolean | undefined;
}

/**
 * Every leaf of `raw[key]` with what the schema expects and what Pulumi holds. Per leaf, Pulumi's
 * secrecy is known for a key that holds no secret, for a scalar key, and from the stack file's
 * `secure:` paths; otherwise only the key as a whole is known to hold one.
 */
function secureLeaves(
  key: string,
  value: unknown,
  schema: z.ZodType | undefined,
  secretKeys: ReadonlySet<string>,
  secretPaths: ReadonlySet<string> | undefined,
): SecureLeaf[] {
  const isScalar = !Array.isArray(value) && !isRecord(value);
  const known = !secretKeys.has(key) || isScalar || hasPathUnder(key, secretPaths);
  return leaves(value).map((path) => ({
    path,
    expected: schema !== undefined && expectsSecret(schema, path),
    held: !known
      ? undefined
      : secretKeys.has(key) &&
        (isScalar || (secretPaths?.has(pulumiConfigPath([key, ...path])) ?? false)),
  }));
}

/**
 * The problems of secrecy in `raw`. `schemaOf` gives a top-level key's schema (undefined for a
 * key the package does not know, reported elsewhere).
 *
 * With `secretPaths` (the stack file's `secure:` leaves) each value is checked on its own. Without
 * them only what the engine tells the program is known: which top-level keys hold any secure
 * value. A secure block that has no password field then holds a secure value where none belongs;
 * a secure block with a password field passes (the password may be the secure one).
 */
export function secrecyProblems(
  raw: Readonly<Record<string, unknown>>,
  schemaOf: (key: string) => z.ZodType | undefined,
  secretKeys: ReadonlySet<string>,
  secretPaths?: ReadonlySet<string>,
): [KeyPath, string][] {
  const out: [KeyPath, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    const schema = schemaOf(key);
    if (schema === undefined) continue;
    const fields = secureLeaves(key, value, schema, secretKeys, secretPaths);
    if (fields.some((f) => f.held === undefined)) {
      if (!fields.some((f) => f.expected)) {
        out.push([
          [key],
          "holds a secure value, but none of its values may be secret; the package uses them in clear (resource inputs, outputs): set them without --secret",
        ]);
      }
      continue;
    }
    for (const { path, expected, held } of fields) {
      const full = [key, ...path];
      if (expected && !held) {
        out.push([
          full,
          `must be a secure value (pulumi config set --secret --path ${pulumiConfigPath(full)} …)`,
        ]);
      } else if (!expected && held) {
        out.push([
          full,
          "must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
        ]);
      }
    }
  }
  return out;
}

/**
 * The secure values' texts, for keeping them out of problem messages. With the stack file's
 * paths, each leaf Pulumi holds as a secret; knowing only which top-level keys are secret, each
 * leaf of such a key where a secure value belongs (its other leaves are refused secure as a
 * whole, by key, and may be quoted). Empty strings are left out.
 */
export function secureTexts(
  raw: Readonly<Record<string, unknown>>,
  schemaOf: (key: string) => z.ZodType | undefined,
  secretKeys: ReadonlySet<string>,
  secretPaths?: ReadonlySet<string>,
): string[] {
  const out = new Set<string>();
  for (const key of secretKeys) {
    const value = raw[key];
    for (const { path, expected, held } of secureLeaves(
      key,
      value,
      schemaOf(key),
      secretKeys,
      secretPaths,
    )) {
      if (!(held ?? expected)) continue;
      let v: unknown = value;
      for (const p of path) v = (v as Record<PropertyKey, unknown>)[p];
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
        if (String(v) !== "") out.add(String(v));
      }
    }
  }
  return [...out];
}
