/**
 * Curity's token exchange with `--svid-dir`: the token requests the workload makes (its login's
 * `curl` forms, components/federation/curity/component.ts), OAuth client credentials with
 * - the JWT-SVID as client assertion (RFC 7523 §2.2: `client_assertion_type`
 *   `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, `client_assertion`; Curity finds the
 *   client from `sub` through the profile's client-id mapping) to `tokenUrl`;
 * - the X509-SVID as TLS client certificate (RFC 8705 §2, `client_id`) to `mtlsTokenEndpoint`.
 * Errors are RFC 6749 §5.2's (`invalid_client`: authentication failed; `invalid_scope`;
 * `unauthorized_client`), mapped to the cause by comparing the SVID with the plan (audience = the
 * token endpoint Curity publishes, issuer, expiry, the SPIFFE ID the client's `client-uri` names)
 * and pointing at the curity field checks, which say what the admin node lost.
 */
import { CURITY_JWT_SVID_FILE } from "../../components/federation/curity/component";
import { usesX509 } from "../../components/federation/curity/rules";
import type { CurityBlock } from "../../components/federation/curity/schema";
import { deployedIssuer } from "./discovery";
import { exchangeSubject } from "./fields";
import { exchangePost, shown } from "./http";
import type { CheckResult, VerifyContext } from "./types";
import { svidValidityProblem, x509Subject } from "./x509-svid";

const base = { check: "curity", party: "curity" } as const;
const SEE =
  "see the curity field checks above (an admin restart without persisted RESTCONF writes loses clients, mappings and scopes; pulumi up restores them)";

/** Why Curity refused the token request, from its RFC 6749 error and the SVID. */
export function curityTokenCause(
  error: string,
  flow: "jwt" | "x509",
  o: {
    claims?: Record<string, unknown>;
    validity?: string;
    login: Record<string, unknown>;
    issuer: string;
    spiffeId: string;
    profile: string;
  },
): string {
  const clientId = shown(o.login.clientId);
  if (error === "invalid_scope") {
    return `Curity refuses scope ${shown(o.login.scopes)}: each must be defined in token profile ${shown(o.profile)} and granted to client ${clientId}; ${SEE}`;
  }
  if (error === "unauthorized_client") {
    return `client ${clientId} may not use client credentials (capabilities): ${SEE}`;
  }
  if (error !== "invalid_client") return `see Curity's answer (${error})`;
  if (flow === "x509") {
    return (
      o.validity ??
      `Curity does not authenticate the X509-SVID as client ${clientId}: its mutual-tls client-uri must be ${shown(o.spiffeId)} and its trusted-ca the root in the client trust store; ${SEE}`
    );
  }
  const c = o.claims ?? {};
  if (typeof c.exp !== "number" || c.exp * 1000 < Date.now()) {
    const at = typeof c.exp === "number" ? new Date(c.exp * 1000).toISOString() : "(no exp)";
    return `the JWT-SVID expired at ${at}: check that spiffe-helper refreshes ${CURITY_JWT_SVID_FILE}`;
  }
  const aud = Array.isArray(c.aud) ? c.aud.map(String) : [String(c.aud)];
  if (!aud.includes(String(o.login.audience))) {
    return `the token's aud ${shown(c.aud)} is not the token endpoint Curity publishes, ${shown(o.login.audience)} (curity.tokenEndpoint): the helper must fetch the JWT-SVID for it (pulumi up rewrites the helper config)`;
  }
  if (c.iss !== o.issuer) {
    return `the token's iss ${shown(c.iss)} is not the issuer the client validates, ${shown(o.issuer)} (assertion-jwt-validation/issuer)`;
  }
  return `the assertion matches the plan, so Curity lacks what finds or verifies it: the client-id mapping of sub ${shown(c.sub)} to ${clientId}, the client's jwks-uri or its HTTP client's trust; ${SEE}`;
}

/** One token request; PASS, or the FAIL with its cause. */
async function tokenRequest(
  ctx: VerifyContext,
  o: {
    name: string;
    workload: string;
    url: string;
    form: Record<string, string>;
    clientCert?: { certPem: string; keyPem: string };
    cause: (error: string) => string;
  },
): Promise<CheckResult> {
  const r = { ...base, name: o.name, workload: o.workload };
  ctx.progress(`curity: POST ${o.url} as ${o.workload}`);
  const res = await exchangePost(
    ctx,
    r,
    o.url,
    "Curity token request",
    {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(o.form).toString(),
      accept: [400, 401, 403],
      clientCert: o.clientCert,
    },
    "check that the token endpoint answers at that URL and its CA is trusted (--ca-file)",
  );
  if ("check" in res) return res;
  const body = res.body;
  if (res.status === 200 && typeof body.access_token === "string") {
    ctx.secrets.push(body.access_token);
    return {
      ...r,
      status: "PASS",
      reason: `Curity issued an access token (scope ${shown(body.scope ?? o.form.scope)})`,
    };
  }
  const error = typeof body.error === "string" ? body.error : `HTTP ${res.status}`;
  const description =
    typeof body.error_description === "string" ? `: ${body.error_description}` : "";
  return {
    ...r,
    status: "FAIL",
    reason: `Curity refused it: HTTP ${res.status} ${error}${description}`,
    fix: o.cause(error),
  };
}

/** The workload's token requests (JWT and mutual TLS flows, as its login has them). */
export async function curityExchanges(
  ctx: VerifyContext,
  block: CurityBlock,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const issuer = deployedIssuer(ctx);
  const jwt = await exchangeSubject<undefined>(ctx, {
    party: "curity",
    name: "token request jwt",
    file: CURITY_JWT_SVID_FILE,
  });
  if (Array.isArray(jwt)) results.push(...jwt);
  else if (typeof jwt.login.tokenUrl === "string") {
    const { token, claims, workload: w, login } = jwt;
    results.push(
      await tokenRequest(ctx, {
        name: "token request jwt",
        workload: w.name,
        url: jwt.login.tokenUrl,
        form: {
          grant_type: "client_credentials",
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: token,
          scope: Array.isArray(login.scopes) ? login.scopes.join(" ") : "",
        },
        cause: (error) =>
          curityTokenCause(error, "jwt", {
            claims,
            login,
            issuer,
            spiffeId: w.spiffeId,
            profile: block.profile,
          }),
      }),
    );
  }
  const anyX509 = ctx.model.workloads.some((w) => w.curity && usesX509(w.curity.auth));
  const x509 = anyX509 ? x509Subject(ctx, { party: "curity", name: "token request mtls" }) : [];
  if (Array.isArray(x509)) results.push(...x509);
  else if (typeof x509.login.mtlsTokenEndpoint === "string") {
    const { svid, workload: w, login } = x509;
    results.push(
      await tokenRequest(ctx, {
        name: "token request mtls",
        workload: w.name,
        url: x509.login.mtlsTokenEndpoint,
        form: {
          grant_type: "client_credentials",
          client_id: String(login.clientId),
          scope: Array.isArray(login.scopes) ? login.scopes.join(" ") : "",
        },
        clientCert: { certPem: svid.certPem, keyPem: svid.keyPem },
        cause: (error) =>
          curityTokenCause(error, "x509", {
            validity: svidValidityProblem(svid),
            login,
            issuer,
            spiffeId: w.spiffeId,
            profile: block.profile,
          }),
      }),
    );
  }
  return results;
}
