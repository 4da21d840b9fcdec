/**
 * The rotation rule, offline: SPIRE publishes its next JWT key only `spire.caTTL / 3` before
 * signing with it (components/federation/rotation.ts), and a relying party that refreshes its
 * copy of the JWKS only periodically, never on an unknown `kid`, rejects the new key's tokens
 * until its next refresh. Each party declares its caching and when it verifies JWT-SVIDs
 * (`jwks` in its registry entry, from its rules.ts); the verify command's `rotation` check and
 * the policy pack's `spire-rotation-lead` read the same declarations.
 */
import { parseDuration } from "../../duration";
import type { AnyRelyingParty, GrantEntry } from "../../federation/contract";
import { rotationLeadProblem } from "../../federation/rotation";
import type { Report } from "../problems";

/** What the rule reads. */
export interface RotationLeadInput {
  /** `spire.caTTL` (its default when unset), or undefined when invalid. */
  caTTL?: string;
  /** The relying parties, in registry order. */
  parties: readonly AnyRelyingParty[];
  /** Each party's parsed block (undefined when unset or invalid). */
  blocks: ReadonlyMap<string, unknown>;
  /** Each party's valid grants. */
  grants: ReadonlyMap<string, GrantEntry<unknown>[]>;
}

/** Reports `spire.caTTL` once per configured party whose JWKS cache outlasts SPIRE's lead. */
export function checkRotationLead(input: RotationLeadInput, report: Report): void {
  const seconds = input.caTTL === undefined ? undefined : parseDuration(input.caTTL);
  if (seconds === undefined) return;
  for (const p of input.parties) {
    const block = input.blocks.get(p.key);
    if (block === undefined || p.jwks === undefined) continue;
    if (!p.jwks.verifies(block, input.grants.get(p.key) ?? [])) continue;
    const problem = rotationLeadProblem(seconds, p.jwks.caching, p.product);
    if (problem !== undefined) {
      report(["spire", "caTTL"], `is ${input.caTTL}; ${problem} (${p.jwks.caching.source})`);
    }
  }
}
