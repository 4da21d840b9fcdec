/**
 * Workloads grouped into IAM roles: a role trusts each of its workloads' exact SPIFFE IDs on the
 * path the workload uses, and carries the union of their managed and inline policies. Shared by
 * the config rules (limits per role) and the build (one role resource each).
 */
import type * as pulumi from "@pulumi/pulumi";
import { issuerHost } from "./rules";
import { rolesAnywhereStatement, webIdentityStatement, type TrustPolicy } from "./trust-policy";

/** How a workload reaches AWS. */
export type AwsAuth = "jwt" | "x509";

/** One workload's AWS grant, with defaults applied. */
export interface AwsGrant {
  /** The IAM role (shared when several workloads name it). Default: the workload name. */
  role: string;
  /** `jwt`: a JWT-SVID through the IAM OIDC provider; `x509`: the X509-SVID through Roles Anywhere. Default: `jwt`. */
  auth: AwsAuth;
  /** Managed policy ARNs attached to the role. */
  managedPolicyArns: string[];
  /** Inline policies of the role, by policy name (IAM policy documents). */
  inlinePolicies: Record<string, Record<string, unknown>>;
  /** The role's maximum session duration, seconds. Default: 3600. */
  maxSessionSeconds: number;
}

/** One IAM role and the workloads it trusts. */
export interface AwsRoleArgs {
  /** Role name (physical, unique per account). */
  name: string;
  /** Maximum session duration, seconds (3600–43200). */
  maxSessionSeconds: number;
  /** SPIFFE IDs trusted through the IAM OIDC provider (JWT-SVIDs), in config order. */
  jwtSubjects: string[];
  /** SPIFFE IDs trusted through Roles Anywhere (X509-SVIDs), in config order. */
  x509Subjects: string[];
  /** Managed policy ARNs, each once. */
  managedPolicyArns: string[];
  /** Inline policies by name. */
  inlinePolicies: Record<string, Record<string, unknown>>;
}

/** Groups workloads by role, in config order; a role's lists hold each value once. */
export function awsRoles(
  grants: readonly { workload: { spiffeId: string }; grant: AwsGrant }[],
): AwsRoleArgs[] {
  const byName = new Map<string, AwsRoleArgs>();
  for (const { workload, grant } of grants) {
    const role = byName.get(grant.role) ?? {
      name: grant.role,
      maxSessionSeconds: grant.maxSessionSeconds,
      jwtSubjects: [],
      x509Subjects: [],
      managedPolicyArns: [],
      inlinePolicies: {},
    };
    const subjects = grant.auth === "jwt" ? role.jwtSubjects : role.x509Subjects;
    if (!subjects.includes(workload.spiffeId)) subjects.push(workload.spiffeId);
    for (const arn of grant.managedPolicyArns) {
      if (!role.managedPolicyArns.includes(arn)) role.managedPolicyArns.push(arn);
    }
    Object.assign(role.inlinePolicies, grant.inlinePolicies);
    byName.set(grant.role, role);
  }
  return [...byName.values()];
}

/** Where the trust policy's principals come from. */
export interface TrustSources {
  /** The IAM OIDC provider's ARN. */
  oidcProviderArn: pulumi.Input<string>;
  /** The issuer URL (its host names the condition keys). */
  issuerUrl: string;
  /** The audience (`<host>:aud`). */
  audience: string;
  /** The Roles Anywhere trust anchor's ARN. */
  trustAnchorArn: pulumi.Input<string>;
}

/** A role's trust policy: one statement per path it serves. */
export function trustPolicy(role: AwsRoleArgs, src: TrustSources): TrustPolicy {
  const statements = [];
  if (role.jwtSubjects.length > 0) {
    statements.push(
      webIdentityStatement(
        src.oidcProviderArn,
        issuerHost(src.issuerUrl),
        role.jwtSubjects,
        src.audience,
      ),
    );
  }
  if (role.x509Subjects.length > 0) {
    statements.push(rolesAnywhereStatement(src.trustAnchorArn, role.x509Subjects));
  }
  return { Version: "2012-10-17", Statement: statements };
}
