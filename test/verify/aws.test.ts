/**
 * The aws check against the spec-shaped IAM / STS / Roles Anywhere double
 * (test/verify/aws-server.ts) with the repository's AWS example stack (stacks/Pulumi.aws.yaml):
 * the real `@aws-sdk/client-iam` reads the provider and the roles, signed Roles Anywhere reads
 * the anchor and the profile, and `@aws-sdk/credential-providers`' fromWebToken does the
 * workload's AssumeRoleWithWebIdentity with a real JWT-SVID, its errors mapped to the causes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ROOT } from "../helpers";
import { startAws, type AwsDouble, type AwsState } from "./aws-server";
import { makeKey, runVerify, signJwt, startIssuer, writeStack, type Issuer } from "./support";

const ACCOUNT = "123456789012";
const KEY_ID = "AKIAVERIFYREADER0001";
const SECRET = "verify-reader-secret-5d1c";
const ANCHOR_ID = "0f2a7c1e-3b4d-4e5f-8a9b-1c2d3e4f5a6b";
const PROFILE_ID = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928";
const ANCHOR = `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:trust-anchor/${ANCHOR_ID}`;
const PROFILE = `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:profile/${PROFILE_ID}`;
const role = (n: string) => `arn:aws:iam::${ACCOUNT}:role/shop-${n}`;
const ID = (ns: string, sa: string) => `spiffe://shop.spiffe.example.com/ns/${ns}/sa/${sa}`;

const config = (
  parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.aws.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  }
).config;
const ROOT_PEM = (config["spire-federation:ca"] as { rootCertificatePem: string })
  .rootCertificatePem;
const key = makeKey("k1");
let issuer: Issuer;
let aws: AwsDouble;
let state: AwsState;
let dir: string;
let host: string;

function outputs(): Record<string, unknown> {
  const jwt = (name: string) => ({
    auth: "jwt",
    roleName: `shop-${name}`,
    roleArn: role(name),
    region: "eu-west-1",
    audience: "sts.amazonaws.com",
  });
  const x509 = {
    auth: "x509",
    roleName: "shop-catalog",
    roleArn: role("catalog"),
    region: "eu-west-1",
    rolesAnywhere: { trustAnchorArn: ANCHOR, profileArn: PROFILE, sessionSeconds: 3600 },
  };
  return {
    trustDomain: "shop.spiffe.example.com",
    issuerUrl: issuer.url,
    jwksUri: `${issuer.url}/keys`,
    rootCaPem: ROOT_PEM,
    federation: {
      "checkout-api": { aws: jwt("checkout-api") },
      "billing-batch": { aws: jwt("billing-batch") },
      "catalog-sync": { aws: x509 },
      "catalog-indexer": { aws: x509 },
    },
  };
}

/** A web identity trust policy as IAM holds it for one workload (literal, after the README). */
function webTrust(sub: string, aud = "sts.amazonaws.com") {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "SpiffeJwtSvid",
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { [`${host}:sub`]: sub, [`${host}:aud`]: aud } },
      },
    ],
  };
}

function freshState(): AwsState {
  return {
    accessKeyId: KEY_ID,
    denyIam: false,
    providers: {
      [`arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`]: {
        url: host,
        clientIds: ["sts.amazonaws.com"],
      },
    },
    roles: {
      "shop-checkout-api": {
        arn: role("checkout-api"),
        maxSessionDuration: 3600,
        trust: webTrust(ID("checkout", "checkout-api")),
      },
      "shop-billing-batch": {
        arn: role("billing-batch"),
        maxSessionDuration: 14400,
        trust: webTrust(ID("billing", "billing-batch")),
      },
      "shop-catalog": {
        arn: role("catalog"),
        maxSessionDuration: 3600,
        trust: {
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
                ArnEquals: { "aws:SourceArn": ANCHOR },
              },
            },
          ],
        },
      },
    },
    anchors: { [ANCHOR_ID]: { arn: ANCHOR, enabled: true, pem: ROOT_PEM } },
    profiles: {
      [PROFILE_ID]: { arn: PROFILE, enabled: true, roleArns: [role("catalog")], duration: 3600 },
    },
  };
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_ENDPOINT_URL_IAM: aws.server.url,
    AWS_ENDPOINT_URL_ROLESANYWHERE: aws.server.url,
    AWS_ENDPOINT_URL_STS: aws.server.url,
    ...extra,
  };
}

