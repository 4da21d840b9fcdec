/** What Vault accepts, written once: used by the config schema, the component and the policies. */
import type { JwksCaching } from "../rotation";

/** Default mount path of the JWT auth backend. */
export const DEFAULT_VAULT_PATH = "spire-jwt";
/** Default audience a workload requests for Vault. */
export const DEFAULT_VAULT_AUDIENCE = "vault";

const VAULT_PATH = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.-]+)*$/;
const VAULT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Policy names Vault reserves (it compares policy names in lowercase). */
export const VAULT_RESERVED_POLICIES = ["default", "root"] as const;

/** Why a mount path is unusable, or `undefined`. */
export function vaultPathProblem(path: string): string | undefined {
  if (!VAULT_PATH.test(path)) {
    return "must be a Vault mount path such as spire-jwt (letters, digits, . _ - and inner /)";
  }
  if (path.split("/").some((seg) => seg === "." || seg === "..")) {
    return "must not have . or .. segments; Vault would resolve them to another path";
  }
  return undefined;
}

/** Why a policy name is unusable, or `undefined` (beyond {@link vaultNameProblem}). */
export function vaultPolicyNameProblem(name: string): string | undefined {
  const problem = vaultNameProblem(name);
  if (problem !== undefined) return problem;
  switch (name.toLowerCase()) {
    case "root":
      return "is Vault's built-in root policy, which cannot be written: choose another name";
    case "default":
      return "is Vault's built-in default policy, attached to every token; writing it would change every token's rights: choose another name";
    default:
      return undefined;
  }
}

/** Why a token TTL (in seconds) is unusable, or `undefined`. */
export function vaultTokenTtlProblem(seconds: number): string | undefined {
  return seconds >= 1 && Math.abs(seconds - Math.round(seconds)) < 1e-9
    ? undefined
    : "must be a whole number of seconds, at least 1s; Vault takes token_ttl in whole seconds";
}

/** Why a policy or role name is unusable, or `undefined`. */
export function vaultNameProblem(name: string): string | undefined {
  return VAULT_NAME.test(name) ? undefined : "must be letters, digits, . _ or -";
}

/**
 * How Vault's JWT auth keeps the JWKS: through hashicorp/cap (jwt/keyset.go @cf52420,
 * `NewOIDCDiscoveryKeySet` → go-oidc `RemoteKeySet`), which fetches the keys again when a token's
 * `kid` is not among those it holds. A new SPIRE key is therefore found on its first use.
 */
export const VAULT_JWKS_CACHING: JwksCaching = {
  refreshOnUnknownKid: true,
  source: "hashicorp/cap jwt/keyset.go @cf52420 (go-oidc RemoteKeySet refetches on an unknown kid)",
};
