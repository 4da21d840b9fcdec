/**
 * What a workload with a Curity grant needs in its pods: on the JWT flow a JWT-SVID for Curity's
 * audience (the token endpoint as Curity publishes it) in the file the login's `curl` reads; on
 * the mutual TLS flow the X509-SVID the helper writes anyway; and the client's settings in its
 * environment.
 */
import type { WorkloadContribution, WorkloadFilesContext } from "../contract";
import { inDir } from "../paths";
import { CURITY_JWT_SVID_FILE, type CurityLogin } from "./component";
import type { CurityBlock, CurityGrant } from "./schema";

/**
 * The helper fetches a JWT-SVID for `login.audience` (exactly the audience Curity checks) into
 * `<certDir>/curity-jwt-svid.token`, the file `login.curl.jwt` and `CURITY_JWT_SVID_FILE` name.
 * `CURITY_CLIENT_ID`, `CURITY_SCOPE` and the URLs of the workload's flows go into its environment.
 */
export function curityWorkloadFiles(
  ctx: WorkloadFilesContext<CurityBlock, CurityGrant, CurityLogin>,
): WorkloadContribution {
  const { login, paths } = ctx;
  const env: Record<string, string> = {
    CURITY_CLIENT_ID: login.clientId,
    CURITY_SCOPE: login.scopes.join(" "),
  };
  if (login.tokenUrl !== undefined) env.CURITY_TOKEN_URL = login.tokenUrl;
  if (login.audience !== undefined) {
    env.CURITY_JWT_SVID_FILE = inDir(paths.certDir, CURITY_JWT_SVID_FILE);
  }
  if (login.mtlsTokenEndpoint !== undefined) env.CURITY_MTLS_TOKEN_URL = login.mtlsTokenEndpoint;
  return {
    jwtSvids:
      login.audience === undefined
        ? []
        : [{ audience: login.audience, fileName: CURITY_JWT_SVID_FILE }],
    env,
  };
}
