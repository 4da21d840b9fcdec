/**
 * AWS as a relying party under the SDK's mocks: the example stack (both paths), exact trust
 * policies, names, dependency edges, logins and the workload's files; grant parity for pod and
 * node workloads; bad config reported at its key path before anything is registered.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import type { ProgramRun } from "../../tools/harness";
import { baseConfig } from "../fixtures";
import { all, configProblems, find, ROOT, runRaw, runStackFile } from "../helpers";

const T = {
  provider: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  anchor: "aws:rolesanywhere/trustAnchor:TrustAnchor",
  profile: "aws:rolesanywhere/profile:Profile",
  configMap: "kubernetes:core/v1:ConfigMap",
};
const HOST = "oidc.shop.spiffe.example.com";
const ID = (ns: string, sa: string) => `spiffe://shop.spiffe.example.com/ns/${ns}/sa/${sa}`;
const ACCOUNT = "123456789012";

/** ARNs as AWS would return them, so that every Output resolves. */
function awsOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const i = args.inputs as Record<string, unknown>;
  switch (args.type) {
    case T.provider:
      return { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}` };
    case T.role:
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${String(i.name)}` };
    case T.anchor:
      return { arn: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:trust-anchor/anchor-1` };
    case T.profile:
      return { arn: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:profile/profile-1` };
    default:
      return {};
  }
}

const byName = (run: ProgramRun, type: string, name: string) => find(run, type, `-${name}`);

