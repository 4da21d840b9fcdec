/**
 * An OpenZiti controller for the verify exchange tests: the Edge Management API is the
 * spec-checked test controller's (test/openziti/server.ts, `handle`), and the Edge Client API's
 * `POST /authenticate` (carried: test/contracts/openziti/client-authenticate.yml, openziti/edge-api
 * client.yml @87257de) is modelled here on the controller's own code (openziti/ziti @804f55a):
 * - `method=cert` (controller/model/authenticator_mod_cert.go): the presented chain must verify
 *   against a CA that is verified and auth-enabled (ca_manager.go: `isAuthEnabled = true and
 *   isVerified = true`); the verification is OpenSSL's own (the server's trust is those CAs'
 *   certificates, refreshed on each management call and by `refresh()`); the externalId comes
 *   from the CA's `externalIdClaim` (URI SAN, scheme `spiffe`), an identity must have it and its
 *   auth policy must allow certificates. Any failure: 401 `INVALID_AUTH`.
 * - `method=ext-jwt` (authenticator_mod_ext_jwt.go): `Authorization: Bearer`; the signer by `iss`
 *   among the enabled ones, the signature by the signer's JWKS (`jwksEndpoint`, resolved by the
 *   test), expiry, `aud` containing the signer's `audience`, the identity whose externalId is the
 *   claim (`useExternalId`), its auth policy allowing the signer. Failure: 401 `UNAUTHORIZED`
 *   with `WWW-Authenticate: Bearer realm="openziti-primary-ext-jwt" error="missing|invalid|expired"`
 *   and the enabled signers' ids and issuers (openziti/foundation errorz).
 * Every authenticate request is validated (query, body) and every answer checked against the
 * carried spec; problems go to `violations`, which the tests require empty.
 */
