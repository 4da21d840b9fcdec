/**
 * The relying parties, in deployment order. The config parser, the stack, the policy pack and
 * the docs iterate this list; adding a relying party is one folder and one line here.
 */
import type { AnyRelyingParty, BlockModelOf, GrantModelOf, LoginOf } from "./contract";
import { aws } from "./aws/index";
import { azure } from "./azure/index";
import { curity } from "./curity/index";
import { gcp } from "./gcp/index";
import { istio } from "./istio/index";
import { openziti } from "./openziti/index";
import { vault } from "./vault/index";

/** Every relying party, in deployment order. */
export const relyingParties = [vault, azure, gcp, openziti, istio, curity, aws] as const;

/** A relying party of the registry. */
export type RegisteredParty = (typeof relyingParties)[number];
/** A relying party's config key. */
export type RelyingPartyKey = RegisteredParty["key"];

/** Each relying party's block model, by key (present when its block is configured). */
export type RelyingPartyBlocks = {
  [P in RegisteredParty as P["key"]]?: BlockModelOf<P>;
};
/** Each relying party's grant model, by key (present when the workload has that grant). */
export type RelyingPartyGrants = {
  [P in RegisteredParty as P["key"]]?: GrantModelOf<P>;
};
/** What one workload needs to use its grants, by relying party key. */
export type RelyingPartyLogins = {
  [P in RegisteredParty as P["key"]]?: LoginOf<P>;
};

function assertUnique(parties: readonly AnyRelyingParty[]): void {
  const keys = new Set<string>();
  const policyNames = new Set<string>();
  for (const p of parties) {
    if (keys.has(p.key)) throw new Error(`relying party ${p.key} is registered twice`);
    keys.add(p.key);
    for (const policy of p.policies) {
      if (policyNames.has(policy.name)) throw new Error(`policy ${policy.name} is defined twice`);
      policyNames.add(policy.name);
    }
  }
}
assertUnique(relyingParties);