describe("stack aws: both paths", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStackFile("aws", awsOutputs);
  });

  it("registers exactly the AWS resources both paths need", () => {
    const aws = run.resources.filter((r) => r.type.startsWith("aws:"));
    expect(aws.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        `${T.anchor} spire-federation-aws-trust-anchor`,
        `${T.profile} spire-federation-aws-profile`,
        `${T.provider} spire-federation-aws-oidc-provider`,
        `${T.role} spire-federation-aws-shop-billing-batch`,
        `${T.role} spire-federation-aws-shop-catalog`,
        `${T.role} spire-federation-aws-shop-checkout-api`,
        `${T.rolePolicy} spire-federation-aws-shop-checkout-api-orders-queue`,
        `${T.attachment} spire-federation-aws-shop-billing-batch-billing-exports-writer-d5dd34d2`,
        `${T.attachment} spire-federation-aws-shop-catalog-AmazonS3ReadOnlyAccess-87437452`,
        `${T.attachment} spire-federation-aws-shop-checkout-api-AmazonDynamoDBReadOnlyAccess-a5c697ed`,
      ].sort(),
    );
    const component = find(run, "spire-federation:federation:Aws");
    expect(aws.every((r) => r.parent === component.urn)).toBe(true);
  });

  it("creates one OIDC provider for the issuer with the audience and no thumbprint, after SPIRE", () => {
    const p = find(run, T.provider);
    expect(p.rawInputs).toEqual({
      url: `https://${HOST}`,
      clientIdLists: ["sts.amazonaws.com"],
      tags: { "managed-by": "spire-federation", "spiffe-trust-domain": "shop.spiffe.example.com" },
    });
    expect(p.dependencies).toEqual([
      find(run, "kubernetes:helm.sh/v3:Release", "-spire-release").urn,
    ]);
  });

  it("a JWT role trusts the provider only, with StringEquals on the exact sub and aud", () => {
    const r = byName(run, T.role, "shop-checkout-api");
    expect(r.rawInputs.name).toBe("shop-checkout-api");
    expect(r.rawInputs.maxSessionDuration).toBe(3600);
    expect(r.rawInputs.assumeRolePolicy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "SpiffeJwtSvid",
          Effect: "Allow",
          Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}` },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${HOST}:sub`]: ID("checkout", "checkout-api"),
              [`${HOST}:aud`]: "sts.amazonaws.com",
            },
          },
        },
      ],
    });
    expect(r.dependencies).toEqual([find(run, T.provider).urn]);
    expect(byName(run, T.role, "shop-billing-batch").rawInputs.maxSessionDuration).toBe(4 * 3600);
  });

  it("a shared X.509 role trusts Roles Anywhere for both SPIFFE IDs through the trust anchor only", () => {
    const r = byName(run, T.role, "shop-catalog");
    expect(r.rawInputs.assumeRolePolicy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "SpiffeX509Svid",
          Effect: "Allow",
          Principal: { Service: "rolesanywhere.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
          Condition: {
            StringEquals: {
              "aws:PrincipalTag/x509SAN/URI": [
                ID("catalog", "catalog-sync"),
                ID("catalog", "catalog-indexer"),
              ],
            },
            ArnEquals: {
              "aws:SourceArn": `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:trust-anchor/anchor-1`,
            },
          },
        },
      ],
    });
    expect(r.dependencies).toEqual([find(run, T.anchor).urn]);
  });

  it("the trust anchor holds the pinned root; the profile lists the X.509 role", () => {
    const stack = readFileSync(path.join(ROOT, "stacks", "Pulumi.aws.yaml"), "utf8");
    const root = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(stack)![0];
    const anchor = find(run, T.anchor).rawInputs as any;
    expect(anchor.name).toBe("spiffe-shop-spiffe-example-com");
    expect(anchor.enabled).toBe(true);
    expect(anchor.source.sourceType).toBe("CERTIFICATE_BUNDLE");
    expect(anchor.source.sourceData.x509CertificateData.replace(/\s+/g, "")).toBe(
      root.replace(/\s+/g, ""),
    );
    const profile = find(run, T.profile);
    expect(profile.rawInputs).toMatchObject({
      enabled: true,
      durationSeconds: 3600,
      roleArns: [`arn:aws:iam::${ACCOUNT}:role/shop-catalog`],
    });
    expect(profile.dependencies).toEqual([byName(run, T.role, "shop-catalog").urn]);
  });

  it("policies: inline by name, managed attachments once per role even when two workloads list them", () => {
    const inline = find(run, T.rolePolicy);
    expect(inline.rawInputs.name).toBe("orders-queue");
    expect(inline.rawInputs.role).toBe("shop-checkout-api");
    expect(JSON.parse(inline.rawInputs.policy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "sqs:SendMessage",
          Resource: "arn:aws:sqs:eu-west-1:123456789012:orders",
        },
      ],
    });
    const catalog = all(run, T.attachment).filter((a) => a.rawInputs.role === "shop-catalog");
    expect(catalog.map((a) => a.rawInputs.policyArn)).toEqual([
      "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    ]);
    expect(catalog[0].dependencies).toEqual([byName(run, T.role, "shop-catalog").urn]);
  });

  it("logins per workload", () => {
    const fed = run.outputs.federation as any;
    expect(fed["checkout-api"].aws).toEqual({
      auth: "jwt",
      roleName: "shop-checkout-api",
      roleArn: `arn:aws:iam::${ACCOUNT}:role/shop-checkout-api`,
      region: "eu-west-1",
      audience: "sts.amazonaws.com",
    });
    expect(fed["catalog-sync"].aws).toEqual({
      auth: "x509",
      roleName: "shop-catalog",
      roleArn: `arn:aws:iam::${ACCOUNT}:role/shop-catalog`,
      region: "eu-west-1",
      rolesAnywhere: {
        trustAnchorArn: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:trust-anchor/anchor-1`,
        profileArn: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:profile/profile-1`,
        sessionSeconds: 3600,
      },
    });
  });

  it("the workload's half: a JWT-SVID for the audience, or the AWS config file, and the env", () => {
    const maps = all(run, T.configMap);
    const data = (n: string) =>
      maps.find((m) => (m.rawInputs.metadata as any).name === n)!.rawInputs.data as Record<
        string,
        string
      >;
    expect(data("checkout-api-spiffe")["helper.conf"]).toContain(
      '{ jwt_audience = "sts.amazonaws.com", jwt_svid_file_name = "aws-jwt-svid.token" },',
    );
    expect(data("checkout-api-spiffe-env")).toEqual({
      AWS_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/shop-checkout-api`,
    });
    expect(data("catalog-sync-spiffe")["aws-config"]).toBe(
      [
        "# AWS config of workload catalog-sync (written by spire-federation): IAM Roles Anywhere with the X509-SVID",
        "[default]",
        "region = eu-west-1",
        `credential_process = sh -c 'exec aws_signing_helper credential-process --certificate /run/spiffe/certs/svid.pem --private-key /run/spiffe/certs/svid_key.pem --intermediates /run/spiffe/certs/svid.pem --trust-anchor-arn "$SPIFFE_AWS_TRUST_ANCHOR_ARN" --profile-arn "$SPIFFE_AWS_PROFILE_ARN" --role-arn "$SPIFFE_AWS_ROLE_ARN" --session-duration 3600'`,
        "",
      ].join("\n"),
    );
    expect(data("catalog-sync-spiffe")["helper.conf"]).not.toContain("jwt_svids");
    expect(data("catalog-sync-spiffe-env")).toEqual({
      SPIFFE_AWS_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/shop-catalog`,
      SPIFFE_AWS_PROFILE_ARN: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:profile/profile-1`,
      SPIFFE_AWS_TRUST_ANCHOR_ARN: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:trust-anchor/anchor-1`,
    });
    const env = (w: string) =>
      ((run.outputs.workloadFiles as any)[w].podPatch.spec.template.spec.containers[0].env as any[])
        .filter((e) => e.value !== null)
        .map((e) => `${e.name}=${e.value}`);
    expect(env("checkout-api")).toEqual([
      "AWS_WEB_IDENTITY_TOKEN_FILE=/run/spiffe/certs/aws-jwt-svid.token",
      "AWS_REGION=eu-west-1",
    ]);
    expect(env("catalog-sync")).toEqual([
      "AWS_CONFIG_FILE=/run/spiffe/config/aws-config",
      "AWS_REGION=eu-west-1",
    ]);
  });
});

