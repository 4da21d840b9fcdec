/**
 * Azure Entra ID workload identity federation: user-assigned managed identities whose federated
 * identity credentials trust the SPIFFE issuer, and their role assignments.
 *
 * What Entra enforces, and how this component meets it (Azure validates almost nothing at create
 * time; mistakes surface only at token exchange, so they are checked here):
 * - issuer and subject match exactly, case-sensitively, at most 600 characters, no wildcards;
 * - exactly one audience, `api://AzureADTokenExchange` by default;
 * - at most 20 federated credentials per identity, unique (issuer, subject);
 * - credentials under one identity must be written one after another (parallel writes → 409):
 *   each waits on the previous one;
 * - credential names 3–120 characters of `[A-Za-z0-9_-]`, starting alphanumeric;
 * - tokens must be RS256 (SPIRE's CA key must be RSA: checked by the stack config).
 */
import { anchorOptions } from "../../anchors";
import { createHash } from "node:crypto";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";
import { rejectProblems } from "../args";
import {
  claimProblem,
  credentialNameProblem,
  ENTRA_MAX_CREDENTIALS_PER_IDENTITY,
  identityNameProblem,
  isAzureScope,
  roleDefinitionGuid,
} from "./rules";
import { dropApiVersionAliases } from "./sdk-aliases";

