/**
 * The spire-federation CrossGuard policy pack:
 *   pulumi preview --policy-pack policy [--policy-pack-config policy/config/prod.json]
 * Only builds the pack: the rules live in policies.ts, shared with the tests and the offline plan.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("spire-federation", {
  description:
    "Catches the known SPIFFE federation mistakes before they reach Vault, Entra ID or Google Cloud.",
  policies,
});
