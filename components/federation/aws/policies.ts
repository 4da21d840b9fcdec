/**
 * AWS's CrossGuard rules: role trust policies that admit exact SPIFFE IDs only (web identity and
 * Roles Anywhere), IAM's limits on roles, and the Roles Anywhere trust anchor. No rule on the JWT
 * signing algorithm: STS accepts RS256/384/512 and ES256/384/512, every key type SPIRE has (the
 * stack config still checks it through the registry entry's `jwtAlgorithms`).
 */
import type { ReportViolation, StackValidationArgs } from "../../policy-types";
import { resourcePolicy, str } from "../../policy-kit";
import type { Policy } from "../contract";
import {
  AWS_DEFAULT_MANAGED_POLICIES_PER_ROLE,
  maxSessionProblem,
  roleNameProblem,
  rootAnchorProblem,
} from "./rules";
import {
  isRolesAnywhereStatement,
  isWebIdentityStatement,
  rolesAnywhereProblems,
  trustStatements,
  webIdentityProblems,
} from "./trust-policy";

/** Type tokens of AWS resources. */
export const AWS_TYPES = {
  role: "aws:iam/role:Role",
  oidcProvider: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  trustAnchor: "aws:rolesanywhere/trustAnchor:TrustAnchor",
  profile: "aws:rolesanywhere/profile:Profile",
} as const;

/** A mandatory rule on the role trust statements `applies` selects, one message per problem. */
function trustRule(p: {
  name: string;
  description: string;
  applies: (statement: Record<string, unknown>) => boolean;
  problems: (statement: Record<string, unknown>) => string[];
  consequence: (role: string) => string;
  reportsUnparsable: boolean;
}) {
  return resourcePolicy({
    name: p.name,
    description: p.description,
    severity: "critical",
    enforcementLevel: "mandatory",
    types: [AWS_TYPES.role],
    check: (props, _args, report) => {
      const statements = trustStatements(props.assumeRolePolicy);
      if (typeof statements === "string") {
        if (p.reportsUnparsable) report(`assumeRolePolicy ${statements}`);
        return;
      }
      const role = str(props.name) ?? "(unnamed)";
      statements.forEach((s, i) => {
        if (!p.applies(s)) return;
        for (const problem of p.problems(s)) {
          report(`trust policy statement ${i} ${problem}: ${p.consequence(role)}`);
        }
      });
    },
  });
}

/** The rules. */
export const awsPolicies: Policy[] = [
  trustRule({
    name: "aws-web-identity-trust",
    description:
      "Roles trusting an IAM OIDC provider admit exact SPIFFE IDs and the exact audience only: StringEquals on <issuer host>:sub and :aud, never StringLike, wildcards or a missing sub.",
    applies: isWebIdentityStatement,
    problems: webIdentityProblems,
    consequence: (role) =>
      `any token of the issuer that passes would assume role ${role}; trust one exact SPIFFE ID per workload`,
    reportsUnparsable: true,
  }),
  trustRule({
    name: "aws-roles-anywhere-trust",
    description:
      "Roles trusting IAM Roles Anywhere admit exact SPIFFE IDs (StringEquals on aws:PrincipalTag/x509SAN/URI) through one trust anchor (ArnEquals on aws:SourceArn).",
    applies: isRolesAnywhereStatement,
    problems: rolesAnywhereProblems,
    consequence: (role) => `any certificate Roles Anywhere accepts could assume role ${role}`,
    reportsUnparsable: false,
  }),
  resourcePolicy({
    name: "aws-role-limits",
    description:
      "IAM role names are 1–64 characters of [\\w+=,.@-]; a role's maximum session is 1h–12h.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [AWS_TYPES.role],
    check: (props, _args, report) => {
      const name = str(props.name);
      if (name !== undefined) {
        const p = roleNameProblem(name);
        if (p !== undefined) report(`role name ${name} ${p}`);
      }
      if (typeof props.maxSessionDuration === "number") {
        const p = maxSessionProblem(props.maxSessionDuration);
        if (p !== undefined) report(`maxSessionDuration ${props.maxSessionDuration} ${p}`);
      }
    },
  }),
  {
    name: "aws-managed-policies-per-role",
    description:
      "No role carries more managed policies than the account's quota (maxPerRole, 10 by default; IAM allows 20 at most).",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        maxPerRole: { type: "number", default: AWS_DEFAULT_MANAGED_POLICIES_PER_ROLE },
      },
    },
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const { maxPerRole } = args.getConfig<{ maxPerRole: number }>();
      const byRole = new Map<string, string[]>();
      for (const r of args.resources) {
        if (r.type !== AWS_TYPES.attachment) continue;
        // The role: its name, or (unknown at preview) the role resource it waits on.
        const owner = r.dependencies.find((d) => d.type === AWS_TYPES.role);
        const role = str(r.props.role) ?? str(owner?.props.name) ?? owner?.name ?? r.name;
        byRole.set(role, [...(byRole.get(role) ?? []), r.urn]);
      }
      for (const [role, urns] of byRole) {
        if (urns.length > maxPerRole) {
          report(
            `role ${role} has ${urns.length} managed policies; the account allows ${maxPerRole} per role, so IAM refuses the attachment (LimitExceeded)`,
            urns[maxPerRole],
          );
        }
      }
    },
  },
  resourcePolicy({
    name: "aws-roles-anywhere-anchor",
    description:
      "The Roles Anywhere trust anchor holds the stable root (a self-signed CA, SHA-256 or stronger), not an intermediate that rotates.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [AWS_TYPES.trustAnchor],
    check: (props, _args, report) => {
      const source = (props.source ?? {}) as Record<string, unknown>;
      const type = str(source.sourceType);
      if (type !== undefined && type !== "CERTIFICATE_BUNDLE") {
        report(
          `source type ${type}: the anchor must be the trust domain's root (CERTIFICATE_BUNDLE)`,
        );
      }
      const data = (source.sourceData ?? {}) as Record<string, unknown>;
      const pem = str(data.x509CertificateData);
      if (pem === undefined) return; // unknown until the root exists (generated mode)
      const p = rootAnchorProblem(pem);
      if (p !== undefined) {
        report(
          `x509CertificateData ${p}; SPIRE's intermediates rotate, so workloads would fail once it does`,
        );
      }
    },
  }),
];
