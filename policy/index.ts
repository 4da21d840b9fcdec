/**
 * The spire-federation CrossGuard policy pack. The rules are the package's public API
 * (`spire-federation/policies`); this folder only builds the pack from them, so it can be
 * published to a Pulumi organisation on its own:
 *
 *   pulumi preview --policy-pack policy [--policy-pack-config policy/config/prod.json]
 *   pulumi policy publish <org>            # from this folder (see README.md)
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "spire-federation/policies";

new PolicyPack("spire-federation", {
  description:
    "Catches the known SPIFFE federation mistakes before they reach SPIRE, Vault, Entra ID, Google Cloud, OpenZiti, Istio or Curity.",
  policies,
});
