/**
 * The Cloud Resource Manager v3 part of the Google double (test/verify/gcp-server.ts routes
 * `/v3/` here), held to test/contracts/gcp/cloudresourcemanager-v3-iam.json: each request must
 * match a contract method (HTTP method, path pattern), carry the bearer, and send a body the
 * method's request schema accepts; each policy is validated against the response schema before
 * it is sent (violations recorded; tests require none). As the contract says, an unknown project
 * answers 403 like a forbidden one, and a policy with conditional bindings is refused below
 * version 3.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import type { RecordedRequest, Reply } from "../support/fault-server";

/** The carried contract. */
export const CRM_CONTRACT = JSON.parse(
  readFileSync(
    path.join(__dirname, "..", "contracts", "gcp", "cloudresourcemanager-v3-iam.json"),
    "utf8",
  ),
) as {
  methods: Record<
    string,
    { httpMethod: string; pattern: string; request: string; response: string }
  >;
  schemas: Record<string, unknown>;
};

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema({ schemas: CRM_CONTRACT.schemas }, "crm");

/** A binding as the policy holds it. */
export interface IamBinding {
  role: string;
  members: string[];
  condition?: { title?: string; description?: string; expression: string };
}

/** IAM policies by project ID. */
export type IamPolicies = Record<
  string,
  { version?: number; etag?: string; bindings: IamBinding[] }
>;

const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body) });
const googleError = (code: number, status: string, message: string): Reply =>
  json(code, { error: { code, message, status } });

/** The answer to a `/v3/` request, recording what the contract does not allow in `violations`. */
export function crmAnswer(
  req: RecordedRequest,
  token: string,
  policies: IamPolicies,
  violations: string[],
): Reply {
  const rest = new URL(req.path, "https://x").pathname.replace(/^\//, "");
  const method = Object.entries(CRM_CONTRACT.methods).find(
    ([, m]) => m.httpMethod === req.method && new RegExp(m.pattern).test(rest),
  );
  if (!method) {
    violations.push(`crm: no contract method for ${req.method} /${rest}`);
    return googleError(404, "NOT_FOUND", "not found");
  }
  const [id, m] = method;
  if (req.headers.authorization !== `Bearer ${token}`) {
    return googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
  }
  let body: unknown;
  try {
    body = JSON.parse(req.body || "{}");
  } catch {
    violations.push(`${id}: the body is not JSON`);
    return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  }
  if (!/^application\/json\b/.test(String(req.headers["content-type"]))) {
    violations.push(`${id}: content-type ${String(req.headers["content-type"])}`);
  }
  const request = ajv.getSchema(`crm#/schemas/${m.request}`);
  if (request && !request(body)) {
    violations.push(`${id}: request ${ajv.errorsText(request.errors)}`);
    return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  }
  const project = decodeURIComponent(/^v3\/projects\/([^/:]+):/.exec(rest)?.[1] ?? "");
  const policy = policies[project];
  if (!policy) {
    return googleError(
      403,
      "PERMISSION_DENIED",
      `The caller does not have permission`, // Google's text for a missing and a forbidden project alike
    );
  }
  const asked = (body as { options?: { requestedPolicyVersion?: number } }).options
    ?.requestedPolicyVersion;
  const conditional = policy.bindings.some((b) => b.condition !== undefined);
  if (conditional && asked !== 3) {
    return googleError(
      400,
      "INVALID_ARGUMENT",
      "Requests for policies with any conditional role bindings must specify version 3.",
    );
  }
  const answer = { version: conditional ? 3 : 1, etag: "BwYQ3k9kYlE=", ...policy };
  const response = ajv.getSchema(`crm#/schemas/${m.response}`);
  if (response && !response(answer)) {
    violations.push(`${id}: response ${ajv.errorsText(response.errors)}`);
  }
  return json(200, answer);
}
