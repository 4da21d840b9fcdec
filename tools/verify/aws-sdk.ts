/**
 * The AWS side of the `aws` check: credentials from the AWS default chain (read from the run's
 * environment, never printed), the IAM client (`@aws-sdk/client-iam`) and the signed Roles
 * Anywhere reads (`@smithy/signature-v4`, the signer every AWS SDK v3 client uses), every request
 * through the hardened client. The SDKs are optional: without them the check is a SKIP.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import * as path from "node:path";
import { getJson, type JsonAnswer } from "./http";
import { awsRequestHandler, optionalSdk } from "./sdk-transport";
import type { CheckResult, VerifyContext } from "./types";

/** `@aws-sdk/client-iam`. */
export type IamLib = typeof import("@aws-sdk/client-iam");
/** `@aws-sdk/credential-providers`. */
export type ProvidersLib = typeof import("@aws-sdk/credential-providers");
type SigV4Lib = typeof import("@smithy/signature-v4");

/** AWS credentials as the SDKs take them. */
export interface AwsCredentials {
  /** Access key ID. */
  accessKeyId: string;
  /** Secret access key. */
  secretAccessKey: string;
  /** Session token of temporary credentials. */
  sessionToken?: string;
}

/** The partition and account of an ARN, e.g. `aws`, `123456789012`. */
export function arnParts(
  arn: string,
): { partition: string; service: string; region: string; account: string } | undefined {
  const m = /^arn:([^:]+):([^:]+):([^:]*):(\d{12}):/.exec(arn);
  return m ? { partition: m[1], service: m[2], region: m[3], account: m[4] } : undefined;
}

/** The region IAM (a global service) is signed for in a partition. */
export function iamRegion(partition: string): string {
  return partition === "aws-cn"
    ? "cn-north-1"
    : partition === "aws-us-gov"
      ? "us-gov-west-1"
      : "us-east-1";
}

/** An endpoint override as the AWS SDKs read it (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`). */
export function awsEndpoint(ctx: VerifyContext, service: string): string | undefined {
  return ctx.env[`AWS_ENDPOINT_URL_${service}`] || ctx.env.AWS_ENDPOINT_URL || undefined;
}

/**
 * Credentials from the AWS default chain, read from the run's environment: static keys
 * (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`), the shared files' profile (`AWS_PROFILE`,
 * SSO and `credential_process` included), web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`). The
 * metadata services (EC2, ECS) are not asked: their clients would leave the hardened client.
 */
export async function awsCredentials(ctx: VerifyContext): Promise<AwsCredentials | CheckResult> {
  const skip = (reason: string): CheckResult => ({
    check: "aws",
    party: "aws",
    name: "credentials",
    status: "SKIP",
    reason,
    fix: "export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE, of a principal with iam:GetRole, iam:GetOpenIDConnectProvider, rolesanywhere:GetTrustAnchor and rolesanywhere:GetProfile (e.g. the managed policy IAMReadOnlyAccess)",
  });
  const keep = (c: AwsCredentials): AwsCredentials => {
    ctx.secrets.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : []));
    return c;
  };
  const env = ctx.env;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return keep({
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    });
  }
  const lib = await optionalSdk<ProvidersLib>("@aws-sdk/credential-providers");
  if (lib === undefined) {
    return skip("no AWS_ACCESS_KEY_ID and @aws-sdk/credential-providers is not installed");
  }
  const clientConfig = { requestHandler: awsRequestHandler(ctx) };
  const home = env.HOME;
  const files = {
    profile: env.AWS_PROFILE || "default",
    filepath:
      env.AWS_SHARED_CREDENTIALS_FILE ?? (home ? path.join(home, ".aws", "credentials") : ""),
    configFilepath: env.AWS_CONFIG_FILE ?? (home ? path.join(home, ".aws", "config") : ""),
  };
  const chain = [
    ...(env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN
      ? [
          lib.fromTokenFile({
            webIdentityTokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE,
            roleArn: env.AWS_ROLE_ARN,
            clientConfig,
          }),
        ]
      : []),
    ...(files.filepath || files.configFilepath
      ? [lib.fromIni({ ...files, clientConfig }), lib.fromProcess(files)]
      : []),
  ];
  for (const provider of chain) {
    try {
      return keep(await provider());
    } catch {
      // The next link of the chain.
    }
  }
  return skip(
    "no AWS credentials in the environment, the shared files or a web identity token (the EC2/ECS metadata services are not asked)",
  );
}

/** The IAM client on the hardened transport, or the SKIP when the SDK is missing. */
export async function iamClient(
  ctx: VerifyContext,
  credentials: AwsCredentials,
  partition: string,
): Promise<{ lib: IamLib; client: InstanceType<IamLib["IAMClient"]> } | CheckResult> {
  const lib = await optionalSdk<IamLib>("@aws-sdk/client-iam");
  if (lib === undefined) {
    return {
      check: "aws",
      party: "aws",
      name: "iam",
      status: "SKIP",
      reason: "@aws-sdk/client-iam is not installed",
      fix: "npm install @aws-sdk/client-iam",
    };
  }
  const endpoint = awsEndpoint(ctx, "IAM");
  const client = new lib.IAMClient({
    region: iamRegion(partition),
    credentials,
    requestHandler: awsRequestHandler(ctx),
    // The hardened client retries the reads (bounded); the SDK adds no attempts of its own.
    maxAttempts: 1,
    ...(endpoint ? { endpoint } : {}),
  });
  return { lib, client };
}

/** SHA-256 (and HMAC) for the signer, from node:crypto. */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h =
      secret === undefined
        ? createHash("sha256")
        : createHmac(
            "sha256",
            typeof secret === "string"
              ? secret
              : ArrayBuffer.isView(secret)
                ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
                : Buffer.from(secret),
          );
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(
      typeof data === "string"
        ? data
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(data),
    );
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

/**
 * A signed GET of IAM Roles Anywhere's REST JSON API (`/trustanchor/{id}`, `/profile/{id}`) in
 * `region`, through the hardened client; undefined when `@smithy/signature-v4` is missing.
 */
export async function rolesAnywhereGet(
  ctx: VerifyContext,
  credentials: AwsCredentials,
  region: string,
  resourcePath: string,
  what: string,
): Promise<JsonAnswer | undefined> {
  const lib = await optionalSdk<SigV4Lib>("@smithy/signature-v4");
  if (lib === undefined) return undefined;
  const base =
    awsEndpoint(ctx, "ROLESANYWHERE") ??
    `https://rolesanywhere.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
  const url = new URL(resourcePath, base.replace(/\/?$/, "/"));
  const signer = new lib.SignatureV4({
    service: "rolesanywhere",
    region,
    credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: "GET",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: { host: url.host },
  });
  ctx.progress(`aws: GET ${url.href}`);
  return getJson(ctx, url.href, what, { headers: signed.headers });
}

/** An SDK error as one sentence: its code and message. */
export function sdkError(e: unknown): { code: string; message: string } {
  const err = e as {
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number };
  };
  // A body the SDK could not parse (a proxy's page) leaves only the status to name the answer.
  const status = err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
  const message = String(err.message ?? e).slice(0, 300);
  return {
    code: err.Code ?? err.name ?? "Error",
    message:
      status !== undefined && !message.includes(`HTTP ${status}`) && !err.Code
        ? `HTTP ${status}: ${message}`
        : message,
  };
}

/** The live trust policies, by role ARN (for the exchange's side-by-side). */
export type LiveTrust = Map<string, Record<string, unknown>[]>;
