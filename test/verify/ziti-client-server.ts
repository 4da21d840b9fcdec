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
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";
import { parse } from "yaml";
import { makeAjv } from "../contracts/openziti/contract";
import type { StoredEntity, ZitiTestController } from "../openziti/server";

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
  /** `https://127.0.0.1:<port>`. */
  url = "";
  private server?: Server;

  constructor(
    private readonly controller: ZitiTestController,
    private readonly tls: { keyPem: string; certPem: string },
    private readonly jwks: (url: string) => Record<string, unknown>[] | undefined,
  ) {}

  /** Starts the HTTPS server (client certificates requested, judged per request). */
  async start(): Promise<void> {
    this.server = createServer(
      {
        key: this.tls.keyPem,
        cert: this.tls.certPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (c: string) => (body += c));
        req.on("end", () => {
          const url = new URL(req.url ?? "/", "https://controller.invalid");
          let reply: { status: number; headers: Record<string, string>; body: string };
          if (url.pathname === `${CLIENT_SPEC.basePath}/authenticate` && req.method === "POST") {
            reply = this.authenticate(url, req.headers, body, req.socket as TLSSocket);
          } else {
            reply = this.controller.handle({
              method: req.method ?? "",
              path: req.url ?? "/",
              headers: req.headers,
              body,
            });
            this.refresh();
          }
          res.writeHead(reply.status, reply.headers).end(reply.body);
        });
      },
    );
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.refresh();
  }

  /** Stops it. */
  stop(): Promise<void> {
    this.server!.closeAllConnections();
    return new Promise((r) => this.server!.close(() => r()));
  }

  /** Trusts the certificates of the active CAs for new connections (the controller's trust cache). */
  refresh(): void {
    const anchors = this.activeCas().map((c) => String(c.certPem));
    this.server?.setSecureContext({
      key: this.tls.keyPem,
      cert: this.tls.certPem,
      ca: anchors.length > 0 ? anchors : [this.tls.certPem],
    });
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
    socket: TLSSocket,
  ) {
    const method = url.searchParams.get("method") ?? "";
    const chain = peerChain(socket);
    const auth = String(headers.authorization ?? "");
    const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
    const record: ZitiAuthentication = {
      method,
      bearer,
      chainVerified: chain.length > 0 && socket.authorized,
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
    const r = method === "cert" ? this.cert(socket, chain) : this.extJwt(bearer);
    record.status = r.status;
    return r;
  }

  private cert(socket: TLSSocket, chain: X509Certificate[]) {
    const invalid = () => this.refuse("INVALID_AUTH", "The authentication request failed");
    if (chain.length === 0 || !socket.authorized) return invalid();
    // OpenSSL verified the chain against the active CAs; Node exposes the leaf only, so the CA is
    // the one that issued the leaf, else the only active one (the tests have one).
    const active = this.activeCas();
    const ca =
      active.find((c) => chain[0].checkIssued(new X509Certificate(String(c.certPem)))) ??
      (active.length === 1 ? active[0] : undefined);
    const claim = (ca?.externalIdClaim ?? null) as Record<string, unknown> | null;
    let externalId: string | undefined;
    if (claim?.location === "SAN_URI") {
      const uris = [...(chain[0].subjectAltName ?? "").matchAll(/URI:([^,\s]+)/g)].map((m) => m[1]);
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

/** The certificates the client presented, leaf first. */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c = socket.getPeerCertificate(true);
  while (c && c.raw && out.length < 10) {
    out.push(new X509Certificate(c.raw));
    if (!c.issuerCertificate || c.issuerCertificate === c) break;
    c = c.issuerCertificate;
  }
  return out;
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
