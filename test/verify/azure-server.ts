/**
 * A spec-shaped double of ARM's Microsoft.ManagedIdentity (the carried contract
 * test/contracts/azure/managed-identity-2023-01-31.json) and of Entra ID's v2.0 token endpoint:
 * each ARM request is matched to a contract operation (path template, required `api-version`,
 * a bearer), each answer validated against the operation's 200 definition with ajv before it is
 * sent (a violation is recorded: tests require none); the token endpoint takes the
 * client-credentials form with a JWT client assertion and matches it against the identity's
 * federated credentials (issuer, subject, audience exact) and its validity, answering the
 * contract's AADSTS errors. Runs under the fault server.
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
import { claimsOf } from "./support";

interface Operation {
  method: string;
  path: string;
  query: Record<string, { required: boolean }>;
  "200": string;
}

/** The carried contract. */
export const ARM_CONTRACT = JSON.parse(
  readFileSync(
    path.join(__dirname, "..", "contracts", "azure", "managed-identity-2023-01-31.json"),
    "utf8",
  ),
) as {
  paths: Record<string, Operation>;
  definitions: Record<string, unknown>;
  entraTokenErrors: Record<string, string>;
};

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
ajv.addSchema({ definitions: ARM_CONTRACT.definitions }, "arm");

/** A federated credential as ARM stores it. */
export interface Fic {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

/** The double's state. */
export interface AzureState {
  /** The bearer ARM accepts. */
  armToken: string;
  /** Identities by resource group and name, with their credentials. */
  identities: Record<
    string,
    { clientId: string; tenantId: string; principalId: string; fics: Fic[] }
  >;
  /** The page size of the credential list (nextLink beyond it). */
  pageSize: number;
}

/** What the double saw that the contract does not allow, and the token endpoint's forms. */
export interface AzureDouble {
  server: FaultServer;
  violations: string[];
  tokenForms: Record<string, string>[];
}

function template(p: string): RegExp {
  return new RegExp(`^${p.replace(/\{[^}]+\}/g, "([^/]+)")}$`);
}

/** Starts the double with the issuer's TLS credentials (so one --ca-file trusts both). */
export async function startAzure(
  state: AzureState,
  tls: { keyPem: string; certPem: string; caPem?: string },
): Promise<AzureDouble> {
  const violations: string[] = [];
  const tokenForms: Record<string, string>[] = [];
  let origin = "";
  const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body) });
  const handler: Handler = (req) => {
    const url = new URL(req.path, "https://x");
    // Entra: tenant discovery and the token endpoint (what MSAL calls, instance discovery off).
    const tenant = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname)?.[1];
    if (req.method === "GET" && tenant) {
      return json(200, {
        issuer: `${origin}/${tenant}/v2.0`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
        end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        response_types_supported: ["code"],
      });
    }
    if (req.method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
      const form = Object.fromEntries(new URLSearchParams(req.body));
      tokenForms.push(form);
      return token(form);
    }
    // ARM.
    const op = Object.entries(ARM_CONTRACT.paths).find(
      ([, o]) => o.method === req.method && template(o.path).test(url.pathname),
    );
    if (op === undefined) {
      violations.push(`no contract operation for ${req.method} ${url.pathname}`);
      return json(404, { error: { code: "NotFound", message: "no such operation" } });
    }
    const [opId, o] = op;
    for (const [name, q] of Object.entries(o.query)) {
      if (q.required && !url.searchParams.has(name)) violations.push(`${opId}: no ${name}`);
    }
    for (const name of url.searchParams.keys()) {
      if (!(name in o.query)) violations.push(`${opId}: unknown query ${name}`);
    }
    if (req.headers.authorization !== `Bearer ${state.armToken}`) {
      return json(401, {
        error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." },
      });
    }
    const [, sub, rg, name] = template(o.path).exec(url.pathname) ?? [];
    const id = state.identities[`${decodeURIComponent(rg)}/${decodeURIComponent(name)}`];
    const armId = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
    if (id === undefined) {
      return json(404, {
        error: { code: "ResourceNotFound", message: `The Resource '${armId}' was not found.` },
      });
    }
    let body: unknown;
    if (opId === "UserAssignedIdentities_Get") {
      body = {
        id: armId,
        name: decodeURIComponent(name),
        type: "Microsoft.ManagedIdentity/userAssignedIdentities",
        location: "westeurope",
        tags: { "managed-by": "spire-federation" },
        properties: { tenantId: id.tenantId, principalId: id.principalId, clientId: id.clientId },
      };
    } else {
      const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
      const page = id.fics.slice(skip, skip + state.pageSize);
      const rest = skip + state.pageSize < id.fics.length;
      body = {
        value: page.map((f) => ({
          id: `${armId}/federatedIdentityCredentials/${f.name}`,
          name: f.name,
          type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
          properties: { issuer: f.issuer, subject: f.subject, audiences: f.audiences },
        })),
        ...(rest
          ? {
              nextLink: `${origin}${url.pathname}?api-version=${url.searchParams.get("api-version")}&$skiptoken=${skip + state.pageSize}`,
            }
          : {}),
      };
    }
    const validate = ajv.getSchema(`arm${o["200"]}`);
    if (validate && !validate(body))
      violations.push(`${opId}: answer ${ajv.errorsText(validate.errors)}`);
    return json(200, body);
  };
  const token = (form: Record<string, string>): Reply => {
    const error = (code: string, text: string) =>
      json(400, {
        error: code === "AADSTS700024" ? "invalid_client" : "invalid_request",
        error_description: `${code}: ${text} Trace ID: 0 Correlation ID: 0 Timestamp: 2026-12-02 00:00:00Z`,
        error_codes: [Number(code.slice(6))],
        timestamp: "2026-12-02 00:00:00Z",
        trace_id: "0",
        correlation_id: "0",
      });
    if (
      form.grant_type !== "client_credentials" ||
      form.client_assertion_type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
      !form.client_assertion ||
      !form.client_id ||
      !form.scope
    ) {
      violations.push(
        `token: not a client-credentials form with a JWT assertion: ${Object.keys(form).join(",")}`,
      );
      return json(400, { error: "invalid_request" });
    }
    const c = claimsOf(form.client_assertion);
    const id = Object.values(state.identities).find((i) => i.clientId === form.client_id);
    if (typeof c.exp !== "number" || c.exp * 1000 < Date.now()) {
      return error("AADSTS700024", ARM_CONTRACT.entraTokenErrors.AADSTS700024);
    }
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    const match = id?.fics.find(
      (f) =>
        f.issuer === c.iss &&
        f.subject === c.sub &&
        aud.some((a) => f.audiences.includes(String(a))),
    );
    if (match === undefined) {
      return error(
        "AADSTS70021",
        ARM_CONTRACT.entraTokenErrors.AADSTS70021.replace("{iss}", String(c.iss))
          .replace("{sub}", String(c.sub))
          .replace("{aud}", aud.join(",")),
      );
    }
    return json(200, {
      token_type: "Bearer",
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: "entra.access.7c1d",
    });
  };
  const server = await startFaultServer({ tls, handler });
  origin = server.url;
  return { server, violations, tokenForms };
}
