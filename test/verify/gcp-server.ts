/**
 * A spec-shaped double of Google's IAM v1 (workload identity pools and providers) and STS v1
 * token exchange, held to test/contracts/gcp/iam-v1-sts-v1.json: each IAM request must match a
 * contract method (path pattern, a bearer), each answer is validated against the method's
 * response schema with ajv before it is sent (violations recorded; tests require none); the STS
 * takes the token-exchange form the contract lists and judges the subject token the way the
 * provider is configured (audience among allowedAudiences and equal to the provider's name,
 * issuer, expiry, the attribute condition's SPIFFE prefix), answering `invalid_grant`. Cloud
 * Resource Manager v3 (`/v3/`: IAM policies) is answered by gcp-crm-server.ts.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import {
  startFaultServer,
  type FaultServer,
  type Handler,
  type Reply,
} from "../support/fault-server";
import { crmAnswer, type IamPolicies } from "./gcp-crm-server";
import { claimsOf } from "./support";

/** The carried contract. */
export const GCP_CONTRACT = JSON.parse(
  readFileSync(path.join(__dirname, "..", "contracts", "gcp", "iam-v1-sts-v1.json"), "utf8"),
) as {
  methods: Record<string, { httpMethod: string; pattern: string; response: string }>;
  schemas: Record<string, unknown>;
  stsToken: { required: string[]; grant_type: string; requested_token_type: string };
};

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema({ schemas: GCP_CONTRACT.schemas }, "gcp");

/** The double's state: resources by name (`projects/…/workloadIdentityPools/…[/providers/…]`). */
export interface GcpState {
  /** The bearer IAM accepts. */
  token: string;
  /** Pools and providers as IAM returns them. */
  resources: Record<string, Record<string, unknown>>;
  /** IAM policies by project ID, as Cloud Resource Manager v3 returns them (gcp-crm-server.ts). */
  policies?: IamPolicies;
}

/** The running double. */
export interface GcpDouble {
  server: FaultServer;
  violations: string[];
  stsForms: Record<string, string>[];
}

/** Starts the double (HTTPS with the given credentials). */
export async function startGcp(
  state: GcpState,
  tls: { keyPem: string; certPem: string; caPem?: string },
): Promise<GcpDouble> {
  const violations: string[] = [];
  const stsForms: Record<string, string>[] = [];
  const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body) });
  const grantError = (description: string) =>
    json(400, { error: "invalid_grant", error_description: description });
  const handler: Handler = (req) => {
    const url = new URL(req.path, "https://x");
    if (req.method === "POST" && url.pathname === "/v1/token") {
      const form = Object.fromEntries(new URLSearchParams(req.body));
      stsForms.push(form);
      const c = GCP_CONTRACT.stsToken;
      const missing = c.required.filter((k) => !form[k]);
      if (
        missing.length ||
        form.grant_type !== c.grant_type ||
        form.requested_token_type !== c.requested_token_type
      ) {
        violations.push(`sts: bad form (missing ${missing.join(",")})`);
        return json(400, { error: "invalid_request", error_description: "bad request" });
      }
      // The audience names the project by number, IAM reads by ID: match the rest of the name.
      const tail = form.audience.replace(/^\/\/iam\.googleapis\.com\/projects\/[^/]+\//, "");
      const provider = Object.entries(state.resources).find(([n]) => n.endsWith(`/${tail}`))?.[1];
      if (!provider || provider.state !== "ACTIVE") {
        return json(400, {
          error: "invalid_target",
          error_description:
            'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.',
        });
      }
      const claims = claimsOf(form.subject_token);
      const oidc = provider.oidc as { issuerUri: string; allowedAudiences: string[] };
      const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
      if (!aud.some((a) => oidc.allowedAudiences.includes(a))) {
        return grantError(
          `The audience in ID Token [${aud.join(",")}] does not match the expected audience.`,
        );
      }
      if (claims.iss !== oidc.issuerUri) {
        return grantError(
          `The issuer in ID Token ${String(claims.iss)} does not match the expected ones.`,
        );
      }
      if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) {
        return grantError("ID Token issued at 0 is stale to sign-in.");
      }
      const prefix = /startsWith\("([^"]+)"\)/.exec(String(provider.attributeCondition))?.[1] ?? "";
      if (!String(claims.sub).startsWith(prefix)) {
        return grantError("The given credential is rejected by the attribute condition.");
      }
      return json(200, {
        access_token: "ya29.federated-4b1e",
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer",
        expires_in: 3600,
      });
    }
    if (url.pathname.startsWith("/v3/")) {
      return crmAnswer(req, state.token, state.policies ?? {}, violations);
    }
    const rest = url.pathname.replace(/^\//, "");
    const method = Object.entries(GCP_CONTRACT.methods).find(
      ([, m]) => m.httpMethod === req.method && new RegExp(m.pattern).test(rest),
    );
    if (!method) {
      violations.push(`no contract method for ${req.method} ${url.pathname}`);
      return json(404, { error: { code: 404, message: "not found", status: "NOT_FOUND" } });
    }
    if (req.headers.authorization !== `Bearer ${state.token}`) {
      return json(401, {
        error: {
          code: 401,
          message: "Request had invalid authentication credentials.",
          status: "UNAUTHENTICATED",
        },
      });
    }
    const resource = state.resources[rest.replace(/^v1\//, "")];
    if (!resource) {
      return json(404, {
        error: { code: 404, message: `Requested entity was not found.`, status: "NOT_FOUND" },
      });
    }
    const validate = ajv.getSchema(`gcp#/schemas/${method[1].response}`);
    if (validate && !validate(resource))
      violations.push(`${method[0]}: ${ajv.errorsText(validate.errors)}`);
    return json(200, resource);
  };
  const server = await startFaultServer({ tls, handler });
  return { server, violations, stsForms };
}
