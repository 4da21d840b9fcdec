/**
 * Curity's token endpoints for the verify exchange tests, judging each request by what the
 * RESTCONF double (test/curity/server.ts) holds — what pulumi up wrote and an admin restart loses:
 * - `POST /oauth/v2/oauth-token`: client credentials with a JWT client assertion (RFC 7523 §2.2,
 *   §3): the client found from `sub` through the profile's client-id mapping, the signature by the
 *   client's `jwks-uri` (top level or its `secondary-authentication-method`, resolved by the
 *   test), `iss` = its `assertion-jwt-validation/issuer`, `aud` containing the token endpoint
 *   Curity publishes, `exp` in the future;
 * - `POST /oauth/v2/oauth-token-mutual-tls`: client credentials over mutual TLS (RFC 8705 §2):
 *   the client by `client_id`, the chain verified by OpenSSL against the client trust store
 *   entries clients name as `trusted-ca` (refreshed by `refresh()`), the leaf's URI SAN = the
 *   client's `mutual-tls/client-uri`;
 * then the client-credentials capability and every requested scope granted to the client and
 * defined in the profile. Errors are RFC 6749 §5.2's: 401 `invalid_client`, 400 `invalid_scope`,
 * `unauthorized_client`, `invalid_request`; success `{access_token, token_type, expires_in,
 * scope}` (§5.1). Curity's own error descriptions are not published: these are the RFC's.
 */
import { createPublicKey, randomUUID, verify, type X509Certificate } from "node:crypto";
import type { CurityTestServer } from "../curity/server";
import { startMtlsServer, type MtlsServer } from "./mtls-server";

/** One token request the double received. */
export interface TokenRequest {
  /** Which endpoint. */
  path: string;
  /** The form. */
  form: Record<string, string>;
  /** Whether a client certificate verified against the trusted CAs. */
  chainVerified: boolean;
  /** The status answered. */
  status: number;
}

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** The double. */
export class CurityTokenDouble {
  /** Every request, in order. */
  readonly requests: TokenRequest[] = [];
  private server?: MtlsServer;

  constructor(
    private readonly curity: CurityTestServer,
    private readonly profile: string,
    private readonly tls: { keyPem: string; certPem: string },
    private readonly jwks: (url: string) => Record<string, unknown>[] | undefined,
  ) {}

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return this.server?.url ?? "";
  }

  /** The token endpoint of the JWT flow (what Curity publishes: the assertion's audience). */
  get tokenEndpoint(): string {
    return `${this.url}/oauth/v2/oauth-token`;
  }

  /** The token endpoint of the mutual TLS flow. */
  get mtlsTokenEndpoint(): string {
    return `${this.url}/oauth/v2/oauth-token-mutual-tls`;
  }

  /** Starts it on 127.0.0.1. */
  async start(): Promise<void> {
    this.server = await startMtlsServer(this.tls, (req) => {
      const form = Object.fromEntries(new URLSearchParams(req.body));
      const rec: TokenRequest = {
        path: req.url,
        form,
        chainVerified: req.verifiedLeaf !== undefined,
        status: 0,
      };
      this.requests.push(rec);
      const [status, answer] = this.token(req.url, form, req.verifiedLeaf);
      rec.status = status;
      return { status, headers: { "cache-control": "no-store" }, body: JSON.stringify(answer) };
    });
    this.refresh();
  }

  /** Stops it. */
  stop(): Promise<void> {
    return this.server!.stop();
  }

  /** Trusts the client trust store entries that clients name as `trusted-ca`, for new connections. */
  refresh(): void {
    const ids = new Set(
      this.clients().flatMap((c) => {
        const m = c["mutual-tls"] as { "trusted-ca"?: string[] } | undefined;
        return m?.["trusted-ca"] ?? [];
      }),
    );
    this.server?.trust(
      [...ids].flatMap((id) => {
        const e = this.curity.store.clientTrust.get(id);
        return e ? [e.pem] : [];
      }),
    );
  }

  private clients(): Record<string, unknown>[] {
    return [...(this.curity.store.profiles.get(this.profile)?.clients.values() ?? [])];
  }

  private token(
    path: string,
    form: Record<string, string>,
    leaf: X509Certificate | undefined,
  ): [number, Record<string, unknown>] {
    const fail = (
      status: number,
      error: string,
      description: string,
    ): [number, Record<string, unknown>] => [status, { error, error_description: description }];
    const profile = this.curity.store.profiles.get(this.profile);
    if (form.grant_type !== "client_credentials") {
      return fail(400, "unsupported_grant_type", "only client_credentials is modelled");
    }
    let client: Record<string, unknown> | undefined;
    if (path === "/oauth/v2/oauth-token") {
      if (form.client_assertion_type !== ASSERTION_TYPE || !form.client_assertion) {
        return fail(400, "invalid_request", "client_assertion and its type are required");
      }
      const parts = form.client_assertion.split(".");
      const json = (s: string) =>
        JSON.parse(Buffer.from(s ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
      const header = json(parts[0]);
      const claims = json(parts[1]);
      const mapping = profile?.mappings.get(String(claims.sub));
      client = mapping ? profile?.clients.get(String(mapping["client-id"])) : undefined;
      if (!client) return fail(401, "invalid_client", "client authentication failed");
      const verifier =
        client["jwks-uri"] !== undefined
          ? client
          : (client["secondary-authentication-method"] as Record<string, unknown> | undefined);
      const jwksUri = (verifier?.["jwks-uri"] as { uri?: string } | undefined)?.uri;
      const jwk = (this.jwks(String(jwksUri)) ?? []).find((k) => k.kid === header.kid);
      const input = Buffer.from(`${parts[0]}.${parts[1]}`);
      const signed =
        jwk !== undefined &&
        verify(
          "sha256",
          input,
          createPublicKey({ key: jwk, format: "jwk" }),
          Buffer.from(parts[2], "base64url"),
        );
      const issuer = (verifier?.["assertion-jwt-validation"] as { issuer?: string } | undefined)
        ?.issuer;
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (
        !signed ||
        claims.iss !== issuer ||
        !aud.includes(this.tokenEndpoint) ||
        typeof claims.exp !== "number" ||
        claims.exp * 1000 < Date.now()
      ) {
        return fail(401, "invalid_client", "client authentication failed");
      }
    } else if (path === "/oauth/v2/oauth-token-mutual-tls") {
      client = profile?.clients.get(form.client_id ?? "");
      const mtls = client?.["mutual-tls"] as { "client-uri"?: string } | undefined;
      const uri = /URI:([^,\s]+)/.exec(leaf?.subjectAltName ?? "")?.[1];
      if (!client || !leaf || mtls?.["client-uri"] !== uri) {
        return fail(401, "invalid_client", "client authentication failed");
      }
    } else return fail(404, "invalid_request", "no such endpoint");
    const capabilities = client.capabilities as Record<string, unknown> | undefined;
    if (capabilities?.["client-credentials"] === undefined) {
      return fail(400, "unauthorized_client", "the client may not use this grant");
    }
    const granted = (client.scope ?? []) as string[];
    const requested = (form.scope ?? "").split(" ").filter(Boolean);
    if (requested.some((s) => !granted.includes(s) || !profile?.scopes.has(s))) {
      return fail(400, "invalid_scope", "a requested scope is invalid");
    }
    return [
      200,
      {
        access_token: `_0XBPWQQ_${randomUUID()}`,
        token_type: "bearer",
        expires_in: 300,
        scope: requested.join(" "),
      },
    ];
  }
}
