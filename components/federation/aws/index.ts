/** AWS IAM (web identity and IAM Roles Anywhere): the registry entry and the public API. */
import type * as pulumi from "@pulumi/pulumi";
import { defineRelyingParty } from "../contract";
import { AwsFederation } from "./component";
import { AWS_TYPES, awsPolicies } from "./policies";
import { awsRoles, type AwsAuth } from "./roles";
import { AWS_JWKS_CACHING, AWS_STS_JWT_ALGORITHMS } from "./rules";
import { awsBlockSchema, awsGrant, awsGrantSchema, awsModel, checkAws } from "./schema";
import { awsWorkloadFiles } from "./workload-files";

export * from "./component";
export * from "./policies";
export * from "./roles";
export * from "./rules";
export * from "./schema";
export * from "./trust-policy";
export * from "./workload-files";

/** What one workload needs to assume its AWS role. */
export interface AwsLogin {
  /** The path: `jwt` (web identity) or `x509` (Roles Anywhere). */
  auth: AwsAuth;
  /** The role's name. */
  roleName: string;
  /** The role's ARN (`AWS_ROLE_ARN` on the JWT path). */
  roleArn: pulumi.Output<string>;
  /** The region the SDKs use (`AWS_REGION`). */
  region: string;
  /** JWT path: the audience of the JWT-SVID. */
  audience?: string;
  /** X.509 path: what `aws_signing_helper` needs besides the role. */
  rolesAnywhere?: {
    /** The trust anchor's ARN. */
    trustAnchorArn: pulumi.Output<string>;
    /** The profile's ARN. */
    profileArn: pulumi.Output<string>;
    /** Session duration, seconds. */
    sessionSeconds: number;
  };
}

/** AWS as a relying party (config key `aws`). */
export const aws = defineRelyingParty({
  key: "aws",
  product: "AWS IAM",
  blockSchema: awsBlockSchema,
  grantSchema: awsGrantSchema,
  check: checkAws,
  publicIssuer: (b) =>
    (b.jwt ?? true)
      ? {
          reason: "AWS STS fetches the discovery document and the JWKS itself",
          path: ["aws", "jwt"],
          alternative: "or aws.jwt to false",
        }
      : undefined,
  jwtAlgorithms: (b) =>
    (b.jwt ?? true)
      ? {
          algorithms: AWS_STS_JWT_ALGORITHMS,
          reason: "AWS STS accepts RS256, RS384, RS512, ES256, ES384 and ES512 tokens only",
          when: "while aws.jwt is on",
        }
      : undefined,
  jwks: {
    caching: AWS_JWKS_CACHING,
    verifies: (b, grants) =>
      (b.jwt ?? true) && grants.some((g) => (g.grant.auth ?? "jwt") === "jwt"),
    planned: (type) => type === AWS_TYPES.oidcProvider,
  },
  model: awsModel,
  grant: awsGrant,
  build: (name, { core, block, grants, trust }, opts) => {
    const component = new AwsFederation(
      name,
      {
        issuerUrl: core.oidc.issuerUrl,
        audience: block.audience,
        trustDomain: core.trustDomain,
        ...(block.oidcProviderArn === undefined ? {} : { oidcProviderArn: block.oidcProviderArn }),
        ...(block.rolesAnywhere === undefined ? {} : { rolesAnywhere: block.rolesAnywhere }),
        rootCaPem: trust.rootCertificatePem,
        roles: awsRoles(grants),
        waitFor: [trust.spireRelease],
      },
      opts,
    );
    const logins: Record<string, AwsLogin> = {};
    for (const { workload, grant } of grants) {
      const role = component.logins[grant.role];
      logins[workload.name] = {
        auth: grant.auth,
        roleName: role.roleName,
        roleArn: role.roleArn,
        region: block.region,
        ...(grant.auth === "jwt"
          ? { audience: block.audience }
          : component.trustAnchor !== undefined && component.profile !== undefined
            ? {
                rolesAnywhere: {
                  trustAnchorArn: component.trustAnchor.arn,
                  profileArn: component.profile.arn,
                  sessionSeconds: block.rolesAnywhere?.sessionSeconds ?? 0,
                },
              }
            : {}),
      };
    }
    return { component, logins };
  },
  workloadFiles: awsWorkloadFiles,
  fetchesIssuer: (type) => type === AWS_TYPES.oidcProvider,
  policies: awsPolicies,
});
