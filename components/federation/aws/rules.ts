/**
 * What AWS IAM, STS and IAM Roles Anywhere accept, written once: used by the config schema, the
 * component and the policies. Sources are named beside each fact (and in the README).
 */
import type { JwksCaching } from "../rotation";
import { X509Certificate } from "node:crypto";

/** The audience AWS SDKs and the IAM docs use for web identity federation. */
export const DEFAULT_AWS_AUDIENCE = "sts.amazonaws.com";
/** The action a role grants an OIDC provider's tokens. */
export const WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity";
/** IAM Roles Anywhere's service principal. */
export const ROLES_ANYWHERE_SERVICE = "rolesanywhere.amazonaws.com";
/**
 * What a role must allow Roles Anywhere (IAM Roles Anywhere user guide, "Trust model": the trust
 * policy must grant sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession).
 */
export const ROLES_ANYWHERE_ACTIONS = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"];
/** The condition key Roles Anywhere fills with the certificate's URI SAN. */
export const X509_SAN_URI_KEY = "aws:PrincipalTag/x509SAN/URI";

/**
 * JWS algorithms STS accepts in AssumeRoleWithWebIdentity (STS API reference, WebIdentityToken:
 * "Tokens must be signed using either RSA keys (RS256, RS384, or RS512) or ECDSA keys (ES256,
 * ES384, or ES512)"; also in @aws-sdk/nested-clients' STS model docs).
 */
export const AWS_STS_JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"];

/** Longest role name (IAM quotas: "Role name: 64 characters"). */
export const AWS_MAX_ROLE_NAME_LENGTH = 64;
/** Longest inline policy name (IAM API: PolicyName, 1–128 of `[\w+=,.@-]`). */
export const AWS_MAX_POLICY_NAME_LENGTH = 128;
/** Role MaxSessionDuration bounds, seconds (IAM API CreateRole: 3600–43200). */
export const AWS_MIN_SESSION_SECONDS = 3600;
/** Upper bound of a role's MaxSessionDuration, seconds. */
export const AWS_MAX_SESSION_SECONDS = 43200;
/** Managed policies per role: the default quota (adjustable up to {@link AWS_MANAGED_POLICIES_HARD_LIMIT}). */
export const AWS_DEFAULT_MANAGED_POLICIES_PER_ROLE = 10;
/** Managed policies per role: the most a quota increase allows. */
export const AWS_MANAGED_POLICIES_HARD_LIMIT = 20;
/** Aggregate size of a role's inline policies, characters without whitespace (IAM quotas). */
export const AWS_MAX_ROLE_INLINE_POLICY_CHARS = 10240;
/**
 * Longest role trust policy, characters without whitespace (IAM quotas: "Role trust policy
 * length" 2,048 by default, adjustable to 4,096). Roles shared by many workloads list every
 * SPIFFE ID in it.
 */
export const AWS_MAX_TRUST_POLICY_CHARS = 2048;
/**
 * Roles Anywhere session duration bounds, seconds (CreateSession and profile `durationSeconds`:
 * 900–43200). The session also cannot outlast the role's MaxSessionDuration.
 */
export const ROLES_ANYWHERE_MIN_SESSION_SECONDS = 900;
/** Upper bound of a Roles Anywhere session, seconds. */
export const ROLES_ANYWHERE_MAX_SESSION_SECONDS = 43200;
/** Default Roles Anywhere session (aws_signing_helper's `--session-duration` default). */
export const DEFAULT_ROLES_ANYWHERE_SESSION_SECONDS = 3600;

const NAME = /^[\w+=,.@-]+$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/;
const PARTITION = "aws(-cn|-us-gov|-iso|-iso-b)?";
const ACCOUNT = "[0-9]{12}";
const MANAGED_POLICY_ARN = new RegExp(
  `^arn:${PARTITION}:iam::(${ACCOUNT}|aws):policy/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,128}$`,
);
const OIDC_PROVIDER_ARN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:oidc-provider/(.+)$`);

/** Why a role name is unusable, or `undefined`. */
export function roleNameProblem(name: string): string | undefined {
  return name.length <= AWS_MAX_ROLE_NAME_LENGTH && NAME.test(name)
    ? undefined
    : `must be 1–${AWS_MAX_ROLE_NAME_LENGTH} characters of letters, digits and + = , . @ _ - (an IAM role name)`;
}

/** Why an inline policy name is unusable, or `undefined`. */
export function policyNameProblem(name: string): string | undefined {
  return name.length <= AWS_MAX_POLICY_NAME_LENGTH && NAME.test(name)
    ? undefined
    : `must be 1–${AWS_MAX_POLICY_NAME_LENGTH} characters of letters, digits and + = , . @ _ - (an IAM policy name)`;
}

/** Why a managed policy ARN is unusable, or `undefined`. */
export function managedPolicyArnProblem(arn: string): string | undefined {
  return MANAGED_POLICY_ARN.test(arn)
    ? undefined
    : "must be a managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/<name>";
}

/** Why an OIDC provider ARN is unusable for the issuer, or `undefined`. */
export function oidcProviderArnProblem(arn: string, issuerHost?: string): string | undefined {
  const m = OIDC_PROVIDER_ARN.exec(arn);
  if (m === null) {
    return "must be an IAM OIDC provider ARN such as arn:aws:iam::123456789012:oidc-provider/<issuer host>";
  }
  const url = m[m.length - 1];
  if (issuerHost !== undefined && url !== issuerHost) {
    return `names the provider for ${url}, not this stack's issuer ${issuerHost}; IAM keeps one provider per issuer URL and account: name that one`;
  }
  return undefined;
}

