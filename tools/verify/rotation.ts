/**
 * `rotation`: whether each relying party that verifies JWT-SVIDs will hold SPIRE's next JWT key
 * before the first token it signs (see components/federation/rotation.ts for SPIRE's schedule
 * and each party's rules.ts for its JWKS caching, with sources), and what the live JWKS shows:
 * how many keys are published, and, with `--svid-dir`, whether the key that signed the
 * workload's JWT-SVIDs is among them.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseDuration } from "../../components/config";
import {
  formatSeconds,
  rotationLeadProblem,
  rotationLeadSeconds,
} from "../../components/federation/rotation";
import { checkDiscovery } from "./discovery";
import { JWKS_CACHING, configuredParties } from "./parties";
import type { Check, CheckResult, VerifyContext } from "./types";

/** The verdicts that need no network: the lead against each party's cache. */
export function leadResults(ctx: VerifyContext): CheckResult[] {
  const caTtl = parseDuration(ctx.model.spire.caTTL) ?? 24 * 3600;
  const lead = rotationLeadSeconds(caTtl);
  const results: CheckResult[] = [];
  for (const p of configuredParties(ctx.model)) {
    if (!p.verifiesJwt) continue;
    const caching = JWKS_CACHING[p.key];
    const base = { check: "rotation", party: p.key, name: "key rotation lead" };
    if (caching === undefined) continue;
    const problem = rotationLeadProblem(caTtl, caching, p.product);
    if (problem) {
      results.push({ ...base, status: "FAIL", reason: problem, fix: "raise spire.caTTL" });
    } else if (caching.refreshOnUnknownKid) {
      results.push({
        ...base,
        status: "PASS",
        reason: `it refetches the JWKS on an unknown kid (${caching.source}); lead ${formatSeconds(lead)}`,
      });
    } else if (caching.maxAgeSeconds !== undefined) {
      results.push({
        ...base,
        status: "PASS",
        reason: `lead ${formatSeconds(lead)} ≥ its JWKS refresh of ${formatSeconds(caching.maxAgeSeconds)} (${caching.source})`,
      });
    } else {
      results.push({
        ...base,
        status: "SKIP",
        reason: `its JWKS cache time is ${caching.source}; SPIRE's lead is ${formatSeconds(lead)} (spire.caTTL ${ctx.model.spire.caTTL})`,
        fix: "nothing to compare; after a rotation, run verify with --svid-dir to see the new key accepted",
      });
    }
  }
  return results;
}

/** The `kid` in a compact JWS's header, or undefined. */
export function tokenKid(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8")) as {
      kid?: unknown;
    };
    return typeof header.kid === "string" ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/** The JWT-SVID files (`*.token`) in the SVID directory, by file name. */
export function readTokens(ctx: VerifyContext): Map<string, string> {
  const tokens = new Map<string, string>();
  if (ctx.svidDir === undefined) return tokens;
  for (const f of readdirSync(ctx.svidDir).sort()) {
    if (!f.endsWith(".token")) continue;
    const token = readFileSync(path.join(ctx.svidDir, f), "utf8").trim();
    ctx.secrets.push(token);
    tokens.set(f, token);
  }
  return tokens;
}

/** The `rotation` check. */
export const rotationCheck: Check = {
  name: "rotation",
  applies: (ctx) => configuredParties(ctx.model).some((p) => p.verifiesJwt),
  run: async (ctx) => {
    const results = leadResults(ctx);
    const { keys } = await checkDiscovery({ ...ctx, progress: () => undefined });
    const base = { check: "rotation", party: "core" };
    if (keys === undefined) {
      results.push({
        ...base,
        name: "published keys",
        status: "SKIP",
        reason: "the JWKS could not be read",
        fix: "see the discovery check",
      });
      return results;
    }
    const kids = keys.map((k) => String(k.kid));
    results.push({
      ...base,
      name: "published keys",
      status: "PASS",
      reason:
        keys.length > 1
          ? `${keys.length} keys published (${kids.join(", ")}): the next key is out before it signs`
          : `1 key published (${kids[0]}); SPIRE adds the next when half of spire.caTTL is left`,
    });
    for (const [file, token] of readTokens(ctx)) {
      const kid = tokenKid(token);
      const found = kid !== undefined && kids.includes(kid);
      results.push({
        ...base,
        name: `signing key of ${file}`,
        status: found ? "PASS" : "FAIL",
        reason: found
          ? `kid ${kid} is published`
          : `the token is signed with kid ${kid ?? "(none)"}, which the JWKS does not hold (${kids.join(", ")}); relying parties reject it`,
        ...(found
          ? {}
          : { fix: "check that the discovery provider serves this SPIRE server's current bundle" }),
      });
    }
    return results;
  },
};
