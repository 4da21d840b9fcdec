/**
 * `spire-federation:azure` and `workloads[i].azure`: the schemas and Entra ID's cross-field
 * rules (Entra validates nothing at create time, so every mistake is caught here).
 */
import { z } from "zod";
import { ruled } from "../../config-fields";
import type { CheckContext } from "../contract";
import {
  claimProblem,
  credentialNameProblem,
  ENTRA_AUDIENCE,
  ENTRA_MAX_CREDENTIALS_PER_IDENTITY,
  identityNameProblem,
  isAzureScope,
  roleDefinitionGuid,
} from "./rules";

/** Schema of `spire-federation:azure`. */
export const azureBlockSchema = z.strictObject({
  resourceGroupName: z
    .string()
    .regex(/^[-\w.()]{1,89}[-\w()]$/, { error: "must be an Azure resource group name" }),
  location: z
    .string()
    .regex(/^[a-z0-9]+$/, { error: "must be an Azure region such as westeurope" }),
  audience: z.string().min(1).optional(),
});

/** Schema of `workloads[i].azure`. */
export const azureGrantSchema = z.strictObject({
  identity: ruled(identityNameProblem).optional(),
  roleAssignments: z.array(
    z.strictObject({
      role: z.string().refine((r) => roleDefinitionGuid(r) !== undefined, {
        error: `must be a built-in role name the package knows (Reader, Contributor, Storage Blob Data Reader, Storage Blob Data Contributor, Key Vault Secrets User, Key Vault Crypto User, AcrPull) or a role definition GUID`,
      }),
      scope: z.string().refine(isAzureScope, {
        error: "must be an Azure resource ID such as /subscriptions/<id>/resourceGroups/<group>",
      }),
    }),
  ),
});

/** The parsed `spire-federation:azure` block. */
export type AzureBlockInput = z.output<typeof azureBlockSchema>;
/** A parsed `workloads[i].azure` grant. */
export type AzureGrantInput = z.output<typeof azureGrantSchema>;

/** Entra ID federation settings, with defaults applied. */
export interface AzureBlock {
  /** Resource group of the managed identities. */
  resourceGroupName: string;
  /** Azure region of the managed identities. */
  location: string;
  /** The one audience of every federated credential. Default: `api://AzureADTokenExchange`. */
  audience: string;
  /** `azure-native:subscriptionId`: the subscription of the identities. */
  subscriptionId: string;
}

/** One workload's Azure grant, with defaults applied. */
export interface AzureGrant {
  /** The managed identity (shared when several workloads name it). Default: the workload name. */
  identity: string;
  /** Role assignments of the identity. */
  roleAssignments: { role: string; scope: string }[];
}

/** The provider config key the block needs. */
export const AZURE_SUBSCRIPTION_KEY = "azure-native:subscriptionId";

/** Entra's cross-field rules. */
export function checkAzure(ctx: CheckContext<AzureBlockInput, AzureGrantInput>): void {
  if (ctx.raw.azure !== undefined && ctx.providerConfig[AZURE_SUBSCRIPTION_KEY] === undefined) {
    ctx.reportOther(
      AZURE_SUBSCRIPTION_KEY,
      "required when spire-federation:azure is set (pulumi config set azure-native:subscriptionId <id>)",
    );
  }
  const identityMembers = new Map<string, number>();
  for (const { index, workload, grant } of ctx.grants) {
    const nameProblem = credentialNameProblem(workload.name);
    if (nameProblem !== undefined) {
      ctx.report(
        ["workloads", index, "name"],
        `${nameProblem} (it names the Entra federated credential)`,
      );
    }
    const subjectProblem = claimProblem(workload.spiffeId);
    if (subjectProblem !== undefined) {
      ctx.report(
        ["workloads", index],
        `SPIFFE ID ${subjectProblem} in a federated credential subject`,
      );
    }
    const identity = grant.identity ?? workload.name;
    const members = (identityMembers.get(identity) ?? 0) + 1;
    identityMembers.set(identity, members);
    if (members === ENTRA_MAX_CREDENTIALS_PER_IDENTITY + 1) {
      ctx.report(
        ["workloads", index, "azure", "identity"],
        `identity "${identity}" would have more than ${ENTRA_MAX_CREDENTIALS_PER_IDENTITY} federated credentials; Entra allows at most ${ENTRA_MAX_CREDENTIALS_PER_IDENTITY}`,
      );
    }
  }
}

/** The block with defaults. */
export function azureModel(
  b: AzureBlockInput,
  ctx: { providerConfig: Readonly<Record<string, string | undefined>> },
): AzureBlock {
  return {
    resourceGroupName: b.resourceGroupName,
    location: b.location,
    audience: b.audience ?? ENTRA_AUDIENCE,
    subscriptionId: ctx.providerConfig[AZURE_SUBSCRIPTION_KEY] ?? "",
  };
}

/** A grant with defaults. */
export function azureGrant(g: AzureGrantInput, w: { name: string }): AzureGrant {
  return { identity: g.identity ?? w.name, roleAssignments: g.roleAssignments };
}
