/**
 * SPIFFE ID and trust-domain rules, as the SPIFFE ID specification (SPIFFE-ID.md §2) states them
 * and as go-spiffe v2 / SPIRE enforce them:
 *
 * - the scheme is exactly `spiffe` (lowercase) followed by `://`;
 * - the trust domain is the URI host only: no user info, no port, characters `[a-z0-9._-]`,
 *   at most 255 bytes;
 * - the path is empty or a sequence of `/segment`, each segment non-empty, not `.` or `..`,
 *   made of `[a-zA-Z0-9._-]`; no trailing slash, no percent-encoding;
 * - no query and no fragment;
 * - the whole URI is at most 2048 bytes.
 */

/** The only scheme a SPIFFE ID may use, with its separator. */
export const SPIFFE_SCHEME_PREFIX = "spiffe://";

/** Longest SPIFFE ID the specification requires implementations to support (§2.3). */
export const MAX_SPIFFE_ID_LENGTH = 2048;

/** Longest trust domain name: the RFC 3986 host limit the specification adopts (§2.3). */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const PATH_SEGMENT_CHAR = /^[a-zA-Z0-9._-]$/;

/** Thrown by {@link parseSpiffeId} and {@link parseSpiffePath}; the message names the rule broken. */
export class SpiffeIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpiffeIdError";
  }
}

/** A parsed SPIFFE ID. */
export interface SpiffeId {
  /** The trust domain name, e.g. `prod.example.org`. */
  trustDomain: string;
  /** The path, either empty or starting with `/`, e.g. `/ns/payments/sa/api`. */
  path: string;
}

/**
 * Returns the rule a trust domain name breaks, or `undefined` when it is valid.
 * Exposed so that config validation can report the reason, not just a boolean.
 */
export function trustDomainProblem(td: string): string | undefined {
  if (td.length === 0) {
    return "trust domain is missing";
  }
  if (td.includes("@")) {
    return "trust domain must not contain user info";
  }
  if (td.includes(":")) {
    return "trust domain must not contain a port";
  }
  if (td.length > MAX_TRUST_DOMAIN_LENGTH) {
    return `trust domain is longer than ${MAX_TRUST_DOMAIN_LENGTH} characters`;
  }
  for (const c of td) {
    if (!TRUST_DOMAIN_CHAR.test(c)) {
      return "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores";
    }
  }
  return undefined;
}

/** True when `td` is a valid SPIFFE trust domain name (bare host, no scheme). */
export function isValidTrustDomain(td: string): boolean {
  return trustDomainProblem(td) === undefined;
}

/**
 * Validates the path part of a SPIFFE ID (empty, or `/seg/seg…`) and returns it.
 * @throws SpiffeIdError naming the rule broken.
 */
export function parseSpiffePath(path: string): string {
  if (path === "") {
    return path;
  }
  if (!path.startsWith("/")) {
    throw new SpiffeIdError("path must have a leading slash");
  }
  if (path.includes("%")) {
    throw new SpiffeIdError("path must not contain percent-encoded characters");
  }
  const segments = path.slice(1).split("/");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === "") {
      throw new SpiffeIdError(
        i === segments.length - 1
          ? "path cannot have a trailing slash"
          : "path cannot contain empty segments",
      );
    }
    if (segment === "." || segment === "..") {
      throw new SpiffeIdError("path cannot contain dot segments");
    }
    for (const c of segment) {
      if (!PATH_SEGMENT_CHAR.test(c)) {
        throw new SpiffeIdError(
          "path segment characters are limited to letters, numbers, dots, dashes, and underscores",
        );
      }
    }
  }
  return path;
}

/**
 * Parses a SPIFFE ID such as `spiffe://example.org/ns/default/sa/api`.
 * @throws SpiffeIdError whose message says which rule of the specification broke.
 */
export function parseSpiffeId(id: string): SpiffeId {
  if (id.length === 0) {
    throw new SpiffeIdError("SPIFFE ID cannot be empty");
  }
  if (Buffer.byteLength(id, "utf8") > MAX_SPIFFE_ID_LENGTH) {
    throw new SpiffeIdError(`SPIFFE ID is longer than ${MAX_SPIFFE_ID_LENGTH} bytes`);
  }
  if (!id.startsWith(SPIFFE_SCHEME_PREFIX)) {
    throw new SpiffeIdError('scheme is missing or invalid: a SPIFFE ID starts with "spiffe://"');
  }
  const rest = id.slice(SPIFFE_SCHEME_PREFIX.length);
  // Query and fragment are checked first so that "spiffe://td?x" says "query", not "characters".
  if (rest.includes("#")) {
    throw new SpiffeIdError("SPIFFE ID must not contain a fragment");
  }
  if (rest.includes("?")) {
    throw new SpiffeIdError("SPIFFE ID must not contain a query");
  }
  const slash = rest.indexOf("/");
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash);
  const tdProblem = trustDomainProblem(trustDomain);
  if (tdProblem !== undefined) {
    throw new SpiffeIdError(tdProblem);
  }
  return { trustDomain, path: parseSpiffePath(path) };
}

/** Builds `spiffe://<trustDomain><path>` after validating both parts. */
export function formatSpiffeId(trustDomain: string, path: string): string {
  parseSpiffePath(path);
  const id = `${SPIFFE_SCHEME_PREFIX}${trustDomain}${path}`;
  parseSpiffeId(id);
  return id;
}
