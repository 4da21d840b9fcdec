/**
 * A spec-shaped double of AWS IAM, STS and IAM Roles Anywhere on 127.0.0.1 (HTTPS), for the aws
 * check's tests. The real SDKs talk to it and parse its answers (that is the response check);
 * each request is validated against the model of its operation:
 * - IAM and STS (awsQuery, `POST /` forms): the operation and input schemas the SDK packages
 *   ship (`@aws-sdk/client-iam`'s `GetRole$`, `@aws-sdk/nested-clients/sts`'s
 *   `AssumeRoleWithWebIdentity$`: member names, the first `required` members present), the API
 *   version, and a SigV4 scope naming the service (IAM only: STS's call is unsigned);
 * - Roles Anywhere (restJson1): the Smithy model carried in
 *   test/contracts/aws/rolesanywhere-2018-05-10-read.json (operation by its `http` trait, labels,
 *   SigV4 scope `rolesanywhere`); each JSON answer is checked against the output shape.
 * STS decides as AWS documents it: a provider for the token's issuer host, the token's `aud`
 * among its client IDs, not expired, and a role statement for that provider whose StringEquals
 * `<host>:sub` and `<host>:aud` hold the token's values. It does not verify the signature.
 */
import * as iamModule from "@aws-sdk/client-iam";
import * as stsModule from "@aws-sdk/nested-clients/sts";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { jwtClaims } from "../../tools/verify/fields";
import { ROOT } from "../helpers";
import {
  startFaultServer,
  type FaultServer,
  type Handler,
  type Reply,
} from "../support/fault-server";

type Schema = unknown[];
type Lazy = Schema | (() => Schema);

const iam = iamModule as unknown as Record<string, Schema>;
const sts = stsModule as unknown as Record<string, Schema>;
const RA = JSON.parse(
  readFileSync(
    path.join(ROOT, "test", "contracts", "aws", "rolesanywhere-2018-05-10-read.json"),
    "utf8",
  ),
) as { shapes: Record<string, SmithyShape> };

interface SmithyShape {
  type: string;
  members?: Record<string, { target: string; traits?: Record<string, unknown> }>;
  member?: { target: string };
  input?: { target: string };
  output?: { target: string };
  traits?: Record<string, unknown>;
}

const deref = (s: Lazy): Schema => (typeof s === "function" ? s() : s);

/** Member names of an SDK structure schema, and how many lead as required. */
function sdkMembers(s: Lazy): { names: string[]; required: number } {
  const x = deref(s);
  return { names: x[4] as string[], required: (x[6] as number | undefined) ?? 0 };
}

/** An IAM role as the double holds it. */
export interface DoubleRole {
  arn: string;
  maxSessionDuration: number;
  /** The trust policy (stored as IAM stores it: URL-encoded JSON in the answer). */
  trust: { Version: string; Statement: Record<string, unknown>[] };
}

/** What the double holds. */
export interface AwsState {
  /** The access key IAM and Roles Anywhere accept (in the SigV4 scope). */
  accessKeyId: string;
  /** Answer every IAM call with AccessDenied. */
  denyIam?: boolean;
  /** OIDC providers by ARN. */
  providers: Record<string, { url: string; clientIds: string[] }>;
  /** Roles by name. */
  roles: Record<string, DoubleRole>;
  /** Trust anchors by ID. */
  anchors: Record<string, { arn: string; enabled: boolean; pem: string }>;
  /** Profiles by ID. */
  profiles: Record<string, { arn: string; enabled: boolean; roleArns: string[]; duration: number }>;
}

/** The running double and what it saw that the models do not allow. */
export interface AwsDouble {
  server: FaultServer;
  violations: string[];
  /** Every operation served, in order (e.g. `iam:GetRole`). */
  calls: string[];
}

const xml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function queryError(ns: string, status: number, code: string, message: string): Reply {
  return {
    status,
    headers: { "content-type": "text/xml" },
    body: `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>0</RequestId></ErrorResponse>`,
  };
}

