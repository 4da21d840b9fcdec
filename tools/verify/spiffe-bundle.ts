/**
 * A SPIFFE bundle as a bundle endpoint serves it, read as SPIRE 1.15.2 reads a fetched bundle
 * (`pkg/common/bundleutil/unmarshal.go`, stricter than the spec): a JWK Set whose keys each have a
 * `use` of `x509-svid` (exactly one certificate in `x5c`) or `jwt-svid` (a `kid`), a key type,
 * an integer `spiffe_refresh_hint` in seconds and a non-negative integer `spiffe_sequence` when
 * present (SPIFFE Trust Domain and Bundle §4.1, spiffe/spiffe
 * `standards/SPIFFE_Trust_Domain_and_Bundle.md`). The key rules are the config's
 * (`bootstrapBundle`, components/spire-federation/rules.ts): one source.
 */
import { X509Certificate } from "node:crypto";
import { bootstrapBundle } from "../../components/spire-federation/rules";
import { isRecord } from "./http";

/** What a bundle holds. */
export interface ServedBundle {
  /** The X.509 authorities (`x509-svid` keys). */
  x509: X509Certificate[];
  /** The `kid`s of the `jwt-svid` keys. */
  jwtKids: string[];
  /** `spiffe_refresh_hint`, seconds. */
  refreshHint?: number;
  /** `spiffe_sequence`. */
  sequence?: number;
}

/** The X.509 authorities and JWT kids of a bundle whose keys passed `bootstrapBundle`. */
function contents(doc: Record<string, unknown>): Pick<ServedBundle, "x509" | "jwtKids"> {
  const keys = (doc.keys as Record<string, unknown>[]).filter(isRecord);
  return {
    x509: keys
      .filter((k) => k.use === "x509-svid")
      .map((k) => new X509Certificate(Buffer.from((k.x5c as string[])[0], "base64"))),
    jwtKids: keys.filter((k) => k.use === "jwt-svid").map((k) => String(k.kid)),
  };
}

/** A served bundle (parsed JSON), or why SPIRE would refuse it. */
export function readServedBundle(json: unknown): { bundle: ServedBundle } | { problem: string } {
  if (!isRecord(json)) return { problem: "the bundle is not a JSON object" };
  const checked = bootstrapBundle(JSON.stringify(json));
  if ("problem" in checked) return { problem: `the bundle ${checked.problem}` };
  const keys = json.keys as unknown[];
  const untyped = keys.findIndex((k) => !isRecord(k) || typeof k.kty !== "string");
  if (untyped >= 0) return { problem: `the bundle's keys[${untyped}] has no kty (spec §4.2.1)` };
  const hint = json.spiffe_refresh_hint;
  if (hint !== undefined && !Number.isSafeInteger(hint)) {
    return {
      problem: `spiffe_refresh_hint ${JSON.stringify(hint)} is not a whole number of seconds`,
    };
  }
  const seq = json.spiffe_sequence;
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) {
    return { problem: `spiffe_sequence ${JSON.stringify(seq)} is not a non-negative integer` };
  }
  return {
    bundle: {
      ...contents(json),
      ...(hint === undefined ? {} : { refreshHint: hint as number }),
      ...(seq === undefined ? {} : { sequence: seq as number }),
    },
  };
}

/** A bundle's X.509 authorities from its text (SPIFFE JSON or PEM), or undefined when unusable. */
export function bundleAuthorities(text: string): X509Certificate[] | undefined {
  const b = bootstrapBundle(text);
  if ("problem" in b) return undefined;
  return contents(JSON.parse(b.bundle) as Record<string, unknown>).x509;
}

/** Certificates as one PEM text (Node's `ca`). */
export function pemOf(certs: readonly X509Certificate[]): string {
  return certs.map((c) => c.toString()).join("");
}

/** Whether two sets of certificates share one. */
export function shareOne(a: readonly X509Certificate[], b: readonly X509Certificate[]): boolean {
  return a.some((x) => b.some((y) => x.fingerprint256 === y.fingerprint256));
}

/** A bundle's contents in words. */
export function describeBundle(b: ServedBundle): string {
  const hint = b.refreshHint === undefined ? "no refresh hint" : `refresh hint ${b.refreshHint} s`;
  const seq = b.sequence === undefined ? "" : `, sequence ${b.sequence}`;
  return `${b.x509.length} X.509 authorit${b.x509.length === 1 ? "y" : "ies"}, ${b.jwtKids.length} JWT key(s), ${hint}${seq}`;
}
