/**
 * What a workload with an OpenZiti grant needs in its pods. On the X.509 path: its identity file
 * (exactly the login) and `ZITI_IDENTITIES`, which the SDKs load at start. On the JWT path only
 * (`x509: false`): no identity file (its certificate would make the SDKs try certificate
 * authentication, which the auth policy forbids) but a JWT-SVID for the external JWT signer's
 * audience, `ZITI_JWT_FILE` and `ZITI_CLIENT_API_URL` (`…/edge/client/v1`), which the
 * application hands the SDK (Go: `edge_apis.NewJwtCredentials`, `ziti.Config.ZtAPI`). Either way
 * the controller's CA bundle where the login points (when configured) and, when the JWT path is
 * on, the JWT-SVID.
 */
import type { WorkloadConfigFile, WorkloadContribution, WorkloadFilesContext } from "../contract";
import { inDir } from "../paths";
import { OPENZITI_JWT_SVID_FILE, ZITI_CONTROLLER_CA_PATH, type OpenZitiLogin } from "./component";
import type { OpenZitiBlock, OpenZitiGrant } from "./schema";

/** ConfigMap key of the identity file. */
export const OPENZITI_IDENTITY_FILE = "openziti-identity.json";
/** ConfigMap key of the controller's CA bundle (mounted at `ZITI_CONTROLLER_CA_PATH`). */
export const OPENZITI_CA_FILE = "openziti-ca.pem";

/**
 * The identity file goes into the ConfigMap as the login states it; on the JWT path the helper
 * fetches a JWT-SVID for `openziti.audience`, exactly the signer's audience, for `ext-jwt`
 * authentication.
 */
export function openzitiWorkloadFiles(
  ctx: WorkloadFilesContext<OpenZitiBlock, OpenZitiGrant, OpenZitiLogin>,
): WorkloadContribution {
  const { block, login, paths } = ctx;
  const files: Record<string, WorkloadConfigFile> = {};
  const env: Record<string, string> = {};
  if ("id" in login) {
    files[OPENZITI_IDENTITY_FILE] = { content: JSON.stringify(login, null, 2) };
    env.ZITI_IDENTITIES = inDir(paths.configDir, OPENZITI_IDENTITY_FILE);
  } else {
    env.ZITI_CLIENT_API_URL = login.ztAPI;
    if (login.ca !== undefined) env.ZITI_CA_FILE = login.ca;
  }
  if (block.jwt) env.ZITI_JWT_FILE = inDir(paths.certDir, OPENZITI_JWT_SVID_FILE);
  if (block.controllerCaPem !== undefined) {
    files[OPENZITI_CA_FILE] = { content: block.controllerCaPem, path: ZITI_CONTROLLER_CA_PATH };
  }
  return {
    jwtSvids: block.jwt ? [{ audience: block.audience, fileName: OPENZITI_JWT_SVID_FILE }] : [],
    files,
    env,
  };
}
