/**
 * What a workload with an OpenZiti grant needs in its pods: its identity file (exactly the
 * login), the controller's CA bundle where the identity file points (when configured), a
 * JWT-SVID for the external JWT signer's audience on the JWT path, and `ZITI_IDENTITIES`.
 */
import type { WorkloadConfigFile, WorkloadContribution, WorkloadFilesContext } from "../contract";
import { inDir } from "../paths";
import { ZITI_CONTROLLER_CA_PATH, type ZitiIdentityFile } from "./component";
import type { OpenZitiBlock, OpenZitiGrant } from "./schema";

/** ConfigMap key of the identity file. */
export const OPENZITI_IDENTITY_FILE = "openziti-identity.json";
/** ConfigMap key of the controller's CA bundle (mounted at `ZITI_CONTROLLER_CA_PATH`). */
export const OPENZITI_CA_FILE = "openziti-ca.pem";
/** File name of the JWT-SVID for the controller, in the helper's `cert_dir`. */
export const OPENZITI_JWT_SVID_FILE = "openziti-jwt-svid.token";

/**
 * The identity file goes into the ConfigMap as the login states it; `ZITI_IDENTITIES` (read by
 * the OpenZiti SDKs at start) names it. On the JWT path the helper fetches a JWT-SVID for
 * `openziti.audience`, exactly the signer's audience, for `ext-jwt` authentication.
 */
export function openzitiWorkloadFiles(
  ctx: WorkloadFilesContext<OpenZitiBlock, OpenZitiGrant, ZitiIdentityFile>,
): WorkloadContribution {
  const { block, login, paths } = ctx;
  const files: Record<string, WorkloadConfigFile> = {
    [OPENZITI_IDENTITY_FILE]: { content: JSON.stringify(login, null, 2) },
  };
  if (block.controllerCaPem !== undefined) {
    files[OPENZITI_CA_FILE] = { content: block.controllerCaPem, path: ZITI_CONTROLLER_CA_PATH };
  }
  return {
    jwtSvids: block.jwt ? [{ audience: block.audience, fileName: OPENZITI_JWT_SVID_FILE }] : [],
    files,
    env: { ZITI_IDENTITIES: inDir(paths.configDir, OPENZITI_IDENTITY_FILE) },
  };
}