function queryOk(ns: string, op: string, inner: string): Reply {
  return {
    status: 200,
    headers: { "content-type": "text/xml" },
    body: `<${op}Response xmlns="${ns}"><${op}Result>${inner}</${op}Result><ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></${op}Response>`,
  };
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Starts the double with the issuer's TLS credentials (so one --ca-file trusts both). */
export async function startAws(
  state: AwsState,
  tls: { keyPem: string; certPem: string; caPem?: string },
): Promise<AwsDouble> {
  const violations: string[] = [];
  const calls: string[] = [];
  const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
  const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";

  const scope = (auth: string | undefined, service: string, op: string) => {
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(
        auth ?? "",
      );
    if (m === null) violations.push(`${op}: not SigV4-signed`);
    else if (m[3] !== service) violations.push(`${op}: signed for ${m[3]}, not ${service}`);
    return m?.[1];
  };

  const query = (form: Record<string, string>, auth: string | undefined): Reply => {
    const op = form.Action;
    const isSts = op === "AssumeRoleWithWebIdentity";
    const lib = isSts ? sts : iam;
    const schema = lib[`${op}$`];
    calls.push(`${isSts ? "sts" : "iam"}:${op}`);
    if (schema === undefined || schema[0] !== 9) {
      violations.push(`no operation ${op} in the SDK's model`);
      return queryError(IAM_NS, 400, "InvalidAction", `Could not find operation ${op}`);
    }
    const version = isSts ? "2011-06-15" : "2010-05-08";
    if (form.Version !== version) violations.push(`${op}: Version ${form.Version}`);
    const input = sdkMembers(schema[4] as Lazy);
    for (const k of Object.keys(form)) {
      if (k !== "Action" && k !== "Version" && !input.names.includes(k)) {
        violations.push(`${op}: unknown parameter ${k}`);
      }
    }
    for (const k of input.names.slice(0, input.required)) {
      if (!(k in form)) violations.push(`${op}: no ${k}`);
    }
    if (isSts) return assume(form);
    const key = scope(auth, "iam", op);
    if (state.denyIam || key !== state.accessKeyId) {
      return queryError(
        IAM_NS,
        403,
        "AccessDenied",
        `User is not authorized to perform: iam:${op}`,
      );
    }
    if (op === "GetRole") {
      const role = state.roles[form.RoleName];
      if (role === undefined) {
        return queryError(
          IAM_NS,
          404,
          "NoSuchEntity",
          `The role with name ${form.RoleName} cannot be found.`,
        );
      }
      const fields: Record<string, string> = {
        Path: "/",
        RoleName: form.RoleName,
        RoleId: "AROAEXAMPLEROLEID0001",
        Arn: role.arn,
        CreateDate: "2026-11-01T00:00:00Z",
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(role.trust)),
        MaxSessionDuration: String(role.maxSessionDuration),
      };
      const members = sdkMembers(iam.Role$);
      for (const k of Object.keys(fields))
        if (!members.names.includes(k)) violations.push(`answer: Role has no ${k}`);
      for (const k of members.names.slice(0, members.required))
        if (!(k in fields)) violations.push(`answer: Role lacks ${k}`);
      const inner = Object.entries(fields)
        .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
        .join("");
      return queryOk(IAM_NS, op, `<Role>${inner}</Role>`);
    }
    if (op === "GetOpenIDConnectProvider") {
      const p = state.providers[form.OpenIDConnectProviderArn];
      if (p === undefined) {
        return queryError(
          IAM_NS,
          404,
          "NoSuchEntity",
          `OpenIDConnect Provider not found for arn ${form.OpenIDConnectProviderArn}`,
        );
      }
      const members = sdkMembers(schema[5] as Lazy).names;
      for (const k of ["Url", "ClientIDList", "ThumbprintList", "CreateDate"])
        if (!members.includes(k)) violations.push(`answer: no ${k}`);
      const ids = p.clientIds.map((c) => `<member>${xml(c)}</member>`).join("");
      return queryOk(
        IAM_NS,
        op,
        `<Url>${xml(p.url)}</Url><ClientIDList>${ids}</ClientIDList><ThumbprintList><member>0123456789abcdef0123456789abcdef01234567</member></ThumbprintList><CreateDate>2026-11-01T00:00:00Z</CreateDate>`,
      );
    }
    violations.push(`${op}: the double does not serve it (verify is read-only: only Get* calls)`);
    return queryError(IAM_NS, 400, "InvalidAction", op);
  };

  const assume = (form: Record<string, string>): Reply => {
    const c = jwtClaims(form.WebIdentityToken ?? "");
    const iss = typeof c.iss === "string" ? c.iss : "";
    const host = iss.replace(/^https:\/\//, "");
    const entry = Object.entries(state.providers).find(([, p]) => p.url === host);
    if (entry === undefined) {
      return queryError(
        STS_NS,
        400,
        "InvalidIdentityToken",
        `No OpenIDConnect provider found in your account for ${iss}`,
      );
    }
    const auds = list(c.aud).map(String);
    if (!auds.some((a) => entry[1].clientIds.includes(a))) {
      return queryError(STS_NS, 400, "InvalidIdentityToken", "Incorrect token audience");
    }
    if (typeof c.exp !== "number" || c.exp * 1000 < Date.now()) {
      return queryError(
        STS_NS,
        400,
        "ExpiredTokenException",
        "Token expired: current date/time must be before the expiration date/time.",
      );
    }
    const role = Object.values(state.roles).find((r) => r.arn === form.RoleArn);
    const ok = role?.trust.Statement.some((s) => {
      const eq =
        (s.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals ?? {};
      return (
        s.Effect === "Allow" &&
        (s.Principal as Record<string, unknown> | undefined)?.Federated === entry[0] &&
        list(s.Action).includes("sts:AssumeRoleWithWebIdentity") &&
        list(eq[`${host}:sub`]).includes(c.sub) &&
        auds.some((a) => list(eq[`${host}:aud`]).includes(a))
      );
    });
    if (!ok)
      return queryError(
        STS_NS,
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
      );
    const name = form.RoleArn.slice(form.RoleArn.lastIndexOf("/") + 1);
    return queryOk(
      STS_NS,
      "AssumeRoleWithWebIdentity",
      `<SubjectFromWebIdentityToken>${xml(String(c.sub))}</SubjectFromWebIdentityToken><Audience>${xml(auds[0])}</Audience><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/${name}/${xml(form.RoleSessionName)}</Arn><AssumedRoleId>AROAEXAMPLEROLEID0001:${xml(form.RoleSessionName)}</AssumedRoleId></AssumedRoleUser><Credentials><SessionToken>sts-session-token-7f3a</SessionToken><SecretAccessKey>sts-secret-9c2e</SecretAccessKey><Expiration>2099-01-01T00:00:00Z</Expiration><AccessKeyId>ASIAVERIFYEXCHANGE01</AccessKeyId></Credentials><Provider>${xml(host)}</Provider>`,
    );
  };

  /** The JSON answer's members against a Smithy shape (recursively). */
  const checkShape = (value: unknown, target: string, where: string) => {
    const shape = RA.shapes[target];
    if (shape === undefined) return;
    if (shape.type === "structure" || shape.type === "union") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const m = shape.members?.[k];
        if (m === undefined) violations.push(`${where}: no member ${k} in ${target}`);
        else checkShape(v, m.target, `${where}.${k}`);
      }
      for (const [k, m] of Object.entries(shape.members ?? {})) {
        if (m.traits?.["smithy.api#required"] && !(k in (value as object)))
          violations.push(`${where}: lacks ${k}`);
      }
    } else if (shape.type === "list" && shape.member) {
      for (const v of value as unknown[]) checkShape(v, shape.member.target, `${where}[]`);
    }
  };

  const rest = (method: string, pathname: string, auth: string | undefined): Reply => {
    const found = Object.entries(RA.shapes).find(([, s]) => {
      const h = s.traits?.["smithy.api#http"] as { method: string; uri: string } | undefined;
      return (
        s.type === "operation" &&
        h?.method === method &&
        new RegExp(`^${h.uri.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(pathname)
      );
    });
    if (found === undefined) {
      violations.push(`no Roles Anywhere operation for ${method} ${pathname}`);
      return { status: 404, body: JSON.stringify({ message: "Not found" }) };
    }
    const [id, op] = found;
    calls.push(`rolesanywhere:${id.split("#")[1]}`);
    const key = scope(auth, "rolesanywhere", id);
    if (key !== state.accessKeyId) {
      return {
        status: 403,
        headers: { "x-amzn-errortype": "AccessDeniedException" },
        body: JSON.stringify({ message: "Access denied" }),
      };
    }
    const label = decodeURIComponent(pathname.split("/")[2]);
    let body: unknown;
    if (id.endsWith("#GetTrustAnchor")) {
      const a = state.anchors[label];
      if (a) {
        body = {
          trustAnchor: {
            trustAnchorId: label,
            trustAnchorArn: a.arn,
            name: "spiffe-shop",
            enabled: a.enabled,
            source: {
              sourceType: "CERTIFICATE_BUNDLE",
              sourceData: { x509CertificateData: a.pem },
            },
            createdAt: "2026-11-01T00:00:00Z",
            updatedAt: "2026-11-01T00:00:00Z",
          },
        };
      }
    } else {
      const p = state.profiles[label];
      if (p) {
        body = {
          profile: {
            profileId: label,
            profileArn: p.arn,
            name: "spiffe-shop",
            enabled: p.enabled,
            roleArns: p.roleArns,
            durationSeconds: p.duration,
            createdAt: "2026-11-01T00:00:00Z",
          },
        };
      }
    }
    if (body === undefined) {
      return {
        status: 404,
        headers: { "x-amzn-errortype": "ResourceNotFoundException" },
        body: JSON.stringify({ message: "Resource not found" }),
      };
    }
    checkShape(body, op.output?.target ?? "", id);
    return { status: 200, body: JSON.stringify(body) };
  };

  const handler: Handler = (req) => {
    const url = new URL(req.path, "https://x");
    const auth = req.headers.authorization;
    if (req.method === "POST" && url.pathname === "/") {
      return query(
        Object.fromEntries(new URLSearchParams(req.body)),
        typeof auth === "string" ? auth : undefined,
      );
    }
    return rest(req.method, url.pathname, typeof auth === "string" ? auth : undefined);
  };
  const server = await startFaultServer({ tls, handler });
  return { server, violations, calls };
}
