/** What Google Cloud accepts, written once: used by the config schema, the component and the policies. */
import type { JwksCaching } from "../rotation";

/** Longest `google.subject`. */
export const GCP_MAX_SUBJECT_LENGTH = 127;
/** Default provider IDs. */
export const DEFAULT_GCP_OIDC_PROVIDER_ID = "spire-oidc";
/** Default X.509 provider ID. */
export const DEFAULT_GCP_X509_PROVIDER_ID = "spire-x509";

const POOL_ID = /^[a-z0-9-]{4,32}$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** Why a project ID is unusable, or `undefined` (Google's rule for project IDs). */
export function gcpProjectIdProblem(id: string): string | undefined {
  return PROJECT_ID.test(id)
    ? undefined
    : "must be a project ID: 6–30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen";
}

/** Why a project number (as config gives it: a string, or a number when unquoted) is unusable. */
export function gcpProjectNumberProblem(value: string | number): string | undefined {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    return Number.isInteger(value)
      ? "is an unquoted number past 2^53 that lost digits when parsed: quote it"
      : "must be the numeric project number";
  }
  return /^[0-9]{6,20}$/.test(String(value)) ? undefined : "must be the numeric project number";
}

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

/**
 * How Google's STS keeps an OIDC provider's JWKS: Google publishes no cache time (checked:
 * cloud.google.com/iam/docs/workload-identity-federation-with-other-providers). Nothing to
 * compare the rotation lead with.
 */
export const GCP_JWKS_CACHING: JwksCaching = {
  refreshOnUnknownKid: false,
  source:
    "not published by Google (cloud.google.com/iam/docs/workload-identity-federation-with-other-providers)",
};
