/**
 * `spire-federation:aws` and `workloads[i].aws`: the schemas and AWS's cross-field rules (IAM
 * checks names and sizes only when the role is created, and trust mistakes only show at
 * AssumeRole time, so they are caught here).
 */
import { z } from "zod";
import { audience, duration, ruled } from "../../config-fields";
import { parseDuration } from "../../duration";
import type { CheckContext } from "../contract";
import { awsRoles, trustPolicy, type AwsGrant } from "./roles";
import {
  AWS_DEFAULT_MANAGED_POLICIES_PER_ROLE,
  AWS_MANAGED_POLICIES_HARD_LIMIT,
  AWS_MAX_ROLE_INLINE_POLICY_CHARS,
  AWS_MAX_TRUST_POLICY_CHARS,
  DEFAULT_AWS_AUDIENCE,
  DEFAULT_ROLES_ANYWHERE_SESSION_SECONDS,
  AWS_MIN_SESSION_SECONDS,
  managedPolicyArnProblem,
  maxSessionProblem,
  oidcProviderArnProblem,
  policyChars,
  policyNameProblem,
  regionProblem,
  roleNameProblem,
  rolesAnywhereSessionProblem,
} from "./rules";

export type { AwsAuth, AwsGrant } from "./roles";

/** A duration checked against a rule on its seconds. */
const ruledDuration = (problem: (seconds: number) => string | undefined) =>
  duration.superRefine((v, ctx) => {
    const p = problem(parseDuration(v) ?? 0);
    if (p !== undefined) ctx.addIssue({ code: "custom", message: p });
  });

/** Schema of `spire-federation:aws`. */
export const awsBlockSchema = z.strictObject({
  region: ruled(regionProblem),
  audience: audience.optional(),
  jwt: z.boolean({ error: "must be true or false" }).optional(),
  oidcProviderArn: ruled((a) => oidcProviderArnProblem(a)).optional(),
  roleNamePrefix: z
    .string()
    .regex(/^[\w+=,.@-]{0,32}$/, {
      error: "must be at most 32 characters of letters, digits and + = , . @ _ -",
    })
    .optional(),
  maxManagedPoliciesPerRole: z
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(AWS_MANAGED_POLICIES_HARD_LIMIT, {
      error: `must be at most ${AWS_MANAGED_POLICIES_HARD_LIMIT} (IAM's hard limit of managed policies per role)`,
    })
    .optional(),
  rolesAnywhere: z
    .strictObject({ sessionDuration: ruledDuration(rolesAnywhereSessionProblem).optional() })
    .optional(),
});

/** Schema of `workloads[i].aws`. */
export const awsGrantSchema = z.strictObject({
  role: ruled(roleNameProblem).optional(),
  auth: z.enum(["jwt", "x509"], { error: "must be jwt or x509" }).optional(),
  managedPolicyArns: z.array(ruled(managedPolicyArnProblem)).optional(),
  inlinePolicies: z
    .record(
      ruled(policyNameProblem),
      z.record(z.string(), z.unknown(), { error: "must be an IAM policy document (a map)" }),
    )
    .optional(),
  maxSessionDuration: ruledDuration(maxSessionProblem).optional(),
});

/** The parsed `spire-federation:aws` block. */
export type AwsBlockInput = z.output<typeof awsBlockSchema>;
/** A parsed `workloads[i].aws` grant. */
export type AwsGrantInput = z.output<typeof awsGrantSchema>;

/** AWS federation settings, with defaults applied. */
export interface AwsBlock {
  /** Region the workloads' SDKs use (`AWS_REGION`). */
  region: string;
  /** Audience of the JWT-SVIDs and client ID of the OIDC provider. Default: `sts.amazonaws.com`. */
  audience: string;
  /** Trust JWT-SVIDs through an IAM OIDC provider. Default: true. */
  jwt: boolean;
  /** An existing IAM OIDC provider for the issuer to use instead of creating one. */
  oidcProviderArn?: string;
  /** Prefix of every role name this stack creates. Default: none. */
  roleNamePrefix: string;
  /** Most managed policies a role may carry (the account's quota). Default: 10. */
  maxManagedPoliciesPerRole: number;
  /** Roles Anywhere (X509-SVIDs): the session duration, seconds; absent when off. */
  rolesAnywhere?: { sessionSeconds: number };
}

