/** What Vault accepts, written once: used by the config schema, the component and the policies. */

/** Default mount path of the JWT auth backend. */
export const DEFAULT_VAULT_PATH = "spire-jwt";
/** Default audience a workload requests for Vault. */
export const DEFAULT_VAULT_AUDIENCE = "vault";

const VAULT_PATH = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.-]+)*$/;
const VAULT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Why a mount path is unusable, or `undefined`. */
export function vaultPathProblem(path: string): string | undefined {
  return VAULT_PATH.test(path)
    ? undefined
    : "must be a Vault mount path such as spire-jwt (letters, digits, . _ - and inner /)";
}

/** Why a policy or role name is unusable, or `undefined`. */
export function vaultNameProblem(name: string): string | undefined {
  return VAULT_NAME.test(name) ? undefined : "must be letters, digits, . _ or -";
}
