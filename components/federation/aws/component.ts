/**
 * AWS IAM as a relying party: IAM roles that SPIFFE workloads assume with a JWT-SVID (through an
 * IAM OIDC provider for the issuer) or with their X509-SVID (through IAM Roles Anywhere, with the
 * trust domain's stable root as trust anchor).
 *
 * What AWS enforces, and how this component meets it:
 * - one IAM OIDC provider per issuer URL and account: created here, or an existing one adopted
 *   (`oidcProviderArn`); no thumbprints (IAM verifies the JWKS endpoint's certificate with its
 *   own trusted CAs; thumbprints are used only for certificates outside them), so IAM fetches
 *   the issuer's certificate when the provider is created: it waits on `waitFor`;
 * - STS accepts RS256/384/512 and ES256/384/512 web identity tokens (every SPIRE CA key type);
 * - each role trusts exactly its workloads' SPIFFE IDs: `StringEquals` on `<issuer host>:sub` and
 *   `<issuer host>:aud` for the provider only, and `StringEquals` on
 *   `aws:PrincipalTag/x509SAN/URI` with `ArnEquals` on `aws:SourceArn` = the trust anchor for
 *   Roles Anywhere (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity); never a wildcard;
 * - role names 1–64 characters of `[\w+=,.@-]`, unique per account (case-insensitively); inline
 *   policy names 1–128 of the same; a role's maximum session 1h–12h; managed policies per role
 *   within the account's quota (10 by default, 20 at most); inline policies ≤ 10,240 characters
 *   and trust policies ≤ 2,048 per role (checked by the stack config);
 * - the Roles Anywhere trust anchor holds the root that stays put (SPIRE's intermediates rotate
 *   under it and travel in the workload's chain); profile sessions 15m–12h, within each role's
 *   maximum session.
 *
 * `@pulumi/aws` is loaded when the component is constructed, not when the package is imported:
 * stacks without an `aws` block never pay for it (see the README).
 */
import { createHash } from "node:crypto";
import type * as iam from "@pulumi/aws/iam";
import type * as rolesanywhere from "@pulumi/aws/rolesanywhere";
import * as pulumi from "@pulumi/pulumi";
import { rejectProblems } from "../args";
import { trustPolicy, type AwsRoleArgs } from "./roles";
import {
  issuerHost,
  managedPolicyArnProblem,
  maxSessionProblem,
  oidcProviderArnProblem,
  policyNameProblem,
  roleNameProblem,
  rolesAnywhereSessionProblem,
} from "./rules";

export type { AwsRoleArgs } from "./roles";

/** The `@pulumi/aws` modules the component uses, loaded on first use. */
interface AwsSdk {
  iam: typeof iam;
  rolesanywhere: typeof rolesanywhere;
}

let sdk: AwsSdk | undefined;

/** Loads `@pulumi/aws`'s iam and rolesanywhere modules (only those: the root module costs more). */
function awsSdk(): AwsSdk {
  sdk ??= {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    iam: require("@pulumi/aws/iam") as typeof iam,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    rolesanywhere: require("@pulumi/aws/rolesanywhere") as typeof rolesanywhere,
  };
  return sdk;
}