/** A config with an aws block, a pod workload and a node workload with the same grant. */
function podAndNode(): Record<string, any> {
  const c: Record<string, any> = baseConfig();
  c.spire = { server: { exposure: { host: "spire.test.example.com", ingressClassName: "nginx" } } };
  c.nodes = [{ name: "vm-1", hostname: "vm-1.test.example.com" }];
  c.aws = { region: "us-east-1", rolesAnywhere: {} };
  const grant = { managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] };
  c.workloads = [
    { name: "api", namespace: "shop", serviceAccount: "api", aws: grant },
    { name: "batch", node: "vm-1", unix: { uid: 1000 }, spiffeIdPath: "/vm/batch", aws: grant },
  ];
  return c;
}

describe("grant parity: a pod and a node workload with the same grant", () => {
  it("each gets its role and trust; only the pod gets workload files", async () => {
    const run = await runRaw(podAndNode(), { computed: awsOutputs });
    const subs = all(run, T.role).map((r) => [
      r.rawInputs.name,
      (r.rawInputs.assumeRolePolicy as any).Statement[0].Condition.StringEquals[
        "oidc.test.example.com:sub"
      ],
    ]);
    expect(subs).toEqual([
      ["api", "spiffe://test.example.com/ns/shop/sa/api"],
      ["batch", "spiffe://test.example.com/vm/batch"],
    ]);
    expect(all(run, T.attachment).map((a) => a.rawInputs.role)).toEqual(["api", "batch"]);
    // Roles Anywhere is on but no grant uses x509: no trust anchor, no profile.
    expect(all(run, T.anchor)).toEqual([]);
    expect(all(run, T.profile)).toEqual([]);
    expect(Object.keys(run.outputs.workloadFiles as object)).toEqual(["api"]);
    expect((run.outputs.federation as any).batch.aws.roleName).toBe("batch");
  });

  it("an adopted OIDC provider: no provider resource, the roles trust the given ARN", async () => {
    const c = podAndNode();
    const arn = "arn:aws:iam::123456789012:oidc-provider/oidc.test.example.com";
    c.aws.oidcProviderArn = arn;
    const run = await runRaw(c, { computed: awsOutputs });
    expect(all(run, T.provider)).toEqual([]);
    for (const r of all(run, T.role)) {
      expect((r.rawInputs.assumeRolePolicy as any).Statement[0].Principal).toEqual({
        Federated: arn,
      });
    }
  });

  it("a stack without an aws block registers no AWS resource", async () => {
    const c = podAndNode();
    delete c.aws;
    for (const w of c.workloads) delete w.aws;
    const run = await runRaw(c);
    expect(run.resources.some((r) => r.type.startsWith("aws:"))).toBe(false);
  });
});

