/**
 * Azure workloads and the JWT-SVID lifetime: the token file can hold a JWT-SVID with 0.225 of
 * its lifetime left (SPIRE's agent renews at half life ±10%, spiffe-helper at half the remaining
 * life), and the Azure SDKs reuse what they read for up to 10 minutes; a shorter lifetime makes
 * them post an expired assertion (AADSTS700024). prod ran with 15m.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import {
  AZURE_ASSERTION_CACHE_SECONDS,
  AZURE_CLOCK_SKEW_SECONDS,
  AZURE_MIN_JWT_SVID_TTL_SECONDS,
  JWT_SVID_FILE_MIN_LIFE_SHARE,
} from "../../components/federation/azure/rules";
import { baseConfig } from "../fixtures";

const SUB = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
const PROBLEM =
  "spire-federation:spire.jwtSvidTTL: must be at least 50m while workloads have Azure grants; the token file can hold a JWT-SVID with under a quarter of its lifetime left (SPIRE's agent and spiffe-helper renew at half the remaining life) and the Azure Identity SDKs reuse what they read for up to 10 minutes, so a shorter lifetime makes them post an expired assertion (AADSTS700024)";

function config(jwtSvidTTL: string | undefined, azureGrant = true): Record<string, any> {
  const c: Record<string, any> = baseConfig();
  c.azure = { resourceGroupName: "rg-x", location: "westeurope" };
  if (azureGrant) {
    c.workloads[0].azure = {
      roleAssignments: [{ role: "Reader", scope: `/subscriptions/${SUB}/resourceGroups/rg-x` }],
    };
  }
  if (jwtSvidTTL !== undefined) c.spire = { jwtSvidTTL };
  return c;
}

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw, { azureSubscriptionId: SUB });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

/**
 * The least life left in the helper's file, simulated from the two renewal rules with the
 * agent's jitter at its worst: SPIRE's agent returns its cached token while more than the
 * jittered half of its lifetime is left; the helper sleeps half the remaining life plus 1 s.
 */
function leastLifeInFile(ttl: number): number {
  let least = Infinity;
  for (let jitter = -0.1; jitter <= 0.1 + 1e-9; jitter += 0.01) {
    const threshold = (ttl / 2) * (1 + jitter);
    // The agent's cached token, at the last moment it still hands it out.
    const remainingAtFetch = threshold + 1e-3;
    const sleep = remainingAtFetch / 2 + 1;
    least = Math.min(least, remainingAtFetch - sleep);
  }
  return least;
}

describe("spire.jwtSvidTTL while workloads have Azure grants", () => {
  it("the bound: the file's least remaining life outlasts the SDKs' 10-minute cache and a minute of skew", () => {
    expect(JWT_SVID_FILE_MIN_LIFE_SHARE).toBe(0.45 / 2);
    const need = AZURE_ASSERTION_CACHE_SECONDS + AZURE_CLOCK_SKEW_SECONDS;
    expect(leastLifeInFile(AZURE_MIN_JWT_SVID_TTL_SECONDS)).toBeGreaterThanOrEqual(need);
    expect(leastLifeInFile(49 * 60)).toBeGreaterThanOrEqual(need);
    expect(leastLifeInFile(48 * 60 + 57)).toBeLessThan(need);
    // prod's former 15m: a token with about 3m22s left, which a 5- or 10-minute cache outlives.
    expect(Math.round(leastLifeInFile(15 * 60))).toBe(202);
    expect(leastLifeInFile(15 * 60)).toBeLessThan(5 * 60);
  });

  it("refuses a shorter lifetime at spire.jwtSvidTTL, and accepts 50m, the default and no grants", () => {
    expect(problems(config("15m"))).toEqual([PROBLEM]);
    expect(problems(config("49m59s"))).toEqual([PROBLEM]);
    expect(problems(config("50m"))).toEqual([]);
    expect(problems(config(undefined))).toEqual([]); // default 1h
    expect(problems(config("15m", false))).toEqual([]);
  });
});