/** Arguments of {@link AwsFederation}. Plain values come from config; the root PEM is an Input. */
export interface AwsFederationArgs {
  /** The OIDC issuer URL (`https://<host>`), matched exactly against the token's `iss`. */
  issuerUrl: string;
  /** Audience of the JWT-SVIDs: the OIDC provider's client ID and the `aud` condition. */
  audience: string;
  /** The trust domain (names and tags). */
  trustDomain: string;
  /** An existing IAM OIDC provider for the issuer (one per issuer and account); else one is created. */
  oidcProviderArn?: string;
  /** Roles Anywhere settings; required when a role trusts X509-SVIDs. */
  rolesAnywhere?: {
    /** Session duration of the profile, seconds (900–43200). */
    sessionSeconds: number;
  };
  /** PEM of the trust domain's stable root: the Roles Anywhere trust anchor. */
  rootCaPem: pulumi.Input<string>;
  /** The roles, each with the SPIFFE IDs it trusts. */
  roles: AwsRoleArgs[];
  /**
   * What serves the discovery endpoint (the SPIRE release): IAM connects to the issuer when the
   * OIDC provider is created, so the provider waits on it.
   */
  waitFor?: pulumi.Input<pulumi.Resource>[];
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function awsArgsProblems(args: AwsFederationArgs): string[] {
  const problems: string[] = [];
  if (!args.issuerUrl.startsWith("https://")) problems.push("issuer must be an https:// URL");
  if (args.audience === "" || /[*?]/.test(args.audience)) {
    problems.push("audience must be one exact value");
  }
  if (args.oidcProviderArn !== undefined) {
    const p = oidcProviderArnProblem(args.oidcProviderArn, issuerHost(args.issuerUrl));
    if (p !== undefined) problems.push(`oidcProviderArn ${p}`);
  }
  if (args.rolesAnywhere !== undefined) {
    const p = rolesAnywhereSessionProblem(args.rolesAnywhere.sessionSeconds);
    if (p !== undefined) problems.push(`Roles Anywhere session ${p}`);
  }
  const names = new Set<string>();
  for (const role of args.roles) {
    const n = roleNameProblem(role.name);
    if (n !== undefined) problems.push(`role name ${role.name} ${n}`);
    if (names.has(role.name.toLowerCase())) problems.push(`role ${role.name} is listed twice`);
    names.add(role.name.toLowerCase());
    const s = maxSessionProblem(role.maxSessionSeconds);
    if (s !== undefined) problems.push(`role ${role.name}'s maximum session ${s}`);
    if (role.jwtSubjects.length + role.x509Subjects.length === 0) {
      problems.push(`role ${role.name} trusts no SPIFFE ID`);
    }
    for (const id of [...role.jwtSubjects, ...role.x509Subjects]) {
      if (!id.startsWith("spiffe://") || /[*?]/.test(id)) {
        problems.push(`role ${role.name} trusts ${id}, which is not one exact SPIFFE ID`);
      }
    }
    if (role.x509Subjects.length > 0 && args.rolesAnywhere === undefined) {
      problems.push(`role ${role.name} trusts X509-SVIDs but rolesAnywhere is not set`);
    }
    if (
      args.rolesAnywhere !== undefined &&
      role.x509Subjects.length > 0 &&
      args.rolesAnywhere.sessionSeconds > role.maxSessionSeconds
    ) {
      problems.push(
        `the Roles Anywhere session (${args.rolesAnywhere.sessionSeconds}s) outlasts role ${role.name}'s maximum session (${role.maxSessionSeconds}s)`,
      );
    }
    for (const arn of role.managedPolicyArns) {
      const p = managedPolicyArnProblem(arn);
      if (p !== undefined) problems.push(`managed policy ${arn} of role ${role.name} ${p}`);
    }
    for (const policy of Object.keys(role.inlinePolicies)) {
      const p = policyNameProblem(policy);
      if (p !== undefined) problems.push(`inline policy name ${policy} of role ${role.name} ${p}`);
    }
  }
  return problems;
}

/** Per-role outputs. */
export interface AwsRoleLogin {
  /** The role name. */
  roleName: string;
  /** The role's ARN. */
  roleArn: pulumi.Output<string>;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** A name Roles Anywhere accepts (`[ a-zA-Z0-9-_]`, at most 255 characters). */
function rolesAnywhereName(trustDomain: string): string {
  return `spiffe-${trustDomain.replace(/[^A-Za-z0-9_-]/g, "-")}`.slice(0, 255);
}

/** The IAM OIDC provider, the Roles Anywhere trust anchor and profile, and the roles. */
export class AwsFederation extends pulumi.ComponentResource {
  /** The IAM OIDC provider, when created here (not adopted, and some role trusts JWT-SVIDs). */
  readonly oidcProvider?: iam.OpenIdConnectProvider;
  /** The Roles Anywhere trust anchor, when some role trusts X509-SVIDs. */
  readonly trustAnchor?: rolesanywhere.TrustAnchor;
  /** The Roles Anywhere profile listing the X.509 roles. */
  readonly profile?: rolesanywhere.Profile;
  /** Roles by name. */
  readonly roles: Record<string, iam.Role>;
  /** Inline policies by `<role>/<policy>`. */
  readonly inlinePolicies: Record<string, iam.RolePolicy>;
  /** Managed policy attachments. */
  readonly attachments: iam.RolePolicyAttachment[];
  /** Per-role outputs, by role name. */
  readonly logins: Record<string, AwsRoleLogin>;
  /** ARN of the OIDC provider the roles trust (created or adopted), when one is used. */
  readonly oidcProviderArn?: pulumi.Output<string>;

