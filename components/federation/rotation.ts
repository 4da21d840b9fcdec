/**
 * SPIRE's JWT signing-key rotation and what it means for a relying party's JWKS cache, written
 * once for the verify command (and open to config rules and policies).
 *
 * SPIRE (spiffe/spire v1.15.2, pkg/server/ca/manager/slot.go `preparationThreshold` and
 * `keyActivationThreshold`, constants in manager.go) prepares the next JWT key, and publishes it
 * in the bundle the OIDC discovery provider serves, once `min(lifetime / 2, 30 days)` of the
 * current key's lifetime is left, and signs with it once `min(lifetime / 6, 7 days)` is left.
 * A JWT key lives `spire.caTTL`. So a new key is in the JWKS for the difference before the first
 * JWT-SVID it signs: 8 h with `caTTL: 24h`. A relying party that refreshes its copy of the JWKS
 * only every N and never on an unknown `kid` rejects tokens for up to N after a rotation unless
 * that lead is at least N.
 */

/** SPIRE's preparation threshold: divisor and cap (manager.go). */
export const SPIRE_PREPARATION = { divisor: 2, capSeconds: 30 * 24 * 3600 } as const;
/** SPIRE's activation threshold: divisor and cap (manager.go). */
export const SPIRE_ACTIVATION = { divisor: 6, capSeconds: 7 * 24 * 3600 } as const;

/** How a relying party keeps the issuer's JWKS. */
export interface JwksCaching {
  /** It fetches the JWKS again when a token names a `kid` it does not hold. */
  refreshOnUnknownKid: boolean;
  /** The longest it serves a cached JWKS without refetching, s; undefined when not published. */
  maxAgeSeconds?: number;
  /** Where this comes from (repository, path, version; or the documentation page checked). */
  source: string;
}

/** Seconds between SPIRE publishing its next JWT key and signing with it, for a CA TTL. */
export function rotationLeadSeconds(caTtlSeconds: number): number {
  const prepare = Math.min(caTtlSeconds / SPIRE_PREPARATION.divisor, SPIRE_PREPARATION.capSeconds);
  const activate = Math.min(caTtlSeconds / SPIRE_ACTIVATION.divisor, SPIRE_ACTIVATION.capSeconds);
  return prepare - activate;
}

/** Seconds in words: `8h`, `20m`, `1h30m`, `45s`. */
export function formatSeconds(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  const parts = [h ? `${h}h` : "", m ? `${m}m` : "", sec || (!h && !m) ? `${sec}s` : ""];
  return parts.join("");
}

/**
 * Why the rotation lead is too short for this cache, or undefined when a token signed by a new
 * key always finds it: the party refetches on an unknown `kid`, or its cache is no older than
 * the lead. A cache whose age is not published is not a problem here (nothing to compare).
 */
export function rotationLeadProblem(
  caTtlSeconds: number,
  caching: JwksCaching,
  product: string,
): string | undefined {
  if (caching.refreshOnUnknownKid || caching.maxAgeSeconds === undefined) return undefined;
  const lead = rotationLeadSeconds(caTtlSeconds);
  if (lead >= caching.maxAgeSeconds) return undefined;
  const minTtl = Math.ceil(caching.maxAgeSeconds * 3); // lead = T/2 - T/6 = T/3 below the caps
  return (
    `SPIRE publishes its next JWT key ${formatSeconds(lead)} before signing with it, and ` +
    `${product} refetches the JWKS only every ${formatSeconds(caching.maxAgeSeconds)}: ` +
    `set spire.caTTL to at least ${formatSeconds(minTtl)}`
  );
}
