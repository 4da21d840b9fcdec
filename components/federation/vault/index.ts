/** HashiCorp Vault JWT auth: the registry entry and the public API of this folder. */
import { defineRelyingParty } from "../contract";
import { VaultFederation } from "./component";
import { VAULT_TYPES, vaultPolicies } from "./policies";
import { VAULT_JWKS_CACHING } from "./rules";
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
  // Every Vault block is a JWT auth backend.
  jwks: {
    caching: VAULT_JWKS_CACHING,
    verifies: () => true,
    planned: (type) => type === VAULT_TYPES.backend,
  },
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