/** The block with defaults. */
export function awsModel(b: AwsBlockInput): AwsBlock {
  return {
    region: b.region,
    audience: b.audience ?? DEFAULT_AWS_AUDIENCE,
    jwt: b.jwt ?? true,
    ...(b.oidcProviderArn === undefined ? {} : { oidcProviderArn: b.oidcProviderArn }),
    roleNamePrefix: b.roleNamePrefix ?? "",
    maxManagedPoliciesPerRole: b.maxManagedPoliciesPerRole ?? AWS_DEFAULT_MANAGED_POLICIES_PER_ROLE,
    ...(b.rolesAnywhere === undefined
      ? {}
      : {
          rolesAnywhere: {
            sessionSeconds:
              b.rolesAnywhere.sessionDuration === undefined
                ? DEFAULT_ROLES_ANYWHERE_SESSION_SECONDS
                : (parseDuration(b.rolesAnywhere.sessionDuration) ?? 0),
          },
        }),
  };
}

/** A grant with defaults. */
export function awsGrant(g: AwsGrantInput, w: { name: string }, block: AwsBlock): AwsGrant {
  return {
    role: `${block.roleNamePrefix}${g.role ?? w.name}`,
    auth: g.auth ?? "jwt",
    managedPolicyArns: g.managedPolicyArns ?? [],
    inlinePolicies: g.inlinePolicies ?? {},
    maxSessionSeconds:
      g.maxSessionDuration === undefined
        ? AWS_MIN_SESSION_SECONDS
        : (parseDuration(g.maxSessionDuration) ?? 0),
  };
}

/** Placeholder ARNs of the longest shape, to size trust policies before anything exists. */
function placeholderArns(region: string, host: string) {
  return {
    oidcProviderArn: `arn:aws:iam::000000000000:oidc-provider/${host}`,
    trustAnchorArn: `arn:aws:rolesanywhere:${region}:000000000000:trust-anchor/00000000-0000-0000-0000-000000000000`,
  };
}

/** The OIDC host from the raw core config (an invalid one is the core's to report). */
function rawOidcHost(raw: Readonly<Record<string, unknown>>): string | undefined {
  const oidc = raw.oidc;
  const host =
    typeof oidc === "object" && oidc !== null ? (oidc as Record<string, unknown>).host : undefined;
  return typeof host === "string" ? host : undefined;
}

/** AWS's cross-field rules. */
export function checkAws(ctx: CheckContext<AwsBlockInput, AwsGrantInput>): void {
  const block = ctx.block === undefined ? undefined : awsModel(ctx.block);
  const host = rawOidcHost(ctx.raw);
  if (block?.oidcProviderArn !== undefined) {
    if (!block.jwt) {
      ctx.report(["aws", "oidcProviderArn"], "is set but aws.jwt is false: remove one of them");
    } else if (host !== undefined) {
      const p = oidcProviderArnProblem(block.oidcProviderArn, host);
      if (p !== undefined) ctx.report(["aws", "oidcProviderArn"], p);
    }
  }
  const models: { index: number; workload: { name: string; spiffeId: string }; grant: AwsGrant }[] =
    [];
  const spelling = new Map<string, { name: string; index: number }>();
  for (const { index, workload, grant } of ctx.grants) {
    const g = awsGrant(grant, workload, block ?? awsModel({ region: "" }));
    models.push({ index, workload, grant: g });
    const rolePath =
      grant.role === undefined ? ["workloads", index, "name"] : ["workloads", index, "aws", "role"];
    const nameProblem = roleNameProblem(g.role);
    if (nameProblem !== undefined && (grant.role === undefined || g.role !== grant.role)) {
      ctx.report(
        rolePath,
        `gives role name ${g.role} (aws.roleNamePrefix and ${grant.role === undefined ? "the workload name" : "aws.role"}), which ${nameProblem}`,
      );
    }
    if (block !== undefined && g.auth === "x509" && block.rolesAnywhere === undefined) {
      ctx.report(
        ["workloads", index, "aws", "auth"],
        "is x509 but spire-federation:aws has no rolesAnywhere block: add aws.rolesAnywhere (the trust anchor and profile) or use jwt",
      );
    }
    if (block !== undefined && g.auth === "jwt" && !block.jwt) {
      ctx.report(
        ["workloads", index, "aws", "auth"],
        "is jwt (the default) but aws.jwt is false: set auth to x509 or turn aws.jwt on",
      );
    }
    // IAM role names are unique per account regardless of case.
    const seen = spelling.get(g.role.toLowerCase());
    if (seen === undefined) spelling.set(g.role.toLowerCase(), { name: g.role, index });
    else if (seen.name !== g.role) {
      ctx.report(
        rolePath,
        `names role "${g.role}", which equals "${seen.name}" (workloads[${seen.index}]) but for case; IAM role names are case-insensitive: spell it the same way`,
      );
    }
  }
  if (block !== undefined) checkRoles(ctx, block, host, models);
}