/** Why a region name is unusable, or `undefined`. */
export function regionProblem(region: string): string | undefined {
  return REGION.test(region) ? undefined : "must be an AWS region such as eu-west-1";
}

/** Why a role's MaxSessionDuration (seconds) is unusable, or `undefined`. */
export function maxSessionProblem(seconds: number): string | undefined {
  return Number.isInteger(seconds) &&
    seconds >= AWS_MIN_SESSION_SECONDS &&
    seconds <= AWS_MAX_SESSION_SECONDS
    ? undefined
    : `must be between 1h and 12h (${AWS_MIN_SESSION_SECONDS}–${AWS_MAX_SESSION_SECONDS} seconds, IAM's bounds for a role's maximum session duration)`;
}

/** Why a Roles Anywhere session duration (seconds) is unusable, or `undefined`. */
export function rolesAnywhereSessionProblem(seconds: number): string | undefined {
  return Number.isInteger(seconds) &&
    seconds >= ROLES_ANYWHERE_MIN_SESSION_SECONDS &&
    seconds <= ROLES_ANYWHERE_MAX_SESSION_SECONDS
    ? undefined
    : `must be between 15m and 12h (${ROLES_ANYWHERE_MIN_SESSION_SECONDS}–${ROLES_ANYWHERE_MAX_SESSION_SECONDS} seconds, Roles Anywhere's session bounds)`;
}

/** The characters IAM counts toward the inline policy quota: whitespace does not count. */
export function policyChars(document: string): number {
  return document.replace(/\s/g, "").length;
}

/** The issuer as IAM names the provider and its condition keys: the URL without `https://`. */
export function issuerHost(issuerUrl: string): string {
  return issuerUrl.replace(/^https:\/\//, "").replace(/\/$/, "");
}

/** Signature algorithms Roles Anywhere refuses in a certificate (SHA-256 or stronger only). */
const WEAK_SIGNATURE = /md5|sha1(?![0-9])|sha-1(?![0-9])/i;

/**
 * Why a PEM certificate cannot be a Roles Anywhere trust anchor that outlives SPIRE's rotating
 * intermediates, or `undefined`: it must be the stable root (self-signed, a CA), signed with
 * SHA-256 or stronger (IAM Roles Anywhere user guide, "Trust model" and "Public key
 * infrastructure": CA certificates need basic constraints CA:true; MD5 and SHA-1 are refused).
 */
export function rootAnchorProblem(pem: string): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return "is not a PEM certificate";
  }
  if (!cert.ca) return "is not a CA certificate (basic constraints CA:true)";
  if (cert.subject !== cert.issuer || !cert.verify(cert.publicKey)) {
    return `is not self-signed (issuer ${cert.issuer.replace(/\n/g, ", ")}): the trust anchor must be the stable root, not an intermediate that rotates`;
  }
  const alg = (cert as { signatureAlgorithm?: string }).signatureAlgorithm;
  if (alg !== undefined && WEAK_SIGNATURE.test(alg)) {
    return `is signed with ${alg}; Roles Anywhere accepts SHA-256 or stronger`;
  }
  return undefined;
}

/**
 * How AWS STS keeps an issuer's JWKS for web identity: AWS publishes no cache time; STS honours
 * the JWKS response's cache headers (the IAM team's note quoted in gitlab-org/gitlab merge request
 * 138405, and AWS re:Post "iam-sts-invalididentitytoken": "STS is making too many requests to your
 * .well-known or jwks_uri"). Nothing published to compare the rotation lead with.
 */
export const AWS_JWKS_CACHING: JwksCaching = {
  refreshOnUnknownKid: false,
  source:
    "not published by AWS; STS honours the JWKS response's cache headers (gitlab-org/gitlab MR 138405)",
};
