/**
 * The core's rules on SPIRE's lifetimes and replicas: how long a JWT-SVID may live, that SPIRE's
 * CA outlives the SVIDs it signs and the root outlives SPIRE's CA, and that more than one server
 * replica needs a shared datastore. Each rule reads only the fields it needs and skips when one
 * of them is invalid (the schema reports that field).
 */
import { parseDuration } from "../../duration";
import type { Report } from "../problems";

/**
 * Longest JWT-SVID lifetime the package allows. A JWT-SVID is a bearer token: whoever holds one
 * can use it until it expires, and SPIRE mints a fresh one on request, so a day is plenty.
 * (Google Cloud's STS itself accepts tokens with exp − iat up to 48h.)
 */
export const MAX_JWT_SVID_TTL_SECONDS = 24 * 3600;

/** The fields the rules read; each undefined when invalid (a default when unset). */
export interface SpireTtlFields {
  caTTL?: string;
  x509SvidTTL?: string;
  jwtSvidTTL?: string;
  replicas?: number;
  datastoreType?: string;
  /** `ca.validityHours` when `ca.mode` is generated and the field is valid. */
  caValidityHours?: number;
}

/** Reports every problem among SPIRE's SVID lifetimes and replicas. */
export function checkSpireTtls(f: SpireTtlFields, report: Report): void {
  const seconds = (d: string | undefined) => (d === undefined ? undefined : parseDuration(d));
  const caTTL = seconds(f.caTTL);
  const x509 = seconds(f.x509SvidTTL);
  const jwt = seconds(f.jwtSvidTTL);
  if (jwt !== undefined && jwt > MAX_JWT_SVID_TTL_SECONDS) {
    report(
      ["spire", "jwtSvidTTL"],
      "must be at most 24h; a JWT-SVID is a bearer token, usable by whoever holds it until it expires",
    );
  }
  if (x509 !== undefined && caTTL !== undefined && x509 >= caTTL) {
    report(
      ["spire", "x509SvidTTL"],
      `must be shorter than spire.caTTL (${f.caTTL}); SPIRE cannot sign past its CA's expiry`,
    );
  }
  if (f.replicas !== undefined && f.replicas > 1 && f.datastoreType === "sqlite3") {
    report(
      ["spire", "replicas"],
      "must be 1 with the sqlite3 datastore; use postgres or mysql for more replicas",
    );
  }
}

/** Reports a generated root that would not outlive SPIRE's CA. */
export function checkCaValidity(f: SpireTtlFields, report: Report): void {
  const caTTL = f.caTTL === undefined ? undefined : parseDuration(f.caTTL);
  if (f.caValidityHours !== undefined && caTTL !== undefined) {
    if (f.caValidityHours * 3600 <= caTTL) {
      report(
        ["ca", "validityHours"],
        `must be longer than spire.caTTL (${f.caTTL}); the root must outlive SPIRE's intermediates`,
      );
    }
  }
}