import { createPublicKey, randomUUID, verify, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { makeAjv } from "../contracts/openziti/contract";
import type { StoredEntity, ZitiTestController } from "../openziti/server";
import { startMtlsServer, type MtlsServer } from "./mtls-server";

const CLIENT_SPEC = parse(
  readFileSync(
    path.join(__dirname, "..", "contracts", "openziti", "client-authenticate.yml"),
    "utf8",
  ),
) as {
  basePath: string;
  paths: Record<
    string,
    { parameters: { name: string; enum: string[] }[]; post: Record<string, unknown> }
  >;
  definitions: Record<string, Record<string, unknown>>;
};
const requestAjv = makeAjv("client-request", true, CLIENT_SPEC.definitions);
const responseAjv = makeAjv("client-response", false, CLIENT_SPEC.definitions);
const OP = CLIENT_SPEC.paths["/authenticate"];
const validateBody = requestAjv.compile({ $ref: "client-request#/definitions/authenticate" });
const responses = Object.fromEntries(
  Object.entries(OP.post.responses as Record<string, { schema?: { $ref: string } }>).map(
    ([status, r]) => [status, responseAjv.compile({ $ref: `client-response${r.schema!.$ref}` })],
  ),
);

const META = { apiVersion: "0.0.1", apiEnrollmentVersion: "0.0.1" };

/** One authentication the double received. */
export interface ZitiAuthentication {
  /** The `method` query parameter. */
  method: string;
  /** The bearer token, if any. */
  bearer?: string;
  /**
   * Whether the client's certificate chain verified (OpenSSL) against an active CA's root: the
   * CAs hold roots only, so the workload must have presented SPIRE's intermediate too.
   */
  chainVerified: boolean;
  /** The status answered. */
  status: number;
}

/** The double; `start()` serves it on 127.0.0.1. */
export class ZitiClientDouble {
  /** Spec problems (must stay empty). */
  readonly violations: string[] = [];
  /** Every authentication, in order. */
  readonly authentications: ZitiAuthentication[] = [];
  private server?: MtlsServer;

  constructor(
    private readonly controller: ZitiTestController,
    private readonly tls: { keyPem: string; certPem: string },
    private readonly jwks: (url: string) => Record<string, unknown>[] | undefined,
  ) {}

  /** Starts the HTTPS server (client certificates requested, judged per request). */
  async start(): Promise<void> {
    this.server = await startMtlsServer(this.tls, (req) => {
      const url = new URL(req.url, "https://controller.invalid");
      if (url.pathname === `${CLIENT_SPEC.basePath}/authenticate` && req.method === "POST") {
        return this.authenticate(url, req.headers, req.body, req.verifiedLeaf);
      }
      const reply = this.controller.handle({ ...req, path: req.url });
      this.refresh();
      return reply;
    });
    this.refresh();
  }

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return this.server?.url ?? "";
  }

  /** Stops it. */
  stop(): Promise<void> {
    return this.server!.stop();
  }

  /** Trusts the certificates of the active CAs for new connections (the controller's trust cache). */
  refresh(): void {
    this.server?.trust(this.activeCas().map((c) => String(c.certPem)));
  }

  private activeCas(): StoredEntity[] {
    return [...this.controller.store.cas.values()].filter(
      (c) => c.isVerified === true && c.isAuthEnabled === true,
    );
  }

  private identityBy(externalId: unknown): StoredEntity | undefined {
    return [...this.controller.store.identities.values()].find(
      (i) => typeof externalId === "string" && i.externalId === externalId,
    );
  }

  private policyOf(identity: StoredEntity): Record<string, Record<string, unknown>> {
    const p = this.controller.store["auth-policies"].get(String(identity.authPolicyId));
    return ((p?.primary ?? {}) as Record<string, Record<string, unknown>>) ?? {};
  }

  private answer(status: number, payload: unknown, headers: Record<string, string> = {}) {
    const validate = responses[String(status)];
    if (!validate) this.violations.push(`POST /authenticate: status ${status} is not in the spec`);
    else if (!validate(payload)) {
      this.violations.push(
        `POST /authenticate ${status}: ${responseAjv.errorsText(validate.errors)}`,
      );
    }
    return {
      status,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(payload),
    };
  }

  private refuse(code: string, message: string, headers: Record<string, string> = {}) {
    return this.answer(
      401,
      { error: { code, message, requestId: randomUUID() }, meta: META },
      headers,
    );
  }

  private session(identity: StoredEntity) {
    const now = new Date().toISOString();
    return this.answer(200, {
      data: {
        id: randomUUID(),
        createdAt: now,
        updatedAt: now,
        cachedUpdatedAt: now,
        _links: { self: { href: "./current-api-session" } },
        tags: {},
        token: randomUUID(),
        identity: { id: identity.id, name: identity.name, entity: "identities" },
        identityId: identity.id,
        configTypes: [],
        ipAddress: "127.0.0.1",
        authQueries: [],
        isMfaRequired: false,
        isMfaComplete: false,
        authenticatorId: randomUUID(),
        isCertExtendable: false,
        expiresAt: new Date(Date.now() + 1800_000).toISOString(),
        expirationSeconds: 1800,
      },
      meta: META,
    });
  }

  private authenticate(
    url: URL,
    headers: Record<string, string | string[] | undefined>,
    body: string,
    leaf: X509Certificate | undefined,
  ) {
    const method = url.searchParams.get("method") ?? "";
    const auth = String(headers.authorization ?? "");
    const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
    const record: ZitiAuthentication = {
      method,
      bearer,
      chainVerified: leaf !== undefined,
      status: 0,
    };
    this.authentications.push(record);
    const allowed = OP.parameters.find((p) => p.name === "method")!.enum;
    let parsed: unknown;
    try {
      parsed = body === "" ? {} : JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (!allowed.includes(method) || parsed === undefined || !validateBody(parsed)) {
      this.violations.push(`POST /authenticate?method=${method}: invalid request`);
      const r = this.answer(400, {
        error: {
          code: "COULD_NOT_VALIDATE",
          message: "The supplied request contains an invalid document",
          requestId: randomUUID(),
        },
        meta: META,
      });
      record.status = r.status;
      return r;
    }
    const r = method === "cert" ? this.cert(leaf) : this.extJwt(bearer);
    record.status = r.status;
    return r;
  }

  private cert(leaf: X509Certificate | undefined) {
    const invalid = () => this.refuse("INVALID_AUTH", "The authentication request failed");
    if (leaf === undefined) return invalid();
    // OpenSSL verified the chain against the active CAs; Node exposes the leaf only, so the CA is
    // the one that issued the leaf, else the only active one (the tests have one).
    const active = this.activeCas();
    const ca =
      active.find((c) => leaf.checkIssued(new X509Certificate(String(c.certPem)))) ??
      (active.length === 1 ? active[0] : undefined);
    const claim = (ca?.externalIdClaim ?? null) as Record<string, unknown> | null;
    let externalId: string | undefined;
    if (claim?.location === "SAN_URI") {
      const uris = [...(leaf.subjectAltName ?? "").matchAll(/URI:([^,\s]+)/g)].map((m) => m[1]);
      externalId =
        claim.matcher === "SCHEME"
          ? uris.find((u) => u.startsWith(`${String(claim.matcherCriteria)}:`))
          : uris[0];
    }
    const identity = this.identityBy(externalId);
    if (!identity || this.policyOf(identity).cert?.allowed !== true) return invalid();
    return this.session(identity);
  }

  private extJwt(token: string | undefined) {
    const signers = [...this.controller.store["external-jwt-signers"].values()].filter(
      (s) => s.enabled === true,
    );
    const challenge = (error: string, description: string) => ({
      "www-authenticate": `Bearer realm="openziti-primary-ext-jwt" error="${error}" error_description="${description}" id="${signers.map((s) => s.id).join("|")}" issuer="${signers.map((s) => s.issuer).join("|")}"`,
    });
    const unauthorized = (error: string, description: string) =>
      this.refuse(
        "UNAUTHORIZED",
        "The request could not be completed. The session is not authorized or the credentials are invalid",
        challenge(error, description),
      );
    const missing = () => unauthorized("missing", "no matching token was provided");
    if (signers.length === 0)
      return this.refuse(
        "UNAUTHORIZED",
        "The request could not be completed. The session is not authorized or the credentials are invalid",
      );
    const parts = (token ?? "").split(".");
    if (parts.length !== 3) return missing();
    const json = (s: string) =>
      JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Record<string, unknown>;
    const header = json(parts[0]);
    const claims = json(parts[1]);
    const signer = signers.find((s) => s.issuer === claims.iss);
    if (!signer) return missing();
    const jwk = (this.jwks(String(signer.jwksEndpoint)) ?? []).find((k) => k.kid === header.kid);
    if (
      !jwk ||
      !signatureOk(parts, String(header.alg), createPublicKey({ key: jwk, format: "jwk" }))
    ) {
      return unauthorized("invalid", "token is invalid");
    }
    if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) {
      return unauthorized("expired", "token expired");
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(signer.audience)) return missing();
    const property = typeof signer.claimsProperty === "string" ? signer.claimsProperty : "sub";
    const identity = this.identityBy(claims[property]);
    if (!identity) return missing();
    const ext = this.policyOf(identity).extJwt;
    const allowedSigners = (ext?.allowedSigners ?? []) as string[];
    if (
      ext?.allowed !== true ||
      (allowedSigners.length > 0 && !allowedSigners.includes(signer.id))
    ) {
      return missing();
    }
    return this.session(identity);
  }
}

/** A compact JWS signature check (RS256, ES256, ES384). */
function signatureOk(parts: string[], alg: string, key: KeyObject): boolean {
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], "base64url");
  const hash = alg === "ES384" ? "sha384" : "sha256";
  return alg.startsWith("ES")
    ? verify(hash, input, { key, dsaEncoding: "ieee-p1363" }, sig)
    : verify(hash, input, key, sig);
}
