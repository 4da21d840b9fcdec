/**
 * AWS's CrossGuard rules, each on compliant and violating resources called as the engine calls
 * them (config defaults applied); and the example stack plans with no violation.
 */
import type {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { AWS_TYPES, awsPolicies } from "../../components/federation/aws/policies";
import { policies } from "../../components/policies";
import { effectiveConfig, runPolicies } from "../../tools/policy-runner";
import { planStack } from "../compiled";
import { everyRuleTested, policy } from "../support/policy-harness";
import { makeCertificate } from "../fixtures";

const HOST = "oidc.shop.example.com";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${HOST}`;
const ID = "spiffe://shop.example.com/ns/a/sa/b";
const ANCHOR = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/1";

async function violations(name: string, type: string, props: Record<string, unknown>) {
  const p = policy(name) as ResourceValidationPolicy;
  const { props: cfg } = effectiveConfig(p, {});
  const messages: string[] = [];
  const args = { type, props, urn: `urn:${type}::r`, name: "r", opts: {}, getConfig: () => cfg };
  for (const v of [p.validateResource!].flat()) await v(args as any, (m) => messages.push(m));
  return messages;
}

const webIdentity = (condition: Record<string, unknown>, federated = PROVIDER) => ({
  name: "app",
  assumeRolePolicy: {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: federated },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: condition,
      },
    ],
  },
});

describe("aws-web-identity-trust", () => {
  const rule = "aws-web-identity-trust";
  it("passes exact sub and aud, also as a JSON string and with several exact IDs", async () => {
    const good = webIdentity({
      StringEquals: { [`${HOST}:sub`]: [ID, `${ID}2`], [`${HOST}:aud`]: "sts.amazonaws.com" },
    });
    expect(await violations(rule, AWS_TYPES.role, good)).toEqual([]);
    const asString = { ...good, assumeRolePolicy: JSON.stringify(good.assumeRolePolicy) };
    expect(await violations(rule, AWS_TYPES.role, asString)).toEqual([]);
  });

  it("catches StringLike with a wildcard, a missing sub and a missing aud", async () => {
    const wildcard = webIdentity({
      StringLike: { [`${HOST}:sub`]: "spiffe://shop.example.com/*" },
      StringEquals: { [`${HOST}:aud`]: "sts.amazonaws.com" },
    });
    expect(await violations(rule, AWS_TYPES.role, wildcard)).toEqual([
      `trust policy statement 0 matches ${HOST}:sub with StringLike: only StringEquals on exact values: any token of the issuer that passes would assume role app; trust one exact SPIFFE ID per workload`,
    ]);
    const noSub = webIdentity({ StringEquals: { [`${HOST}:aud`]: "sts.amazonaws.com" } });
    expect(await violations(rule, AWS_TYPES.role, noSub)).toEqual([
      `trust policy statement 0 has no StringEquals condition on ${HOST}:sub: any token of the issuer that passes would assume role app; trust one exact SPIFFE ID per workload`,
    ]);
    const noCondition = webIdentity({});
    expect(await violations(rule, AWS_TYPES.role, noCondition)).toHaveLength(2);
    const star = webIdentity({
      StringEquals: { [`${HOST}:sub`]: "spiffe://shop.example.com/*", [`${HOST}:aud`]: "*" },
    });
    expect(await violations(rule, AWS_TYPES.role, star)).toEqual([
      `trust policy statement 0 has a wildcard in ${HOST}:sub (spiffe://shop.example.com/*): exact SPIFFE IDs only: any token of the issuer that passes would assume role app; trust one exact SPIFFE ID per workload`,
      `trust policy statement 0 has a wildcard in ${HOST}:aud (*): exact SPIFFE IDs only: any token of the issuer that passes would assume role app; trust one exact SPIFFE ID per workload`,
    ]);
  });

  it("during a preview (provider ARN unknown) matches the keys by suffix", async () => {
    const pending = webIdentity({ StringEquals: { [`${HOST}:aud`]: "sts.amazonaws.com" } });
    delete (pending.assumeRolePolicy.Statement[0].Principal as any).Federated;
    expect(await violations(rule, AWS_TYPES.role, pending)).toEqual([
      "trust policy statement 0 has no StringEquals condition on <issuer>:sub: any token of the issuer that passes would assume role app; trust one exact SPIFFE ID per workload",
    ]);
  });

  it("leaves other principals alone, and reports a trust policy that is not JSON", async () => {
    const service = {
      name: "lambda",
      assumeRolePolicy: {
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      },
    };
    expect(await violations(rule, AWS_TYPES.role, service)).toEqual([]);
    expect(await violations(rule, AWS_TYPES.role, { assumeRolePolicy: "{" })).toEqual([
      "assumeRolePolicy is not JSON",
    ]);
  });
});

