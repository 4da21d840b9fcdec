/**
 * What the registry says about each configured relying party, for the checks: the same facts the
 * config rules use (one source). The JWT algorithms come from each party's `jwtAlgorithms()`;
 * the JWKS caching facts from the constants in each party's `rules.ts`.
 */
import type {
  AnyRelyingParty,
  GrantEntry,
  JwtAlgorithmNeed,
} from "../../components/federation/contract";
import { relyingParties } from "../../components/federation/registry";
import { VAULT_JWKS_CACHING } from "../../components/federation/vault/rules";
import { ENTRA_JWKS_CACHING } from "../../components/federation/azure/rules";
import { GCP_JWKS_CACHING } from "../../components/federation/gcp/rules";
import { OPENZITI_JWKS_CACHING } from "../../components/federation/openziti/rules";
import { ISTIO_JWKS_CACHING } from "../../components/federation/istio/rules";
import { CURITY_JWKS_CACHING } from "../../components/federation/curity/rules";
import type { JwksCaching } from "../../components/federation/rotation";
import type { StackModel } from "../../components/config";

/** How each relying party caches the issuer's JWKS, by config key. */
export const JWKS_CACHING: Readonly<Record<string, JwksCaching>> = {
  vault: VAULT_JWKS_CACHING,
  azure: ENTRA_JWKS_CACHING,
  gcp: GCP_JWKS_CACHING,
  openziti: OPENZITI_JWKS_CACHING,
  istio: ISTIO_JWKS_CACHING,
  curity: CURITY_JWKS_CACHING,
};

/** A relying party the stack configures. */
export interface ConfiguredParty {
  /** Config key. */
  key: string;
  /** Product name. */
  product: string;
  /** The JWT algorithms it requires, when it restricts them in this stack. */
  jwt?: JwtAlgorithmNeed;
  /**
   * Whether it verifies JWT-SVIDs in this stack: every party that restricts algorithms, Vault
   * (JWT auth, any algorithm) and OpenZiti with `openziti.jwt` (an external JWT signer).
   */
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
    const verifiesJwt =
      jwt !== undefined ||
      party.key === "vault" ||
      (party.key === "openziti" && (block as { jwt?: unknown }).jwt === true);
    out.push({ key: party.key, product: party.product, jwt, verifiesJwt });
  }
  return out;
}
