/**
 * `spire-federation/policies`: the package's CrossGuard rules, the known federation mistakes
 * each as a rule, for a policy pack (this repository's `policy/`, or an organisation's own):
 *
 *   import { PolicyPack } from "@pulumi/policy";
 *   import { policies } from "spire-federation/policies";
 *   new PolicyPack("spire-federation", { policies });
 *
 * The core's rules live in `core-policies.ts`, each relying party's in its folder; this module
 * only composes them, in registry order. It also gives the rules their `@pulumi/policy` types
 * (see `policy-types.ts`): the package root's declarations never name `@pulumi/policy`.
 */
import type * as policy from "@pulumi/policy";
import { corePolicies } from "./core-policies";
import type { AnyRelyingParty } from "./federation/contract";
import { AZURE_TYPES } from "./federation/azure/policies";
import { GCP_TYPES } from "./federation/gcp/policies";
import { OPENZITI_TYPES } from "./federation/openziti/policies";
import { relyingParties } from "./federation/registry";
import { VAULT_TYPES } from "./federation/vault/policies";
import { NODES_TYPES } from "./nodes/policies";
import { CORE_TYPES } from "./policy-kit";

declare module "./policy-types" {
  /** `@pulumi/policy`'s types, for every module compiled with this one. */
  interface PolicyTypes {
    Policy: policy.ResourceValidationPolicy | policy.StackValidationPolicy;
    ResourceValidationPolicy: policy.ResourceValidationPolicy;
    StackValidationPolicy: policy.StackValidationPolicy;
    ResourceValidationArgs: policy.ResourceValidationArgs;
    StackValidationArgs: policy.StackValidationArgs;
    PolicyResource: policy.PolicyResource;
    ReportViolation: policy.ReportViolation;
  }
}

export { isSpireRelease, spireChartSettings, waitsOn } from "./policy-kit";

const parties: readonly AnyRelyingParty[] = relyingParties;

/** Every rule: the core's, then each relying party's (what `PolicyPackArgs.policies` takes). */
export const policies: policy.Policies = [
  ...corePolicies(parties),
  ...parties.flatMap((p) => p.policies),
];

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