function svids(token: string): string {
  const d = mkdtempSync(path.join(tmpdir(), "verify-aws-svids-"));
  writeFileSync(path.join(d, "aws-jwt-svid.token"), token);
  return d;
}

function checkoutToken(claims: Record<string, unknown> = {}): string {
  return signJwt(key, {
    iss: issuer.url,
    sub: ID("checkout", "checkout-api"),
    aud: ["sts.amazonaws.com"],
    ...claims,
  });
}

const run = (argv: string[] = [], e = env()) =>
  runVerify(dir, "aws", outputs(), ["--checks", "aws", ...argv], { caPem: issuer.caPem, env: e });

beforeAll(async () => {
  issuer = await startIssuer({ keys: [key.jwk] });
  host = issuer.url.replace(/^https:\/\//, "");
  state = freshState();
  aws = await startAws(state, issuer.tls);
  dir = writeStack("aws", config);
});
afterAll(async () => {
  await aws.server.close();
  await issuer.close();
});
beforeEach(() => {
  Object.assign(state, freshState());
  aws.violations.length = 0;
  aws.calls.length = 0;
});

describe("verify aws: the account against the plan", () => {
  it("passes when the provider, the roles, the anchor and the profile are as planned", async () => {
    const r = await run();
    expect(r.stdout).not.toMatch(/FAIL|SKIP/);
    expect(r.code).toBe(0);
    expect(aws.violations).toEqual([]);
    expect(aws.calls).toEqual([
      "iam:GetOpenIDConnectProvider",
      "iam:GetRole",
      "iam:GetRole",
      "iam:GetRole",
      "rolesanywhere:GetTrustAnchor",
      "rolesanywhere:GetProfile",
    ]);
    expect(r.stdout).toContain(`PASS aws: oidc provider Url: oidc provider Url is "${host}"`);
    expect(r.stdout).toContain(
      `PASS aws: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${host}:sub: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${host}:sub is ["${ID("checkout", "checkout-api")}"]`,
    );
    expect(r.stdout).toContain(
      "PASS aws: role shop-billing-batch MaxSessionDuration: role shop-billing-batch MaxSessionDuration is 14400",
    );
    expect(r.stdout).toContain(
      "PASS aws: trust anchor certificate: the anchor holds the root of rootCaPem",
    );
    expect(r.stdout).toContain(
      `PASS aws: profile roleArns: profile roleArns is ["${role("catalog")}"]`,
    );
    expect(`${r.stdout}\n${r.stderr}`).not.toContain(SECRET);
  });

  it("names each field changed outside the stack", async () => {
    state.roles["shop-checkout-api"].trust = webTrust(ID("checkout", "checkout"));
    state.roles["shop-billing-batch"].maxSessionDuration = 3600;
    state.providers[`arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`].clientIds = ["vault"];
    state.profiles[PROFILE_ID].enabled = false;
    state.profiles[PROFILE_ID].duration = 900;
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAIL aws: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${host}:sub: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${host}:sub: expected ["${ID("checkout", "checkout-api")}"], found ["${ID("checkout", "checkout")}"]`,
    );
    expect(r.stdout).toContain(
      "FAIL aws: role shop-billing-batch MaxSessionDuration: role shop-billing-batch MaxSessionDuration: expected 14400, found 3600",
    );
    expect(r.stdout).toContain(
      'FAIL aws: oidc provider ClientIDList: ClientIDList is ["vault"]; the JWT-SVIDs carry aud "sts.amazonaws.com"',
    );
    expect(r.stdout).toContain(
      "FAIL aws: profile enabled: profile enabled: expected true, found false",
    );
    expect(r.stdout).toContain(
      "FAIL aws: profile durationSeconds: profile durationSeconds: expected 3600, found 900",
    );
    expect(aws.violations).toEqual([]);
  });

  it("fails a statement someone added and a trust anchor that holds another root", async () => {
    state.roles["shop-checkout-api"].trust.Statement.push({
      Sid: "Extra",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "sts:AssumeRole",
    });
    state.anchors[ANCHOR_ID].pem = issuer.caPem;
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL aws: role shop-checkout-api trust "Extra": a statement the plan does not have: .*\n\s+fix: someone added it outside the stack/,
    );
    expect(r.stdout).toMatch(
      /FAIL aws: trust anchor certificate: the anchor holds \["[0-9A-F:]+"\], rootCaPem is/,
    );
  });

  it("names a missing provider, a missing role and refused reads", async () => {
    state.providers = {};
    delete state.roles["shop-catalog"];
    let r = await run();
    expect(r.stdout).toContain(
      `FAIL aws: oidc provider: NoSuchEntity: OpenIDConnect Provider not found for arn arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`,
    );
    expect(r.stdout).toMatch(
      /fix: no IAM OIDC provider .*STS answers InvalidIdentityToken for every workload; pulumi up creates it/,
    );
    expect(r.stdout).toMatch(
      /FAIL aws: role shop-catalog: NoSuchEntity: The role with name shop-catalog cannot be found\.\n\s+fix: the role is missing/,
    );
    state.denyIam = true;
    r = await run();
    expect(r.stdout).toMatch(
      /FAIL aws: role shop-checkout-api: AccessDenied: User is not authorized to perform: iam:GetRole\n\s+fix: the credentials may not read it/,
    );
  });

  it("is a SKIP without AWS credentials, and selected by default when the stack configures aws", async () => {
    const r = await run([], {
      AWS_ENDPOINT_URL_IAM: aws.server.url,
      AWS_ENDPOINT_URL_ROLESANYWHERE: aws.server.url,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SKIP aws: credentials: no AWS credentials in the environment/);
    expect(aws.calls).toEqual([]);
    const all = await runVerify(dir, "aws", outputs(), [], { caPem: issuer.caPem, env: env() });
    expect(all.stdout).toMatch(/^verify: stack aws \(checks: .*aws\)/);
  });
});

describe("verify aws: the workload's AssumeRoleWithWebIdentity (--svid-dir)", () => {
  it("passes with the real fromWebToken and prints no credential", async () => {
    const r = await run(["--svid-dir", svids(checkoutToken())]);
    expect(r.stdout).toContain(
      `PASS aws: token exchange: STS issued credentials for ${role("checkout-api")}`,
    );
    expect(r.code).toBe(0);
    expect(aws.calls).toContain("sts:AssumeRoleWithWebIdentity");
    expect(aws.violations).toEqual([]);
    const sent = aws.server.requests.find((q) => q.body.includes("AssumeRoleWithWebIdentity"));
    expect(new URLSearchParams(sent?.body).get("RoleArn")).toBe(role("checkout-api"));
    for (const s of ["sts-secret-9c2e", "sts-session-token-7f3a", SECRET]) {
      expect(`${r.stdout}\n${r.stderr}`).not.toContain(s);
    }
  });

  it("maps AccessDenied to sub and aud side by side: token, role, plan", async () => {
    state.roles["shop-checkout-api"].trust = webTrust(ID("checkout", "checkout"));
    const r = await run(["--svid-dir", svids(checkoutToken())]);
    expect(r.stdout).toContain("FAIL aws: token exchange: STS refused the token (AccessDenied)");
    expect(r.stdout).toContain(
      `fix: the role's trust policy does not admit the token: sub: token "${ID("checkout", "checkout-api")}" / role ["${ID("checkout", "checkout")}"] / plan "${ID("checkout", "checkout-api")}" (differs); aud: token ["sts.amazonaws.com"] / role ["sts.amazonaws.com"] / plan "sts.amazonaws.com";`,
    );
  });

  it("maps InvalidIdentityToken (no provider, wrong audience) and ExpiredTokenException", async () => {
    state.providers = {};
    let r = await run(["--svid-dir", svids(checkoutToken())]);
    expect(r.stdout).toContain("STS refused the token (InvalidIdentityToken)");
    expect(r.stdout).toContain(
      `fix: no IAM OIDC provider for the token's issuer (token iss "${issuer.url}" / plan "${issuer.url}")`,
    );
    Object.assign(state, freshState());
    r = await run(["--svid-dir", svids(checkoutToken({ aud: ["vault"] }))]);
    expect(r.stdout).toContain(
      `fix: the provider's client IDs do not list the token's aud (token ["vault"] / plan "sts.amazonaws.com")`,
    );
    const past = Math.floor(Date.now() / 1000) - 600;
    r = await run(["--svid-dir", svids(checkoutToken({ iat: past - 300, exp: past }))]);
    expect(r.stdout).toContain("STS refused the token (ExpiredTokenException)");
    expect(r.stdout).toContain(
      `fix: the JWT-SVID expired (exp ${new Date(past * 1000).toISOString()})`,
    );
  });
});
