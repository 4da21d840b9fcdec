/** What Google Cloud accepts, written once: used by the config schema, the component and the policies. */

/** Longest `google.subject`. */
export const GCP_MAX_SUBJECT_LENGTH = 127;
/** Default provider IDs. */
export const DEFAULT_GCP_OIDC_PROVIDER_ID = "spire-oidc";
/** Default X.509 provider ID. */
export const DEFAULT_GCP_X509_PROVIDER_ID = "spire-x509";

const POOL_ID = /^[a-z0-9-]{4,32}$/;

/** Why a pool or provider ID is unusable, or `undefined`. */
export function gcpIdProblem(id: string): string | undefined {
  if (!POOL_ID.test(id) || id.startsWith("gcp-")) {
    return 'must be 4–32 characters of lowercase letters, digits and dashes, not starting with "gcp-"';
  }
  return undefined;
}

/** Why an IAM role name is unusable, or `undefined`. */
export function gcpRoleProblem(role: string): string | undefined {
  return /^(roles\/[A-Za-z0-9_.]+|(projects|organizations)\/[^/]+\/roles\/[A-Za-z0-9_.]+)$/.test(
    role,
  )
    ? undefined
    : "must be an IAM role such as roles/storage.objectViewer or projects/<p>/roles/<custom>";
}

/** The pool and provider settings (the `gcp` config block with defaults applied). */
export interface GcpPoolSettings {
  /** Project that holds the pool. */
  project: string;
  /** Its project number (IAM principals use it). */
  projectNumber: string;
  /** Workload identity pool ID. */
  poolId: string;
  /** OIDC provider ID. */
  oidcProviderId: string;
  /** X.509 provider ID. */
  x509ProviderId: string;
  /** Create the OIDC provider (needs a public, publicly trusted issuer). */
  oidc: boolean;
  /** Create the X.509 provider. */
  x509: boolean;
}
