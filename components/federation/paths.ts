/**
 * Where a spiffe-helper sidecar writes a workload's SVIDs (its `cert_dir`, `svid_file_name`,
 * `svid_key_file_name`, `svid_bundle_file_name`, `jwt_bundle_file_name` and
 * `jwt_svids[].jwt_svid_file_name`), and where the workload's ConfigMap appears in its container.
 * Relying party configurations handed to workloads point at these files; the pod patch of
 * `components/workload` mounts them there. The directory is `workloadFiles.certDir`
 * ({@link SVID_DIR} by default).
 */
import * as path from "node:path";

/** The helper's default `cert_dir`. */
export const SVID_DIR = "/run/spiffe/certs";
/** File name of the X509-SVID leaf followed by SPIRE's intermediates. */
export const SVID_CERT_FILE = "svid.pem";
/** File name of the X509-SVID's private key. */
export const SVID_KEY_FILE = "svid_key.pem";
/** File name of the trust bundle (the trust domain's CA certificates). */
export const SVID_BUNDLE_FILE = "svid_bundle.pem";
/** File name of the JWT bundle (`{"<trust domain>": "<base64 JWKS>"}`). */
export const JWT_BUNDLE_FILE = "jwt_bundle.json";
/** File name of the JWT-SVID minted for Google Cloud's STS audience. */
export const GCP_JWT_SVID_FILE = "gcp-jwt-svid.token";
/** File name of Google's certificate configuration for the X.509 credential source. */
export const GCP_CERTIFICATE_CONFIG_FILE = "gcp-certificate-config.json";
/** Where the workload's ConfigMap (relying-party configuration files) is mounted. */
export const WORKLOAD_CONFIG_DIR = "/run/spiffe/config";

/** X509-SVID leaf followed by SPIRE's intermediates. */
export const SVID_CERT_PATH = `${SVID_DIR}/${SVID_CERT_FILE}`;
/** Private key of the X509-SVID. */
export const SVID_KEY_PATH = `${SVID_DIR}/${SVID_KEY_FILE}`;
/** The trust bundle: the trust domain's CA certificates. */
export const SVID_BUNDLE_PATH = `${SVID_DIR}/${SVID_BUNDLE_FILE}`;
/** A JWT-SVID minted for Google Cloud's STS audience. */
export const GCP_JWT_SVID_PATH = `${SVID_DIR}/${GCP_JWT_SVID_FILE}`;
/**
 * Google's certificate configuration for the X.509 credential source: a ConfigMap file, in the
 * read-only ConfigMap directory (never in the helper's `cert_dir`, which stays the helper's).
 */
export const GCP_CERTIFICATE_CONFIG_PATH = `${WORKLOAD_CONFIG_DIR}/${GCP_CERTIFICATE_CONFIG_FILE}`;

/** The files of one workload's pods, as absolute paths in its container. */
export interface WorkloadPaths {
  /** The helper's `cert_dir` (an in-memory volume shared with the workload container). */
  certDir: string;
  /** Where the workload's ConfigMap is mounted (read-only). */
  configDir: string;
  /** X509-SVID leaf followed by SPIRE's intermediates. */
  svid: string;
  /** Private key of the X509-SVID. */
  svidKey: string;
  /** The trust bundle. */
  svidBundle: string;
  /** The JWT bundle. */
  jwtBundle: string;
}

/** The paths for a `cert_dir` ({@link SVID_DIR} by default). */
export function workloadPaths(certDir: string = SVID_DIR): WorkloadPaths {
  return {
    certDir,
    configDir: WORKLOAD_CONFIG_DIR,
    svid: inDir(certDir, SVID_CERT_FILE),
    svidKey: inDir(certDir, SVID_KEY_FILE),
    svidBundle: inDir(certDir, SVID_BUNDLE_FILE),
    jwtBundle: inDir(certDir, JWT_BUNDLE_FILE),
  };
}

/** `<dir>/<file>` with POSIX separators (paths inside a Linux container). */
export function inDir(dir: string, file: string): string {
  return path.posix.join(dir, file);
}
