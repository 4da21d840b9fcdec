/**
 * Google Cloud's CrossGuard rules: provider attribute mapping, pool-wide grants, and the JWT
 * signing algorithm the STS accepts.
 */
import { jwtAlgorithmPolicy } from "../../core-policies";
import { obj, resourcePolicy, str, type Props } from "../../policy-kit";
import type { Policy } from "../contract";

/** Type tokens of Google Cloud resources. */
export const GCP_TYPES = {
  provider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
  member: "gcp:projects/iAMMember:IAMMember",
  binding: "gcp:projects/iAMBinding:IAMBinding",
} as const;

const DEFAULT_PRIVILEGED_ROLES = [
  "roles/owner",
  "roles/editor",
  "roles/resourcemanager.projectIamAdmin",
  "roles/iam.securityAdmin",
  "roles/iam.serviceAccountAdmin",
  "roles/iam.serviceAccountTokenCreator",
  "roles/iam.workloadIdentityPoolAdmin",
];

const POOL_WIDE =
  /^principalSet:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\/[^/]+\/\*$/;

function gcpMembers(props: Props): string[] {
  const one = str(props.member);
  const many = Array.isArray(props.members)
    ? props.members.filter((m) => typeof m === "string")
    : [];
  return one ? [one, ...many] : many;
}

/** The rules. */
export const gcpPolicies: Policy[] = [
  resourcePolicy({
    name: "gcp-provider-mapping",
    description:
      "GCP workload identity providers map google.subject (assertion.san.uri for X.509) and carry an attribute condition.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [GCP_TYPES.provider],
    check: (props, _args, report) => {
      const subject = str(obj(props.attributeMapping)["google.subject"]);
      if (props.x509 !== undefined) {
        if (subject !== "assertion.san.uri") {
          report(
            `X.509 provider maps google.subject to ${JSON.stringify(subject ?? "")}: SPIRE's leaves have no CN; map it to assertion.san.uri`,
          );
        }
      } else if (!subject) {
        report("google.subject is not mapped: every token would be rejected");
      }
      if (!str(props.attributeCondition)?.trim()) {
        report(
          "no attributeCondition: any credential the provider accepts could act as this pool; limit it to the trust domain",
        );
      }
    },
  }),
  resourcePolicy({
    name: "gcp-no-pool-wide-grant",
    description:
      "Project roles go to individual SPIFFE IDs, not to every identity of the pool (principalSet://…/*).",
    severity: "medium",
    enforcementLevel: "advisory",
    types: [GCP_TYPES.member, GCP_TYPES.binding],
    check: (props, _args, report) => {
      for (const m of gcpMembers(props)) {
        if (POOL_WIDE.test(m)) report(`${str(props.role)} is granted to the whole pool (${m})`);
      }
    },
  }),
  resourcePolicy({
    name: "gcp-no-pool-wide-privileged-grant",
    description: "Owner/editor-class roles are never granted to a whole workload identity pool.",
    severity: "critical",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        privilegedRoles: {
          type: "array",
          items: { type: "string" },
          default: DEFAULT_PRIVILEGED_ROLES,
        },
      },
    },
    types: [GCP_TYPES.member, GCP_TYPES.binding],
    check: (props, args, report) => {
      const { privilegedRoles } = args.getConfig<{ privilegedRoles: string[] }>();
      const role = str(props.role);
      if (role === undefined || !privilegedRoles.includes(role)) return;
      for (const m of gcpMembers(props)) {
        if (POOL_WIDE.test(m))
          report(`privileged role ${role} is granted to every identity of the pool (${m})`);
      }
    },
  }),
  jwtAlgorithmPolicy({
    name: "gcp-oidc-jwt-algorithm",
    description:
      "When a Google Cloud OIDC provider exists, SPIRE's CA key (which signs JWT-SVIDs) gives RS256 or ES256: the STS accepts no other.",
    verifies: (r) => r.type === GCP_TYPES.provider && r.props.oidc !== undefined,
    verifiers: "Google Cloud OIDC providers",
    algorithms: ["RS256", "ES256"],
    reason: "Google Cloud's STS accepts RS256 and ES256 tokens only",
  }),
];
