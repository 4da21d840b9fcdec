/**
 * What the registry says about each configured relying party, for the checks: the same facts the
 * config rules use (one source). The JWT algorithms come from each party's `jwtAlgorithms()`;
 * the JWKS caching facts and when it verifies JWT-SVIDs from its `jwks` (its `rules.ts`).
 */
import type {
  AnyRelyingParty,
  GrantEntry,
  JwtAlgorithmNeed,
} from "../../components/federation/contract";
import { relyingParties } from "../../components/federation/registry";
import type { JwksCaching } from "../../components/federation/rotation";
import type { StackModel } from "../../components/config";

/** How each relying party caches the issuer's JWKS, by config key (its registry `jwks`). */
export const JWKS_CACHING: Readonly<Record<string, JwksCaching>> = Object.fromEntries(
  (relyingParties as readonly AnyRelyingParty[]).flatMap((p) =>
    p.jwks ? [[p.key, p.jwks.caching]] : [],
  ),
);

/** A relying party the stack configures. */
export interface ConfiguredParty {
  /** Config key. */
  key: string;
  /** Product name. */
  product: string;
  /** The JWT algorithms it requires, when it restricts them in this stack. */
  jwt?: JwtAlgorithmNeed;
  /** Whether it verifies JWT-SVIDs in this stack (its `jwks.verifies`, as the config rule). */
  verifiesJwt: boolean;
}

/** The relying parties the stack configures, in deployment order, with their facts. */
export function configuredParties(model: StackModel): ConfiguredParty[] {
  const blocks = model as unknown as Record<string, unknown>;
  const out: ConfiguredParty[] = [];
  for (const party of relyingParties as readonly AnyRelyingParty[]) {
    const block = blocks[party.key];
    if (block === undefined) continue;
    const grants: GrantEntry<unknown>[] = [];
    model.workloads.forEach((w, index) => {
      const grant = (w as unknown as Record<string, unknown>)[party.key];
      if (grant !== undefined) grants.push({ index, workload: w, grant });
    });
    const jwt = party.jwtAlgorithms?.(block, grants);
    const verifiesJwt = party.jwks?.verifies(block, grants) ?? false;
    out.push({ key: party.key, product: party.product, jwt, verifiesJwt });
  }
  return out;
}
