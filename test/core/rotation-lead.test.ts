/**
 * The rotation rule, offline: SPIRE's signing-key lead (caTTL/3) against the JWKS cache of each
 * configured relying party that verifies JWT-SVIDs, as a config rule (through parseStackConfig
 * and checkRotationLead) and as the pack's `spire-rotation-lead` (called as the engine calls a
 * stack policy), on good and bad inputs with exact messages. One source: each party's `jwks`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { checkRotationLead } from "../../components/core/rules/rotation-lead";
import { rotationLeadPolicy } from "../../components/core-policies";
import type { AnyRelyingParty } from "../../components/federation/contract";
import { relyingParties } from "../../components/federation/registry";
import type { JwksCaching } from "../../components/federation/rotation";
import { TYPES } from "../../components/policies";
import type { PolicyResource, StackValidationPolicy } from "../../components/policy-types";
import { effectiveConfig } from "../../tools/policy-runner";
import { vaultStackConfig } from "../verify/support";

const parties = relyingParties as readonly AnyRelyingParty[];
const vault = parties.find((p) => p.key === "vault")!;
const HALF_DAY: JwksCaching = {
  refreshOnUnknownKid: false,
  maxAgeSeconds: 12 * 3600,
  source: "measured: every 12h",
};
const LEAD_8H_12H =
  "SPIRE publishes its next JWT key 8h before signing with it, and HashiCorp Vault refetches the JWKS only every 12h: set spire.caTTL to at least 36h (measured: every 12h)";

/** The raw config of the Vault test stack (no namespace), with `spire.caTTL`. */
function raw(caTTL: string): Record<string, unknown> {
  const config = vaultStackConfig({
    "spire-federation:spire": { caKeyType: "rsa-2048", caTTL },
  });
  return Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("spire-federation:"))
      .map(([k, v]) => [k.slice("spire-federation:".length), v]),
  );
}

function problemsOf(caTTL: string): string[] {
  try {
    parseStackConfig(raw(caTTL), { providerConfig: { "vault:address": "https://vault:8200" } });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const saved = vault.jwks;
afterEach(() => {
  vault.jwks = saved;
});

describe("the config rule", () => {
  it("passes a short caTTL with today's facts: Vault refetches on an unknown kid", () => {
    expect(vault.jwks?.caching.refreshOnUnknownKid).toBe(true);
    expect(problemsOf("6h")).toEqual([]);
  });

  it("names spire.caTTL, the lead, the cache, the fix and the source when a cache outlasts the lead", () => {
    // The same registry entry with a periodic cache: the hook in the composition rules reads it.
    vault.jwks = { ...saved!, caching: HALF_DAY };
    expect(problemsOf("24h")).toEqual([`spire-federation:spire.caTTL: is 24h; ${LEAD_8H_12H}`]);
    expect(problemsOf("36h")).toEqual([]);
  });

  it("skips a party that does not verify JWT-SVIDs in this stack, and an invalid caTTL", () => {
    const fake = { ...vault, key: "fake", jwks: { ...saved!, caching: HALF_DAY } };
    const reports: string[] = [];
    const report = (path: readonly PropertyKey[], m: string) =>
      reports.push(`${path.join(".")}: ${m}`);
    const input = (verifies: boolean, caTTL: string | undefined) => ({
      caTTL,
      parties: [{ ...fake, jwks: { ...fake.jwks, verifies: () => verifies } }],
      blocks: new Map([["fake", {}]]),
      grants: new Map(),
    });
    checkRotationLead(input(false, "1h"), report);
    checkRotationLead(input(true, undefined), report);
    checkRotationLead(input(true, "nonsense"), report);
    expect(reports).toEqual([]);
    checkRotationLead(input(true, "30h"), report);
    expect(reports).toEqual([
      "spire.caTTL: is 30h; SPIRE publishes its next JWT key 10h before signing with it, and HashiCorp Vault refetches the JWKS only every 12h: set spire.caTTL to at least 36h (measured: every 12h)",
    ]);
  });

  it("every party declares its caching with a source; Istio verifies no JWT-SVIDs here", () => {
    for (const p of parties) {
      expect(p.jwks?.caching.source.length, p.key).toBeGreaterThan(10);
    }
    const istio = parties.find((p) => p.key === "istio")!;
    expect(istio.jwks?.verifies({}, [])).toBe(false);
  });
});

type R = { type: string; name: string; props: Record<string, unknown> };

function spire(caTTL?: string): R {
  return {
    type: TYPES.helmRelease,
    name: "spire",
    props: { chart: "spire", values: { "spire-server": caTTL ? { caTTL } : {} } },
  };
}

/** Calls a stack policy on hand-built resources with its config as the engine fills it. */
async function run(p: StackValidationPolicy, rs: R[], config: Record<string, unknown> = {}) {
  const { props } = effectiveConfig(p, { [p.name]: config });
  const messages: string[] = [];
  await p.validateStack(
    {
      resources: rs.map((r) => ({ ...r, urn: `urn:${r.name}` }) as unknown as PolicyResource),
      stackTags: new Map(),
      getConfig: () => props as never,
      notApplicable: () => {
        throw new Error("n/a");
      },
    },
    (m) => messages.push(m),
  );
  return messages;
}

describe("the policy factory (the pack's rule: test/core/policies.test.ts)", () => {
  const backend: R = { type: TYPES.vaultBackend, name: "jwt", props: {} };

  it("fails on a party's own published cache, as the config rule does", async () => {
    const p = rotationLeadPolicy([{ ...vault, jwks: { ...saved!, caching: HALF_DAY } }]);
    expect(await run(p, [spire("24h"), backend])).toEqual([
      `SPIRE's caTTL is 24h while HashiCorp Vault verifies JWT-SVIDs (jwt): ${LEAD_8H_12H}`,
    ]);
    expect(await run(p, [spire("36h"), backend])).toEqual([]);
  });
});
