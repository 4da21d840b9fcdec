/** HashiCorp Vault JWT auth: the registry entry and the public API of this folder. */
import { defineRelyingParty } from "../contract";
import { VaultFederation } from "./component";
import { vaultPolicies } from "./policies";
import { checkVault, vaultBlockSchema, vaultGrant, vaultGrantSchema, vaultModel } from "./schema";
import { vaultWorkloadFiles } from "./workload-files";

export * from "./component";
export * from "./gate";
export * from "./policies";
export * from "./rules";
export * from "./schema";
export * from "./workload-files";

/** Vault as a relying party. */
export const vault = defineRelyingParty({
  key: "vault",
  product: "HashiCorp Vault",
  blockSchema: vaultBlockSchema,
  grantSchema: vaultGrantSchema,
  check: checkVault,
  model: vaultModel,
  grant: vaultGrant,
  anchoredValues: ({ block }) => ({ vaultPath: block.path }),
  build: (name, { core, block, grants, trust }, opts) => {
    const component = new VaultFederation(
      name,
      {
        issuerUrl: core.oidc.issuerUrl,
        path: block.path,
        protectAnchors: core.anchors.protect,
        discoveryCaPem: block.discoveryCaPem,
        policies: block.policies,
        roles: grants.map(({ workload, grant }) => ({
          name: workload.name,
          spiffeId: workload.spiffeId,
          ...grant,
        })),
        waitFor: [trust.spireRelease],
      },
      opts,
    );
    return { component, logins: component.logins };
  },
  workloadFiles: vaultWorkloadFiles,
  policies: vaultPolicies,
});
