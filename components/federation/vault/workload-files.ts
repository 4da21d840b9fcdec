/**
 * What a workload with a Vault grant needs in its pods: a JWT-SVID for its role's audience (the
 * role's `bound_audiences`), and the address, role, login path and token file in its environment.
 */
import type { WorkloadContribution, WorkloadFilesContext } from "../contract";
import { inDir } from "../paths";
import type { VaultLogin } from "./component";
import type { VaultBlock, VaultGrant } from "./schema";

/** File name of the JWT-SVID for Vault, in the helper's `cert_dir`. */
export const VAULT_JWT_SVID_FILE = "vault-jwt-svid.token";

/**
 * The helper fetches a JWT-SVID for `login.audience` (exactly the role's bound audience); the
 * workload logs in with
 * `vault write "$VAULT_JWT_LOGIN_PATH" role="$VAULT_JWT_ROLE" jwt=@"$VAULT_JWT_FILE"`.
 * `VAULT_ADDR` is `vault:address` when the stack sets it.
 */
export function vaultWorkloadFiles(
  ctx: Pick<WorkloadFilesContext<VaultBlock, VaultGrant, VaultLogin>, "block" | "login" | "paths">,
): WorkloadContribution {
  const { block, login, paths } = ctx;
  return {
    jwtSvids: [{ audience: login.audience, fileName: VAULT_JWT_SVID_FILE }],
    env: {
      ...(block.address === undefined ? {} : { VAULT_ADDR: block.address }),
      VAULT_JWT_ROLE: login.role,
      VAULT_JWT_LOGIN_PATH: login.loginPath,
      VAULT_JWT_FILE: inDir(paths.certDir, VAULT_JWT_SVID_FILE),
    },
  };
}
