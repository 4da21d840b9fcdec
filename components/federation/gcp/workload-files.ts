/**
 * What a workload with a Google Cloud grant needs in its pods: a JWT-SVID for the OIDC
 * provider's audience, the `external_account` credential configurations and Google's
 * certificate configuration (exactly the login's), `GOOGLE_APPLICATION_CREDENTIALS` and
 * `GOOGLE_CLOUD_PROJECT`.
 *
 * `GOOGLE_CLOUD_PROJECT` is the project ID of `gcp.project`, where the pool lives. Without it,
 * google-auth-library's `GoogleAuth.getClient()` asks Cloud Resource Manager for the project of
 * the audience's project number, which a federated principal is rarely allowed to read ("The
 * caller does not have permission"). The ID, not the number: the client libraries put it in
 * resource names and the `x-goog-user-project` header, where the ID is what users write.
 */
import type { WorkloadConfigFile, WorkloadContribution, WorkloadFilesContext } from "../contract";
import { GCP_CERTIFICATE_CONFIG_FILE, GCP_JWT_SVID_FILE, inDir } from "../paths";
import type { GcpLogin } from "./component";
import type { GcpPoolSettings } from "./rules";
import type { GcpGrant } from "./schema";

/** ConfigMap key of the credential configuration for the OIDC provider (JWT-SVID). */
export const GCP_OIDC_CREDENTIALS_FILE = "gcp-oidc-credentials.json";
/** ConfigMap key of the credential configuration for the X.509 provider (X509-SVID, mTLS). */
export const GCP_X509_CREDENTIALS_FILE = "gcp-x509-credentials.json";

/**
 * The helper fetches a JWT-SVID for the OIDC provider's audience (its only allowed audience)
 * into the file the OIDC credential configuration reads. `GOOGLE_APPLICATION_CREDENTIALS` names
 * the OIDC configuration when the OIDC provider exists (every Google client library reads it),
 * else the X.509 one; the certificate configuration sits where the X.509 one points (the ConfigMap
 * directory).
 */
export function gcpWorkloadFiles(
  ctx: WorkloadFilesContext<GcpPoolSettings, GcpGrant, GcpLogin>,
): WorkloadContribution {
  const { block, login, paths } = ctx;
  const files: Record<string, WorkloadConfigFile> = {};
  if (login.credentialConfigs.oidc !== undefined) {
    files[GCP_OIDC_CREDENTIALS_FILE] = { content: login.credentialConfigs.oidc };
  }
  if (login.credentialConfigs.x509 !== undefined) {
    files[GCP_X509_CREDENTIALS_FILE] = { content: login.credentialConfigs.x509 };
  }
  if (login.certificateConfig !== undefined) {
    // In the read-only ConfigMap directory, where the X.509 configuration points.
    files[GCP_CERTIFICATE_CONFIG_FILE] = { content: login.certificateConfig };
  }
  const credentials =
    login.credentialConfigs.oidc !== undefined
      ? GCP_OIDC_CREDENTIALS_FILE
      : login.credentialConfigs.x509 !== undefined
        ? GCP_X509_CREDENTIALS_FILE
        : undefined;
  return {
    jwtSvids:
      login.audiences.oidc === undefined
        ? []
        : [{ audience: login.audiences.oidc, fileName: GCP_JWT_SVID_FILE }],
    files,
    env:
      credentials === undefined
        ? {}
        : {
            GOOGLE_APPLICATION_CREDENTIALS: inDir(paths.configDir, credentials),
            GOOGLE_CLOUD_PROJECT: block.project,
          },
  };
}