/** A deterministic GUID (RFC 4122 version 5 layout over SHA-1) for a role assignment name. */
export function deterministicGuid(...parts: string[]): string {
  const h = createHash("sha1").update(parts.join("\n")).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One federated credential: a workload's SPIFFE ID trusted by an identity. */
export interface EntraCredentialArgs {
  /** Credential name (the workload name). */
  name: string;
  /** The SPIFFE ID, matched exactly against the token's `sub`. */
  subject: string;
}

/** One role assignment of an identity. */
export interface EntraRoleAssignmentArgs {
  /** Built-in role name (see {@link AZURE_BUILTIN_ROLES}) or role definition GUID. */
  role: string;
  /** Azure resource ID the role applies to. */
  scope: string;
}

/** One user-assigned managed identity with its credentials and grants. */
export interface EntraIdentityArgs {
  /** Identity (resource) name. */
  name: string;
  /** Federated credentials, created one after another in this order. */
  credentials: EntraCredentialArgs[];
  /** Role assignments of the identity's service principal. */
  roleAssignments: EntraRoleAssignmentArgs[];
}

/** Arguments of {@link EntraFederation}. */
export interface EntraFederationArgs {
  /**
   * Protect this component's anchors (the managed identities) so that the engine refuses to delete or replace
   * them (`anchors.protect`). Default: true.
   */
  protectAnchors?: boolean;
  /** The OIDC issuer URL, matched exactly against the token's `iss`. */
  issuerUrl: string;
  /** The single audience (default {@link ENTRA_AUDIENCE}). */
  audience: string;
  /** Resource group of the identities. */
  resourceGroupName: string;
  /** Azure region of the identities. */
  location: string;
  /** Subscription that holds the role definitions. */
  subscriptionId: string;
  /** The identities. */
  identities: EntraIdentityArgs[];
}

/** Per-identity outputs a workload needs for the token exchange. */
export interface EntraLogin {
  /** Client ID to request a token for (`AZURE_CLIENT_ID`). */
  clientId: pulumi.Output<string>;
  /** Tenant ID (`AZURE_TENANT_ID`). */
  tenantId: pulumi.Output<string>;
  /** Object ID of the identity's service principal. */
  principalId: pulumi.Output<string>;
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function entraArgsProblems(args: EntraFederationArgs): string[] {
  const problems: string[] = [];
  const issuerProblem = claimProblem(args.issuerUrl);
  if (issuerProblem) problems.push(`issuer ${issuerProblem}`);
  if (!args.issuerUrl.startsWith("https://")) problems.push("issuer must be an https:// URL");
  if (args.audience === "" || args.audience.includes("*")) {
    problems.push("audience must be one exact value");
  }
  for (const identity of args.identities) {
    const nameProblem = identityNameProblem(identity.name);
    if (nameProblem) problems.push(`identity ${identity.name} ${nameProblem}`);
    if (identity.credentials.length > ENTRA_MAX_CREDENTIALS_PER_IDENTITY) {
      problems.push(
        `identity ${identity.name} has ${identity.credentials.length} federated credentials; Entra allows at most ${ENTRA_MAX_CREDENTIALS_PER_IDENTITY}`,
      );
    }
    const subjects = new Set<string>();
    for (const c of identity.credentials) {
      const n = credentialNameProblem(c.name);
      if (n) problems.push(`credential name ${c.name} ${n}`);
      const s = claimProblem(c.subject);
      if (s) problems.push(`subject of ${c.name} ${s}`);
      if (subjects.has(c.subject)) {
        problems.push(`identity ${identity.name} trusts subject ${c.subject} twice`);
      }
      subjects.add(c.subject);
    }
    for (const a of identity.roleAssignments) {
      if (roleDefinitionGuid(a.role) === undefined) {
        problems.push(`role ${JSON.stringify(a.role)} is neither a known built-in role nor a GUID`);
      }
      if (!isAzureScope(a.scope)) problems.push(`scope ${a.scope} is not an Azure resource ID`);
    }
  }
  return problems;
}

/** Managed identities trusting the SPIFFE issuer, and their role assignments. */
export class EntraFederation extends pulumi.ComponentResource {
  /** Identities by name. */
  readonly identities: Record<string, managedidentity.UserAssignedIdentity>;
  /** Federated credentials by `<identity>/<credential>`. */
  readonly credentials: Record<string, managedidentity.FederatedIdentityCredential>;
  /** Role assignments. */
  readonly roleAssignments: authorization.RoleAssignment[];
  /** Login outputs by identity name. */
  readonly logins: Record<string, EntraLogin>;

  constructor(name: string, args: EntraFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("EntraFederation", name, entraArgsProblems(args));
    // azure-native's API-version aliases never match these resources (sdk-aliases.ts).
    super(
      "spire-federation:federation:Entra",
      name,
      {},
      {
        ...opts,
        transformations: [dropApiVersionAliases, ...(opts?.transformations ?? [])],
      },
    );
    this.identities = {};
    this.credentials = {};
    this.roleAssignments = [];
    this.logins = {};

    for (const spec of args.identities) {
      const identity = new managedidentity.UserAssignedIdentity(
        `${name}-${spec.name}`,
        {
          resourceName: spec.name,
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          tags: { "managed-by": "spire-federation" },
        },
        anchorOptions(this, args.protectAnchors),
      );
      this.identities[spec.name] = identity;
      this.logins[spec.name] = {
        clientId: identity.clientId,
        tenantId: identity.tenantId,
        principalId: identity.principalId,
      };

      // Entra rejects concurrent writes of credentials under one identity: chain them.
      let previous: pulumi.Resource | undefined;
      for (const c of spec.credentials) {
        const credential = new managedidentity.FederatedIdentityCredential(
          `${name}-${spec.name}-${c.name}`,
          {
            resourceGroupName: args.resourceGroupName,
            // The name from config (known at preview, so policies can group by identity); the
            // explicit dependency below keeps the credential after its identity.
            resourceName: spec.name,
            federatedIdentityCredentialResourceName: c.name,
            issuer: args.issuerUrl,
            subject: c.subject,
            audiences: [args.audience],
          },
          { parent: this, dependsOn: previous ? [identity, previous] : [identity] },
        );
        this.credentials[`${spec.name}/${c.name}`] = credential;
        previous = credential;
      }

      for (const a of spec.roleAssignments) {
        const guid = roleDefinitionGuid(a.role) as string;
        const assignmentName = deterministicGuid(spec.name, guid, a.scope);
        this.roleAssignments.push(
          new authorization.RoleAssignment(
            `${name}-${spec.name}-${assignmentName}`,
            {
              roleAssignmentName: assignmentName,
              principalId: identity.principalId,
              principalType: "ServicePrincipal",
              roleDefinitionId: `/subscriptions/${args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
              scope: a.scope,
              description: `${a.role} for SPIFFE workloads of ${spec.name}`,
            },
            // The name is fixed, so a new principal (identity recreated) must free it first.
            { parent: this, deleteBeforeReplace: true },
          ),
        );
      }
    }
    this.registerOutputs({});
  }
}