describe("bad config: every problem at its key path, before anything is registered", () => {
  const P = "spire-federation:";
  it("block and grant shapes", () => {
    const c: Record<string, any> = baseConfig();
    c.aws = {
      region: "Europe",
      oidcProviderArn: "arn:aws:iam::123:oidc-provider/x",
      maxManagedPoliciesPerRole: 21,
      rolesAnywhere: { sessionDuration: "5m" },
    };
    c.workloads[0].aws = {
      role: "has space",
      auth: "mtls",
      managedPolicyArns: ["ReadOnlyAccess"],
      inlinePolicies: { "bad name": { Version: "2012-10-17" } },
      maxSessionDuration: "13h",
    };
    expect(configProblems(c)).toEqual([
      `${P}aws.region: must be an AWS region such as eu-west-1`,
      `${P}aws.oidcProviderArn: must be an IAM OIDC provider ARN such as arn:aws:iam::123456789012:oidc-provider/<issuer host>`,
      `${P}aws.maxManagedPoliciesPerRole: must be at most 20 (IAM's hard limit of managed policies per role)`,
      `${P}aws.rolesAnywhere.sessionDuration: must be between 15m and 12h (900–43200 seconds, Roles Anywhere's session bounds)`,
      `${P}workloads[0].aws.role: must be 1–64 characters of letters, digits and + = , . @ _ - (an IAM role name)`,
      `${P}workloads[0].aws.auth: must be jwt or x509`,
      `${P}workloads[0].aws.managedPolicyArns[0]: must be a managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/<name>`,
      `${P}workloads[0].aws.inlinePolicies.bad name: must be 1–128 characters of letters, digits and + = , . @ _ - (an IAM policy name)`,
      `${P}workloads[0].aws.maxSessionDuration: must be between 1h and 12h (3600–43200 seconds, IAM's bounds for a role's maximum session duration)`,
    ]);
  });

  it("cross-field rules", () => {
    const c: Record<string, any> = baseConfig();
    c.oidc.tls = { spire: true };
    c.aws = {
      region: "eu-west-1",
      oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.other.example.com",
      maxManagedPoliciesPerRole: 1,
      roleNamePrefix: "p".repeat(32),
    };
    const arns = ["arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"];
    c.workloads = [
      { name: "api", namespace: "shop", serviceAccount: "api", aws: { auth: "x509", role: "x" } },
      {
        name: "worker-with-a-rather-long-name-for-iam",
        namespace: "shop",
        serviceAccount: "worker",
        aws: {},
      },
      {
        name: "a",
        namespace: "shop",
        serviceAccount: "a",
        aws: { role: "X", managedPolicyArns: arns, maxSessionDuration: "2h" },
      },
    ];
    expect(configProblems(c)).toEqual([
      `${P}aws.oidcProviderArn: names the provider for oidc.other.example.com, not this stack's issuer oidc.test.example.com; IAM keeps one provider per issuer URL and account: name that one`,
      `${P}workloads[0].aws.auth: is x509 but spire-federation:aws has no rolesAnywhere block: add aws.rolesAnywhere (the trust anchor and profile) or use jwt`,
      `${P}workloads[1].name: gives role name ${"p".repeat(32)}worker-with-a-rather-long-name-for-iam (aws.roleNamePrefix and the workload name), which must be 1–64 characters of letters, digits and + = , . @ _ - (an IAM role name)`,
      `${P}workloads[2].aws.role: names role "${"p".repeat(32)}X", which equals "${"p".repeat(32)}x" (workloads[0]) but for case; IAM role names are case-insensitive: spell it the same way`,
      `${P}workloads[2].aws.managedPolicyArns: brings role ${"p".repeat(32)}X to 2 managed policies; the account allows 1 per role (aws.maxManagedPoliciesPerRole; IAM's default quota is 10, at most 20)`,
      `${P}aws.jwt: AWS STS fetches the discovery document and the JWKS itself and needs a publicly trusted certificate: set oidc.tls to acme or secretName, or aws.jwt to false`,
    ]);
  });

  it("a shared role: one session duration, one document per policy name, Roles Anywhere within the role's session", () => {
    const c: Record<string, any> = baseConfig();
    c.aws = { region: "eu-west-1", rolesAnywhere: { sessionDuration: "2h" } };
    c.workloads[0].aws = {
      role: "shared",
      auth: "x509",
      inlinePolicies: { p: { Version: "2012-10-17", Statement: [] } },
    };
    c.workloads[1].aws = {
      role: "shared",
      auth: "x509",
      maxSessionDuration: "3h",
      inlinePolicies: { p: { Version: "2012-10-17", Statement: [{ Effect: "Deny" }] } },
    };
    expect(configProblems(c)).toEqual([
      `${P}workloads[1].aws.maxSessionDuration: differs from workloads[0] for the shared role shared (3600s): a role has one maximum session duration`,
      `${P}workloads[1].aws.inlinePolicies.p: differs from the policy of that name in workloads[0], which shares role shared: one name, one document`,
      `${P}aws.rolesAnywhere.sessionDuration: is 7200s, longer than role shared's maximum session duration (3600s): Roles Anywhere cannot issue it; shorten it or raise the role's maxSessionDuration`,
    ]);
  });

  it("sizes: inline policies and the trust policy of a role shared by many workloads", () => {
    const c: Record<string, any> = baseConfig();
    c.aws = { region: "eu-west-1" };
    const big = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "x".repeat(10300) }],
    };
    c.workloads = Array.from({ length: 60 }, (_, i) => ({
      name: `w${i}`,
      namespace: "shop",
      serviceAccount: `w${i}`,
      aws: { role: "many", ...(i === 0 ? { inlinePolicies: { big } } : {}) },
    }));
    const problems = configProblems(c);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^spire-federation:workloads\[59\]\.aws\.inlinePolicies: brings role many's inline policies to 103\d\d characters \(whitespace aside\); IAM allows 10240 per role: use a managed policy$/,
    );
    expect(problems[1]).toMatch(
      /^spire-federation:workloads\[59\]\.aws\.role: makes role many's trust policy about \d+ characters, one exact SPIFFE ID per workload; IAM allows 2048 by default: split the workloads over more roles$/,
    );
  });

  it("the example stack's config is accepted and modelled with defaults", () => {
    const c: Record<string, any> = baseConfig();
    c.aws = { region: "eu-west-1" };
    c.workloads[0].aws = {};
    const m = parseStackConfig(c) as any;
    expect(m.aws).toEqual({
      region: "eu-west-1",
      audience: "sts.amazonaws.com",
      jwt: true,
      roleNamePrefix: "",
      maxManagedPoliciesPerRole: 10,
    });
    expect(m.workloads[0].aws).toEqual({
      role: "api",
      auth: "jwt",
      managedPolicyArns: [],
      inlinePolicies: {},
      maxSessionSeconds: 3600,
    });
  });
});