const rolesAnywhere = (condition: Record<string, unknown>) => ({
  name: "catalog",
  assumeRolePolicy: {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "rolesanywhere.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        Condition: condition,
      },
    ],
  },
});

describe("aws-roles-anywhere-trust", () => {
  const rule = "aws-roles-anywhere-trust";
  const SAN = "aws:PrincipalTag/x509SAN/URI";
  it("passes an exact SAN through one trust anchor, and an anchor ARN still unknown", async () => {
    const good = rolesAnywhere({
      StringEquals: { [SAN]: ID },
      ArnEquals: { "aws:SourceArn": ANCHOR },
    });
    expect(await violations(rule, AWS_TYPES.role, good)).toEqual([]);
    const pending = rolesAnywhere({ StringEquals: { [SAN]: ID }, ArnEquals: {} });
    expect(await violations(rule, AWS_TYPES.role, pending)).toEqual([]);
  });

  it("catches StringLike on the SAN and a missing source ARN", async () => {
    const bad = rolesAnywhere({ StringLike: { [SAN]: "spiffe://shop.example.com/ns/*" } });
    expect(await violations(rule, AWS_TYPES.role, bad)).toEqual([
      `trust policy statement 0 matches ${SAN} with StringLike: only StringEquals on exact values: any certificate Roles Anywhere accepts could assume role catalog`,
      "trust policy statement 0 does not pin aws:SourceArn to the trust anchor with ArnEquals: any certificate Roles Anywhere accepts could assume role catalog",
    ]);
    const like = rolesAnywhere({
      StringEquals: { [SAN]: ID },
      ArnLike: { "aws:SourceArn": "arn:aws:rolesanywhere:*" },
    });
    expect(await violations(rule, AWS_TYPES.role, like)).toEqual([
      "trust policy statement 0 does not pin aws:SourceArn to the trust anchor with ArnEquals: any certificate Roles Anywhere accepts could assume role catalog",
    ]);
  });
});

describe("aws-role-limits", () => {
  const rule = "aws-role-limits";
  it("passes a valid name and session; catches a long name and a session past 12h", async () => {
    expect(
      await violations(rule, AWS_TYPES.role, { name: "shop-api", maxSessionDuration: 43200 }),
    ).toEqual([]);
    expect(
      await violations(rule, AWS_TYPES.role, { name: "r".repeat(65), maxSessionDuration: 43201 }),
    ).toEqual([
      `role name ${"r".repeat(65)} must be 1–64 characters of letters, digits and + = , . @ _ - (an IAM role name)`,
      "maxSessionDuration 43201 must be between 1h and 12h (3600–43200 seconds, IAM's bounds for a role's maximum session duration)",
    ]);
  });
});

