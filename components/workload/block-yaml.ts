/**
 * A fast path for `yaml`'s `stringify(value, { lineWidth: 0 })` of the plain JSON trees the
 * package prints as YAML (the pod patch: one per workload, thousands in a large stack), with the
 * library's output byte for byte. It writes block maps and block sequences as the library does
 * by default (sequences indented under their key, empty collections as `[]` and `{}`), and each
 * string only when the library itself writes that string as a plain scalar (asked once per
 * distinct string). Anything else (a quoted or multi-line string, a fraction, a key that is not
 * a simple word) makes it hand the whole tree to the library, so its output is always the
 * library's.
 */
import { stringify } from "yaml";

/** Options the fast path reproduces: no line folding. */
const OPTIONS = { lineWidth: 0 } as const;

/** Keys the fast path writes as they are: the library writes these plain. */
const SIMPLE_KEY = /^[A-Za-z][A-Za-z0-9_.\/-]*$/;

/**
 * Strings the library surely writes plain (names, paths, images, `sha256:` checksums, URLs): one
 * line, no space, starting with a letter, `/` or `_` (no number, `.inf`, `~`, indicator or
 * document marker), not ending with `:`; minus the core schema's null and boolean words. Asking
 * the library costs about a thousand times more; it decides every other string.
 */
const SURELY_PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+=:-]*$/;
const WORDS = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$|:$/;

/** True for a string of {@link SURELY_PLAIN}'s kind (exported for its test). */
export const surelyPlain = (s: string): boolean => SURELY_PLAIN.test(s) && !WORDS.test(s);

/** Whether the library writes a string as a plain scalar in block context, by string. */
const plainCache = new Map<string, boolean>();
const PLAIN_CACHE_LIMIT = 50_000;

/**
 * True when the library writes `s`, as a value in a block collection, as `s` itself. Asked of
 * the library as a document of that one string: for a one-line string the library's plain-or-
 * quoted choice does not depend on the indentation, except for a string starting with a document
 * marker, which it writes as a block scalar at the top level only (so such strings take the slow
 * path, which is still correct).
 */
function isPlain(s: string): boolean {
  if (surelyPlain(s)) return true;
  let plain = plainCache.get(s);
  if (plain === undefined) {
    plain = !s.includes("\n") && stringify(s, OPTIONS) === `${s}\n`;
    if (plainCache.size >= PLAIN_CACHE_LIMIT) plainCache.clear();
    plainCache.set(s, plain);
  }
  return plain;
}

/** Thrown inside the fast path when a value needs the library. */
class NeedsLibrary extends Error {}

function scalar(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number" && Number.isSafeInteger(v) && v > 0) return String(v);
  if (v === 0 && !Object.is(v, -0)) return "0";
  if (typeof v === "string" && isPlain(v)) return v;
  throw new NeedsLibrary();
}

/** An array or a plain object (anything else with a prototype of its own: the library). */
function isCollection(v: unknown): v is object {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== Array.prototype) throw new NeedsLibrary();
  return true;
}

/** `key: value` lines of a map at `indent`; the first line without its indentation. */
function mapLines(o: object, indent: string, out: string[], first: boolean): void {
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  entries.forEach(([k, v], i) => {
    if (!SIMPLE_KEY.test(k) || !isPlain(k)) throw new NeedsLibrary();
    const lead = first && i === 0 ? "" : indent;
    if (!isCollection(v)) {
      out.push(`${lead}${k}: ${scalar(v)}\n`);
    } else if (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0) {
      out.push(`${lead}${k}: ${Array.isArray(v) ? "[]" : "{}"}\n`);
    } else if (Array.isArray(v)) {
      out.push(`${lead}${k}:\n`);
      seqLines(v, `${indent}  `, out);
    } else {
      out.push(`${lead}${k}:\n`);
      mapLines(v, `${indent}  `, out, false);
    }
  });
}

/** `- item` lines of a non-empty sequence at `indent`. */
function seqLines(items: unknown[], indent: string, out: string[]): void {
  for (const v of items) {
    if (!isCollection(v)) {
      out.push(`${indent}- ${scalar(v)}\n`);
    } else if (Array.isArray(v) || Object.keys(v).length === 0) {
      // Nested sequences and empty maps in a sequence: rare here; the library writes them.
      throw new NeedsLibrary();
    } else {
      out.push(`${indent}- `);
      mapLines(v, `${indent}  `, out, true);
    }
  }
}

/**
 * `stringify(value, { lineWidth: 0 })` of a non-empty plain object, from the fast path when it
 * applies (see the module's comment), else from the library.
 */
export function blockYaml(value: object): string {
  const out: string[] = [];
  try {
    if (isCollection(value) && !Array.isArray(value) && Object.keys(value).length > 0) {
      mapLines(value, "", out, false);
      return out.join("");
    }
  } catch (e) {
    if (!(e instanceof NeedsLibrary)) throw e;
  }
  return stringify(value, OPTIONS);
}
