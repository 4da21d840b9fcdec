/** Field-by-field comparison and token reading shared by the relying parties' live checks. */
import { shown } from "./http";
import type { CheckResult } from "./types";

/** PASS when `actual` equals `expected` (as JSON), else FAIL naming field, both values and fix. */
export function mismatchResult(
  party: string,
  field: string,
  expected: unknown,
  actual: unknown,
  fix: string,
): CheckResult {
  const same = JSON.stringify(expected) === JSON.stringify(actual);
  return {
    check: party,
    party,
    name: field,
    status: same ? "PASS" : "FAIL",
    reason: same
      ? `${field} is ${shown(expected)}`
      : `${field}: expected ${shown(expected)}, found ${shown(actual)}`,
    ...(same ? {} : { fix }),
  };
}

/** The claims of a compact JWT (unverified: for messages only), or `{}`. */
export function jwtClaims(token: string): Record<string, unknown> {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    ) as unknown;
    return typeof payload === "object" && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
