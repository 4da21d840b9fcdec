/** What Entra ID accepts, written once: used by the config schema, the component and the policies. */
import type { JwksCaching } from "../rotation";

/** The audience Entra expects in federated tokens. */
export const ENTRA_AUDIENCE = "api://AzureADTokenExchange";
/** Limit on issuer and subject length. */
export const ENTRA_MAX_CLAIM_LENGTH = 600;
/** Limit on federated credentials per identity. */
export const ENTRA_MAX_CREDENTIALS_PER_IDENTITY = 20;

/** Built-in Azure roles known by name → role definition GUID. */
export const AZURE_BUILTIN_ROLES: Readonly<Record<string, string>> = {
  Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
  "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
  AcrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;
const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;
const RESOURCE_ID =
  /^\/subscriptions\/[0-9a-f-]{36}(\/resourceGroups\/[-\w.()]+(\/providers\/[\w.]+\/[^/]+\/[^/]+(\/[^/]+\/[^/]+)*)?)?$|^\/providers\/Microsoft\.Management\/managementGroups\/[-\w.()]+$/i;

/** The role definition GUID of a built-in role name or a GUID; `undefined` when neither. */
export function roleDefinitionGuid(role: string): string | undefined {
  if (GUID.test(role)) return role.toLowerCase();
  return AZURE_BUILTIN_ROLES[role];
}

/** True for a GUID (subscription, tenant, role definition IDs). */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** True for an Azure resource ID usable as a role assignment scope. */
export function isAzureScope(scope: string): boolean {
  return RESOURCE_ID.test(scope);
}

/** Why a federated credential name is unusable, or `undefined`. */
export function credentialNameProblem(name: string): string | undefined {
  return CREDENTIAL_NAME.test(name)
    ? undefined
    : "must be 3–120 characters of letters, digits, - and _, starting with a letter or digit";
}

/** Why a managed identity name is unusable, or `undefined`. */
export function identityNameProblem(name: string): string | undefined {
  return IDENTITY_NAME.test(name)
    ? undefined
    : "must be 3–128 characters of letters, digits, - and _, starting with a letter or digit";
}

/** Why an issuer or subject is unusable for a federated credential, or `undefined`. */
export function claimProblem(value: string): string | undefined {
  if (value.length > ENTRA_MAX_CLAIM_LENGTH) {
    return `is ${value.length} characters; Entra accepts at most ${ENTRA_MAX_CLAIM_LENGTH}`;
  }
  if (value.includes("*")) {
    return "contains a wildcard; Entra matches issuer and subject exactly";
  }
  return undefined;
}

/**
 * How long an Azure Identity SDK keeps the federated token file's content before reading it
 * again, at most: Go `azidentity`'s `WorkloadIdentityCredential` 10 min (`w.expires =
 * now.Add(10 * time.Minute)`), `@azure/identity`'s 5 min. Whatever it read must still be valid
 * when it posts it as the client assertion.
 */
export const AZURE_ASSERTION_CACHE_SECONDS = 600;
/**
 * The least share of its lifetime a JWT-SVID in the helper's file can have left. SPIRE's agent
 * (`rotationutil.JWTSVIDExpiresSoon`) hands out its cached token until less than half its lifetime
 * is left, with ±10% jitter: as little as 0.45 of it. spiffe-helper (`getRefreshInterval`) fetches
 * again after half the remaining life plus 1 s: the file then holds at least 0.225 of it, less 1 s.
 */
export const JWT_SVID_FILE_MIN_LIFE_SHARE = 0.225;
/** Allowance for clock skew between the node and Entra ID, in seconds. */
export const AZURE_CLOCK_SKEW_SECONDS = 60;
/**
 * The shortest `spire.jwtSvidTTL` while workloads have Azure grants: 50m, the first whole 10
 * minutes with `0.225 · TTL − 1 s ≥ 600 s + 60 s` (the bound itself is 48m58s).
 */
export const AZURE_MIN_JWT_SVID_TTL_SECONDS = 50 * 60;

/** Why a JWT-SVID lifetime (seconds) is too short for Azure workloads, or `undefined`. */
export function azureJwtSvidTtlProblem(seconds: number): string | undefined {
  if (seconds >= AZURE_MIN_JWT_SVID_TTL_SECONDS) return undefined;
  return (
    `must be at least ${AZURE_MIN_JWT_SVID_TTL_SECONDS / 60}m while workloads have Azure grants; ` +
    "the token file can hold a JWT-SVID with under a quarter of its lifetime left (SPIRE's agent and spiffe-helper renew at half the remaining life) " +
    "and the Azure Identity SDKs reuse what they read for up to 10 minutes, so a shorter lifetime makes them post an expired assertion (AADSTS700024)"
  );
}

/**
 * How Entra ID keeps an external issuer's JWKS: Microsoft publishes no cache time or refresh
 * policy for federated identity credentials (checked: learn.microsoft.com workload identity
 * federation pages and "Signing key rollover in the Microsoft identity platform", which covers
 * Entra's own keys only). Nothing to compare the rotation lead with.
 */
export const ENTRA_JWKS_CACHING: JwksCaching = {
  refreshOnUnknownKid: false,
  source: "not published by Microsoft (learn.microsoft.com workload identity federation docs)",
};
