/**
 * `spire-federation:azure` and `workloads[i].azure`: the schemas and Entra ID's cross-field
 * rules (Entra validates nothing at create time, so every mistake is caught here).
 */
import { z } from "zod";
import { ruled } from "../../config-fields";
import type { CheckContext } from "../contract";
import { parseDuration } from "../../duration";
import {
  azureJwtSvidTtlProblem,
  claimProblem,
  credentialNameProblem,
  ENTRA_AUDIENCE,
  ENTRA_MAX_CREDENTIALS_PER_IDENTITY,
  identityNameProblem,
  isAzureScope,
  isGuid,
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
  audience: z
    .string()
    .refine((a) => a === ENTRA_AUDIENCE, {
      error: `must be ${ENTRA_AUDIENCE}, the audience Entra ID expects in federated tokens: remove the key`,
    })
    .optional(),
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

/**
 * `spire.jwtSvidTTL` (a core key, read raw: an invalid or unset value is the core's to report,
 * and its default, 1h, is long enough) against the Azure SDKs' assertion cache.
 */
function checkJwtSvidTtl(ctx: CheckContext<AzureBlockInput, AzureGrantInput>): void {
  if (ctx.grants.length === 0) return;
  const spire = ctx.raw.spire;
  const ttl =
    typeof spire === "object" && spire !== null
      ? (spire as Record<string, unknown>).jwtSvidTTL
      : undefined;
  const seconds = typeof ttl === "string" ? parseDuration(ttl) : undefined;
  const problem = seconds === undefined ? undefined : azureJwtSvidTtlProblem(seconds);
  if (problem !== undefined) ctx.report(["spire", "jwtSvidTTL"], problem);
}

/** Entra's cross-field rules. */
export function checkAzure(ctx: CheckContext<AzureBlockInput, AzureGrantInput>): void {
  const subscriptionId = ctx.providerConfig[AZURE_SUBSCRIPTION_KEY];
  if (ctx.raw.azure !== undefined && subscriptionId === undefined) {
    ctx.reportOther(
      AZURE_SUBSCRIPTION_KEY,
      "required when spire-federation:azure is set (pulumi config set azure-native:subscriptionId <id>)",
    );
  } else if (
    ctx.raw.azure !== undefined &&
    subscriptionId !== undefined &&
    !isGuid(subscriptionId)
  ) {
    ctx.reportOther(
      AZURE_SUBSCRIPTION_KEY,
      "must be a subscription ID, a GUID such as 3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93 (az account show --query id)",
    );
  }
  checkJwtSvidTtl(ctx);
  const identityMembers = new Map<string, number>();
  // Azure resource names are case-insensitive: "Finance" and "finance" are one identity.
  const identitySpelling = new Map<string, { name: string; index: number }>();
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
    const spelling = identitySpelling.get(identity.toLowerCase());
    if (spelling === undefined) {
      identitySpelling.set(identity.toLowerCase(), { name: identity, index });
    } else if (spelling.name !== identity) {
      ctx.report(
        grant.identity === undefined
          ? ["workloads", index, "name"]
          : ["workloads", index, "azure", "identity"],
        `names identity "${identity}", which equals "${spelling.name}" (workloads[${spelling.index}]) but for case; Azure resource names are case-insensitive: spell it the same way`,
      );
    }
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
