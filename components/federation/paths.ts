/**
 * Where a spiffe-helper sidecar writes a workload's SVIDs (its `cert_dir`, `svid_file_name`,
 * `svid_key_file_name`, `svid_bundle_file_name` and `jwt_svids[].jwt_svid_file_name`). Relying
 * party configurations handed to workloads point at these files; mount the helper's volume at
 * {@link SVID_DIR} in the workload container.
 */
export const SVID_DIR = "/run/spiffe/certs";
/** X509-SVID leaf followed by SPIRE's intermediates. */
export const SVID_CERT_PATH = `${SVID_DIR}/svid.pem`;
/** Private key of the X509-SVID. */
export const SVID_KEY_PATH = `${SVID_DIR}/svid_key.pem`;
/** The trust bundle: the trust domain's CA certificates. */
export const SVID_BUNDLE_PATH = `${SVID_DIR}/svid_bundle.pem`;
/** A JWT-SVID minted for Google Cloud's STS audience. */
export const GCP_JWT_SVID_PATH = `${SVID_DIR}/gcp-jwt-svid.token`;
/** Google's certificate configuration for the X.509 credential source. */
export const GCP_CERTIFICATE_CONFIG_PATH = `${SVID_DIR}/gcp-certificate-config.json`;