/** Limits per role: one session duration, one document per policy name, quotas and sizes. */
function checkRoles(
  ctx: CheckContext<AwsBlockInput, AwsGrantInput>,
  block: AwsBlock,
  host: string | undefined,
  models: { index: number; workload: { name: string; spiffeId: string }; grant: AwsGrant }[],
): void {
  const byRole = new Map<string, typeof models>();
  for (const m of models) byRole.set(m.grant.role, [...(byRole.get(m.grant.role) ?? []), m]);
  for (const [name, members] of byRole) {
    const first = members[0];
    const policies = new Map<string, { doc: string; index: number }>();
    const arns = new Set<string>();
    for (const m of members) {
      const path = ["workloads", m.index, "aws"];
      if (m.grant.maxSessionSeconds !== first.grant.maxSessionSeconds) {
        ctx.report(
          [...path, "maxSessionDuration"],
          `differs from workloads[${first.index}] for the shared role ${name} (${first.grant.maxSessionSeconds}s): a role has one maximum session duration`,
        );
      }
      for (const [policy, doc] of Object.entries(m.grant.inlinePolicies)) {
        const text = JSON.stringify(doc);
        const prev = policies.get(policy);
        if (prev !== undefined && prev.doc !== text) {
          ctx.report(
            [...path, "inlinePolicies", policy],
            `differs from the policy of that name in workloads[${prev.index}], which shares role ${name}: one name, one document`,
          );
        } else policies.set(policy, { doc: text, index: m.index });
      }
      const before = arns.size;
      m.grant.managedPolicyArns.forEach((a) => arns.add(a));
      if (
        arns.size > block.maxManagedPoliciesPerRole &&
        before <= block.maxManagedPoliciesPerRole
      ) {
        ctx.report(
          [...path, "managedPolicyArns"],
          `brings role ${name} to ${arns.size} managed policies; the account allows ${block.maxManagedPoliciesPerRole} per role (aws.maxManagedPoliciesPerRole; IAM's default quota is ${AWS_DEFAULT_MANAGED_POLICIES_PER_ROLE}, at most ${AWS_MANAGED_POLICIES_HARD_LIMIT})`,
        );
      }
    }
    const last = members[members.length - 1];
    const inline = [...policies.values()].reduce((n, p) => n + policyChars(p.doc), 0);
    if (inline > AWS_MAX_ROLE_INLINE_POLICY_CHARS) {
      ctx.report(
        ["workloads", last.index, "aws", "inlinePolicies"],
        `brings role ${name}'s inline policies to ${inline} characters (whitespace aside); IAM allows ${AWS_MAX_ROLE_INLINE_POLICY_CHARS} per role: use a managed policy`,
      );
    }
    const role = awsRoles(members)[0];
    const rolesAnywhere = block.rolesAnywhere;
    if (rolesAnywhere !== undefined && role.x509Subjects.length > 0) {
      if (rolesAnywhere.sessionSeconds > role.maxSessionSeconds) {
        ctx.report(
          ["aws", "rolesAnywhere", "sessionDuration"],
          `is ${rolesAnywhere.sessionSeconds}s, longer than role ${name}'s maximum session duration (${role.maxSessionSeconds}s): Roles Anywhere cannot issue it; shorten it or raise the role's maxSessionDuration`,
        );
      }
    }
    if (host !== undefined) {
      const trust = JSON.stringify(
        trustPolicy(role, {
          ...placeholderArns(block.region, host),
          issuerUrl: `https://${host}`,
          audience: block.audience,
        }),
      );
      if (policyChars(trust) > AWS_MAX_TRUST_POLICY_CHARS) {
        ctx.report(
          ["workloads", last.index, "aws", "role"],
          `makes role ${name}'s trust policy about ${policyChars(trust)} characters, one exact SPIFFE ID per workload; IAM allows ${AWS_MAX_TRUST_POLICY_CHARS} by default: split the workloads over more roles`,
        );
      }
    }
  }
}