  constructor(name: string, args: AwsFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("AwsFederation", name, awsArgsProblems(args));
    super("spire-federation:federation:Aws", name, {}, opts);
    const aws = awsSdk();
    const tags = { "managed-by": "spire-federation", "spiffe-trust-domain": args.trustDomain };
    const jwtRoles = args.roles.filter((r) => r.jwtSubjects.length > 0);
    const x509Roles = args.roles.filter((r) => r.x509Subjects.length > 0);

    if (jwtRoles.length > 0 && args.oidcProviderArn === undefined) {
      this.oidcProvider = new aws.iam.OpenIdConnectProvider(
        `${name}-oidc-provider`,
        { url: args.issuerUrl, clientIdLists: [args.audience], tags },
        { parent: this, dependsOn: args.waitFor },
      );
    }
    if (jwtRoles.length > 0) {
      this.oidcProviderArn = this.oidcProvider?.arn ?? pulumi.output(args.oidcProviderArn ?? "");
    }
    if (x509Roles.length > 0) {
      this.trustAnchor = new aws.rolesanywhere.TrustAnchor(
        `${name}-trust-anchor`,
        {
          name: rolesAnywhereName(args.trustDomain),
          enabled: true,
          source: {
            sourceType: "CERTIFICATE_BUNDLE",
            sourceData: { x509CertificateData: args.rootCaPem },
          },
          tags,
        },
        { parent: this },
      );
    }

    this.roles = {};
    this.inlinePolicies = {};
    this.attachments = [];
    this.logins = {};
    for (const spec of args.roles) {
      const role = new aws.iam.Role(
        `${name}-${spec.name}`,
        {
          name: spec.name,
          description: `SPIFFE workloads of ${args.trustDomain} (managed by spire-federation)`,
          assumeRolePolicy: trustPolicy(spec, {
            oidcProviderArn: this.oidcProviderArn ?? "",
            issuerUrl: args.issuerUrl,
            audience: args.audience,
            trustAnchorArn: this.trustAnchor?.arn ?? "",
          }),
          maxSessionDuration: spec.maxSessionSeconds,
          tags,
        },
        { parent: this },
      );
      this.roles[spec.name] = role;
      this.logins[spec.name] = { roleName: spec.name, roleArn: role.arn };
      for (const [policy, document] of Object.entries(spec.inlinePolicies)) {
        this.inlinePolicies[`${spec.name}/${policy}`] = new aws.iam.RolePolicy(
          `${name}-${spec.name}-${policy}`,
          { name: policy, role: role.name, policy: JSON.stringify(document) },
          { parent: this },
        );
      }
      for (const arn of spec.managedPolicyArns) {
        const hash = createHash("sha256").update(arn).digest("hex").slice(0, 8);
        const base = slug(arn.slice(arn.lastIndexOf("/") + 1));
        this.attachments.push(
          new aws.iam.RolePolicyAttachment(
            `${name}-${spec.name}-${base}-${hash}`,
            { role: role.name, policyArn: arn },
            { parent: this },
          ),
        );
      }
    }

    if (this.trustAnchor !== undefined && args.rolesAnywhere !== undefined) {
      this.profile = new aws.rolesanywhere.Profile(
        `${name}-profile`,
        {
          name: rolesAnywhereName(args.trustDomain),
          enabled: true,
          roleArns: x509Roles.map((r) => this.roles[r.name].arn),
          durationSeconds: args.rolesAnywhere.sessionSeconds,
          tags,
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
