/**
 * What the aws tests share: the repository's AWS example stack (stacks/Pulumi.aws.yaml), the
 * outputs its deploy leaves, the IAM / STS / Roles Anywhere double holding what the plan
 * deployed (trust policies written out as IAM holds them), and a run of `verify --checks aws`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { ROOT } from "../helpers";
import { startAws, type AwsDouble, type AwsState } from "./aws-server";
import { makeKey, runVerify, signJwt, startIssuer, writeStack, type Issuer } from "./support";

export const ACCOUNT = "123456789012";
export const KEY_ID = "AKIAVERIFYREADER0001";
export const SECRET = "verify-reader-secret-5d1c";
export const ANCHOR_ID = "0f2a7c1e-3b4d-4e5f-8a9b-1c2d3e4f5a6b";
export const PROFILE_ID = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928";
export const ANCHOR = `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:trust-anchor/${ANCHOR_ID}`;
export const PROFILE = `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:profile/${PROFILE_ID}`;
export const role = (n: string) => `arn:aws:iam::${ACCOUNT}:role/shop-${n}`;
export const ID = (ns: string, sa: string) => `spiffe://shop.spiffe.example.com/ns/${ns}/sa/${sa}`;

const config = (
  parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.aws.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  }
).config;
export const ROOT_PEM = (config["spire-federation:ca"] as { rootCertificatePem: string })
  .rootCertificatePem;
const key = makeKey("k1");
let issuer: Issuer;
let aws: AwsDouble;
let state: AwsState;
let dir: string;
let host: string;

/** The running issuer and double, and the double's state (set up by {@link useAws}). */
export const world = {
  get issuer(): Issuer {
    return issuer;
  },
  get aws(): AwsDouble {
    return aws;
  },
  get state(): AwsState {
    return state;
  },
  get host(): string {
    return host;
  },
  get dir(): string {
    return dir;
  },
};

export function outputs(): Record<string, unknown> {
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
export function webTrust(sub: string, aud = "sts.amazonaws.com") {
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

export function freshState(): AwsState {
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

export function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_ENDPOINT_URL_IAM: aws.server.url,
    AWS_ENDPOINT_URL_ROLESANYWHERE: aws.server.url,
    AWS_ENDPOINT_URL_STS: aws.server.url,
    ...extra,
  };
}

export function svids(token: string): string {
  const d = mkdtempSync(path.join(tmpdir(), "verify-aws-svids-"));
  writeFileSync(path.join(d, "aws-jwt-svid.token"), token);
  return d;
}

export function checkoutToken(claims: Record<string, unknown> = {}): string {
  return signJwt(key, {
    iss: issuer.url,
    sub: ID("checkout", "checkout-api"),
    aud: ["sts.amazonaws.com"],
    ...claims,
  });
}

export const run = (argv: string[] = [], e = env()) =>
  runVerify(dir, "aws", outputs(), ["--checks", "aws", ...argv], { caPem: issuer.caPem, env: e });

/** Starts the issuer and the double for a test file, and restores the planned state before each test. */
export function useAws(): void {
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
    aws.server.reset();
  });
}