describe("aws-managed-policies-per-role", () => {
  const rule = "aws-managed-policies-per-role";
  async function stack(n: number, config: Record<string, unknown> = {}) {
    const p = policy(rule) as StackValidationPolicy;
    const { props: cfg } = effectiveConfig(p, { [rule]: config });
    const role = {
      type: AWS_TYPES.role,
      name: "role",
      urn: "urn:role",
      props: { name: "api" },
      dependencies: [],
    };
    const attachments = Array.from({ length: n }, (_, i) => ({
      type: AWS_TYPES.attachment,
      name: `a${i}`,
      urn: `urn:a${i}`,
      // The role's name is unknown at preview: the rule groups by the role it waits on.
      props: { policyArn: `arn:aws:iam::aws:policy/P${i}` },
      dependencies: [role],
    }));
    const messages: { m: string; urn?: string }[] = [];
    await p.validateStack(
      {
        resources: [role, ...attachments] as unknown as PolicyResource[],
        getConfig: () => cfg,
      } as any,
      (m, urn) => messages.push({ m, urn }),
    );
    return messages;
  }
  it("passes 10 and catches the 11th under the default quota; follows maxPerRole", async () => {
    expect(await stack(10)).toEqual([]);
    expect(await stack(11)).toEqual([
      {
        m: "role api has 11 managed policies; the account allows 10 per role, so IAM refuses the attachment (LimitExceeded)",
        urn: "urn:a10",
      },
    ]);
    expect(await stack(11, { maxPerRole: 20 })).toEqual([]);
  });
});

describe("aws-roles-anywhere-anchor", () => {
  const rule = "aws-roles-anywhere-anchor";
  const anchor = (pem?: string, sourceType = "CERTIFICATE_BUNDLE") => ({
    source: { sourceType, sourceData: pem === undefined ? {} : { x509CertificateData: pem } },
  });
  it("passes the self-signed root (and a root unknown at preview)", async () => {
    const root = await makeCertificate({ subject: "CN=root", ca: true });
    expect(await violations(rule, AWS_TYPES.trustAnchor, anchor(root.pem))).toEqual([]);
    expect(await violations(rule, AWS_TYPES.trustAnchor, anchor())).toEqual([]);
  });
  it("catches an intermediate, a leaf and another source type", async () => {
    const root = await makeCertificate({ subject: "CN=root", ca: true });
    const intermediate = await makeCertificate({
      subject: "CN=spire intermediate",
      ca: true,
      issuer: { subject: "CN=root", privateKey: root.keys.privateKey },
    });
    expect(await violations(rule, AWS_TYPES.trustAnchor, anchor(intermediate.pem))).toEqual([
      "x509CertificateData is not self-signed (issuer CN=root): the trust anchor must be the stable root, not an intermediate that rotates; SPIRE's intermediates rotate, so workloads would fail once it does",
    ]);
    const leaf = await makeCertificate({ subject: "CN=leaf", ca: false });
    expect(await violations(rule, AWS_TYPES.trustAnchor, anchor(leaf.pem))).toEqual([
      "x509CertificateData is not a CA certificate (basic constraints CA:true); SPIRE's intermediates rotate, so workloads would fail once it does",
    ]);
    expect(await violations(rule, AWS_TYPES.trustAnchor, anchor(undefined, "AWS_ACM_PCA"))).toEqual(
      ["source type AWS_ACM_PCA: the anchor must be the trust domain's root (CERTIFICATE_BUNDLE)"],
    );
  });
});

describe("the pack and the example stack", () => {
  it("every AWS rule is in the pack, with the aws- prefix", () => {
    const names = policies.map((p) => p.name);
    for (const p of awsPolicies) {
      expect(p.name.startsWith("aws-")).toBe(true);
      expect(names).toContain(p.name);
    }
    expect(awsPolicies.map((p) => p.name)).toEqual([
      "aws-web-identity-trust",
      "aws-roles-anywhere-trust",
      "aws-role-limits",
      "aws-managed-policies-per-role",
      "aws-roles-anywhere-anchor",
    ]);
  });

  it("stack aws plans with no violation, and a wildcard trust policy in its plan is caught", async () => {
    const plan = await planStack("aws");
    expect(await runPolicies(policies, plan.resources)).toEqual([]);
    const role = plan.resources.find((r) => r.name === "spire-federation-aws-shop-checkout-api")!;
    const statement = (role.inputs.assumeRolePolicy as any).Statement[0];
    statement.Condition = {
      StringLike: { [`oidc.shop.spiffe.example.com:sub`]: "spiffe://shop.spiffe.example.com/*" },
    };
    const v = await runPolicies(policies, plan.resources);
    expect(v.map((x) => x.policy)).toEqual(["aws-web-identity-trust", "aws-web-identity-trust"]);
  });
});

everyRuleTested("aws");
