/** Azure Entra ID workload identity federation: the registry entry and the public API. */
import type { EntraIdentityArgs } from "./component";
import { EntraFederation, type EntraLogin } from "./component";
import { defineRelyingParty } from "../contract";
import type { CoreWorkload } from "../../model";
import { AZURE_TYPES, azurePolicies } from "./policies";
import { ENTRA_JWKS_CACHING } from "./rules";
import {
  azureBlockSchema,
  azureGrant,
  azureGrantSchema,
  azureModel,
  checkAzure,
  type AzureGrant,
} from "./schema";
import { azureWorkloadFiles } from "./workload-files";

export * from "./component";
export * from "./policies";
export * from "./rules";
export * from "./schema";
export * from "./workload-files";

/** Groups workloads with Azure grants by identity: one credential each, grants deduplicated. */
export function entraIdentities(
  grants: readonly { workload: CoreWorkload; grant: AzureGrant }[],
): EntraIdentityArgs[] {
  const byName = new Map<string, EntraIdentityArgs>();
  for (const { workload, grant } of grants) {
    const identity = byName.get(grant.identity) ?? {
      name: grant.identity,
      credentials: [],
      roleAssignments: [],
    };
    identity.credentials.push({ name: workload.name, subject: workload.spiffeId });
    for (const a of grant.roleAssignments) {
      if (!identity.roleAssignments.some((x) => x.role === a.role && x.scope === a.scope)) {
        identity.roleAssignments.push(a);
      }
    }
    byName.set(identity.name, identity);
  }
  return [...byName.values()];
}

/** Entra ID as a relying party (config key `azure`). */
export const azure = defineRelyingParty({
  key: "azure",
  product: "Azure Entra ID",
  blockSchema: azureBlockSchema,
  grantSchema: azureGrantSchema,
  check: checkAzure,
  publicIssuer: () => ({
    reason: "Entra ID fetches the discovery document itself",
    path: ["oidc", "tls"],
  }),
  jwtAlgorithms: (_block, grants) =>
    grants.length === 0
      ? undefined
      : {
          algorithms: ["RS256"],
          reason: "Entra ID accepts RS256 tokens only",
          when: "while workloads have Azure grants",
        },
  jwks: {
    caching: ENTRA_JWKS_CACHING,
    verifies: (_block, grants) => grants.length > 0,
    planned: (type) => type === AZURE_TYPES.fic,
  },
  model: azureModel,
  grant: azureGrant,
  anchoredValues: ({ grants }) => ({
    azureIdentities: entraIdentities(grants)
      .map((i) => i.name)
      .sort()
      .join(","),
  }),
  build: (name, { core, block, grants }, opts) => {
    const component = new EntraFederation(
      name,
      {
        issuerUrl: core.oidc.issuerUrl,
        protectAnchors: core.anchors.protect,
        audience: block.audience,
        resourceGroupName: block.resourceGroupName,
        location: block.location,
        subscriptionId: block.subscriptionId,
        identities: entraIdentities(grants),
      },
      opts,
    );
    const logins: Record<string, EntraLogin> = {};
    for (const { workload, grant } of grants)
      logins[workload.name] = component.logins[grant.identity];
    return { component, logins };
  },
  workloadFiles: azureWorkloadFiles,
  fetchesIssuer: (type) => type === AZURE_TYPES.fic,
  policies: azurePolicies,
});
