/**
 * The spiffe-helper configuration (HCL, as spiffe-helper v0.11.0 reads it with HCL1) for one
 * workload: X509-SVID, key and bundle, the JWT bundle, and one JWT-SVID per audience, written to
 * the in-memory `cert_dir` the workload container shares; daemon mode keeps them fresh.
 */
import type { WorkloadJwtSvid } from "../federation/contract";
import {
  JWT_BUNDLE_FILE,
  SVID_BUNDLE_FILE,
  SVID_CERT_FILE,
  SVID_KEY_FILE,
} from "../federation/paths";
import {
  AGENT_SOCKET_PATH,
  HELPER_HEALTH_PORT,
  HELPER_LIVE_PATH,
  HELPER_READY_PATH,
  SPIFFE_HELPER_VERSION,
} from "./rules";

/** What goes into one workload's helper configuration. */
export interface HelperConfArgs {
  /** The workload's name (for the header comment). */
  workload: string;
  /** The helper's `cert_dir`. */
  certDir: string;
  /** The JWT-SVIDs to fetch, in order. */
  jwtSvids: readonly WorkloadJwtSvid[];
}

/** An HCL string literal (HCL1 reads JSON's escapes; callers refuse `${`). */
function str(s: string): string {
  return JSON.stringify(s);
}

/**
 * The helper's `helper.conf`. File modes: certificates, key and tokens are readable by every
 * container of the pod (0644), because the helper and the workload run as different users; the
 * directory is an in-memory volume only this pod mounts.
 */
export function helperConf(args: HelperConfArgs): string {
  const lines = [
    `# spiffe-helper ${SPIFFE_HELPER_VERSION} configuration of workload ${args.workload} (written by spire-federation)`,
    `agent_address = ${str(AGENT_SOCKET_PATH)}`,
    "daemon_mode = true",
    `cert_dir = ${str(args.certDir)}`,
    `svid_file_name = ${str(SVID_CERT_FILE)}`,
    `svid_key_file_name = ${str(SVID_KEY_FILE)}`,
    `svid_bundle_file_name = ${str(SVID_BUNDLE_FILE)}`,
    `jwt_bundle_file_name = ${str(JWT_BUNDLE_FILE)}`,
    "cert_file_mode = 0644",
    "key_file_mode = 0644",
    "jwt_bundle_file_mode = 0644",
    "jwt_svid_file_mode = 0644",
  ];
  if (args.jwtSvids.length > 0) {
    lines.push("jwt_svids = [");
    for (const j of args.jwtSvids) {
      lines.push(
        `  { jwt_audience = ${str(j.audience)}, jwt_svid_file_name = ${str(j.fileName)} },`,
      );
    }
    lines.push("]");
  }
  lines.push(
    "health_checks {",
    "  listener_enabled = true",
    `  bind_port = ${HELPER_HEALTH_PORT}`,
    `  liveness_path = ${str(HELPER_LIVE_PATH)}`,
    `  readiness_path = ${str(HELPER_READY_PATH)}`,
    "}",
  );
  return lines.join("\n") + "\n";
}
