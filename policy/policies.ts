/**
 * The spire-federation policies: the known federation mistakes, each as a CrossGuard rule.
 * `index.ts` builds the PolicyPack from them; the tests and the offline plan import them directly.
 * The core's rules live in `components/core-policies.ts`, each relying party's in its folder;
 * this module only composes them, in registry order.
 */
import { corePolicies } from "../components/core-policies";
import type { AnyRelyingParty, Policy } from "../components/federation/contract";
import { AZURE_TYPES } from "../components/federation/azure/policies";
import { GCP_TYPES } from "../components/federation/gcp/policies";
import { OPENZITI_TYPES } from "../components/federation/openziti/policies";
import { relyingParties } from "../components/federation/registry";
import { VAULT_TYPES } from "../components/federation/vault/policies";
import { NODES_TYPES } from "../components/nodes/policies";
import { CORE_TYPES } from "../components/policy-kit";

export { isSpireRelease, spireChartSettings, waitsOn } from "../components/policy-kit";

const parties: readonly AnyRelyingParty[] = relyingParties;

/** Every rule: the core's, then each relying party's. */
export const policies: Policy[] = [...corePolicies(parties), ...parties.flatMap((p) => p.policies)];

/** Type tokens the rules look at (for tests and tools). */
export const TYPES = {
  ...CORE_TYPES,
  ...NODES_TYPES,
  vaultRole: VAULT_TYPES.role,
  vaultBackend: VAULT_TYPES.backend,
  fic: AZURE_TYPES.fic,
  identity: AZURE_TYPES.identity,
  gcpProvider: GCP_TYPES.provider,
  gcpMember: GCP_TYPES.member,
  gcpBinding: GCP_TYPES.binding,
  zitiCa: OPENZITI_TYPES.ca,
} as const;
