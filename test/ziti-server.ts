/**
 * A local OpenZiti Edge Management API on 127.0.0.1 for the provider tests, following the
 * openziti/edge-api documents: `/edge/management/v1` paths, password authentication issuing a
 * `zt-session` token, envelopes `{data, meta}` and `{error: {code, message}, meta}`, 201 on create
 * with `{data: {id, _links}}`, 404 NOT_FOUND, 401 UNAUTHORIZED, 400 COULD_NOT_VALIDATE for
 * missing required fields, and CA verification that checks the CN against the verification token
 * and the signature against the CA's certificate.
 */
import { randomUUID, X509Certificate, createHash } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Entity = Record<string, unknown> & { id: string };

const REQUIRED: Record<string, string[]> = {
  cas: [
    "name",
    "certPem",
    "isAutoCaEnrollmentEnabled",
    "isOttCaEnrollmentEnabled",
    "isAuthEnabled",
    "identityRoles",
  ],
  identities: ["name", "type", "isAdmin"],
  "external-jwt-signers": ["name", "enabled", "issuer", "audience"],
  "auth-policies": ["name", "primary", "secondary"],
};

const META = { apiVersion: "0.0.1", apiEnrollmentVersion: "0.0.1" };

/** The fake controller. */
export class ZitiTestController {
  readonly store: Record<string, Map<string, Entity>> = {
    cas: new Map(),
    identities: new Map(),
    "external-jwt-signers": new Map(),
    "auth-policies": new Map(),
  };
  /** Every request: method and path (no bodies: they may hold the password). */
  readonly log: string[] = [];
  private readonly sessions = new Set<string>();
  private server?: Server;
  url = "";

  constructor(
    private readonly creds: { keyPem: string; certPem: string },
    private readonly user = { username: "admin", password: "s3cret-admin-pw" },
  ) {}

  async start(): Promise<void> {
    this.server = createServer({ key: this.creds.keyPem, cert: this.creds.certPem }, (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => this.handle(req, body, res));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server!.close(() => r()));
  }

  /** Forgets every session: the next call gets 401 and must re-authenticate. */
  expireSessions(): void {
    this.sessions.clear();
  }

  private send(res: ServerResponse, status: number, payload: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(payload));
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    this.send(res, status, { error: { code, message, requestId: randomUUID() }, meta: META });
  }

  private handle(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "https://x");
    const path = url.pathname;
    this.log.push(`${req.method} ${path}${url.search}`);
    const base = "/edge/management/v1";
    if (!path.startsWith(base))
      return this.error(
        res,
        404,
        "NOT_FOUND",
        "The resource requested was not found or is no longer available",
      );
    const rest = path.slice(base.length).split("/").filter(Boolean);

    if (req.method === "POST" && rest[0] === "authenticate") {
      if (url.searchParams.get("method") !== "password")
        return this.error(res, 400, "INVALID_AUTH_METHOD", "unsupported method");
      const b = JSON.parse(raw || "{}") as { username?: string; password?: string };
      if (b.username !== this.user.username || b.password !== this.user.password) {
        return this.error(res, 401, "INVALID_AUTH", "The authentication request failed");
      }
      const token = randomUUID();
      this.sessions.add(token);
      return this.send(res, 200, {
        data: { id: randomUUID(), token, expiresAt: new Date(Date.now() + 1800_000).toISOString() },
        meta: META,
      });
    }

    const token = req.headers["zt-session"];
    if (typeof token !== "string" || !this.sessions.has(token)) {
      return this.error(
        res,
        401,
        "UNAUTHORIZED",
        "The request could not be completed. The session is not authorized or the credentials are invalid",
      );
    }
    const [collection, id, action] = rest;
    const store = this.store[collection];
    if (!store)
      return this.error(
        res,
        404,
        "NOT_FOUND",
        "The resource requested was not found or is no longer available",
      );

    if (req.method === "POST" && id === undefined) return this.create(collection, store, raw, res);
    if (req.method === "GET" && id === undefined) {
      const data = [...store.values()];
      return this.send(res, 200, {
        data,
        meta: { ...META, pagination: { limit: 10, offset: 0, totalCount: data.length } },
      });
    }
    const entity = id === undefined ? undefined : store.get(id);
    if (!entity)
      return this.error(
        res,
        404,
        "NOT_FOUND",
        "The resource requested was not found or is no longer available",
      );
    if (req.method === "POST" && collection === "cas" && action === "verify")
      return this.verify(entity, raw, req, res);
    if (req.method === "GET") return this.send(res, 200, { data: entity, meta: META });
    if (req.method === "PATCH") {
      Object.assign(entity, JSON.parse(raw || "{}"));
      return this.send(res, 200, { data: {}, meta: META });
    }
    if (req.method === "DELETE") {
      store.delete(entity.id);
      return this.send(res, 200, { data: {}, meta: META });
    }
    return this.error(res, 405, "METHOD_NOT_ALLOWED", "method not allowed");
  }

  private create(
    collection: string,
    store: Map<string, Entity>,
    raw: string,
    res: ServerResponse,
  ): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.error(
        res,
        400,
        "COULD_NOT_PARSE_BODY",
        "The body of the request could not be parsed",
      );
    }
    const missing = REQUIRED[collection].filter((k) => body[k] === undefined);
    if (missing.length > 0)
      return this.error(res, 400, "COULD_NOT_VALIDATE", `(root): ${missing[0]} is required`);
    const id = randomUUID().slice(0, 10);
    const entity: Entity = { ...body, id };
    if (collection === "cas") {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(String(body.certPem));
      } catch {
        return this.error(res, 400, "COULD_NOT_VALIDATE", "certPem: could not parse PEM");
      }
      const claim = body.externalIdClaim as Record<string, unknown> | undefined;
      if (
        claim &&
        claim.location === "SAN_URI" &&
        !["ALL", "SCHEME"].includes(String(claim.matcher))
      ) {
        return this.error(
          res,
          400,
          "COULD_NOT_VALIDATE",
          "externalIdClaim.matcher: SAN_URI supports ALL or SCHEME",
        );
      }
      Object.assign(entity, {
        isVerified: false,
        verificationToken: randomUUID().replace(/-/g, "").slice(0, 20),
        fingerprint: createHash("sha1").update(cert.raw).digest("hex"),
        identityNameFormat: "[caName] - [commonName]",
      });
    }
    if (collection === "external-jwt-signers") {
      for (const other of store.values()) {
        if (other.issuer === body.issuer)
          return this.error(res, 400, "COULD_NOT_VALIDATE", "issuer: must be unique");
      }
    }
    store.set(id, entity);
    this.send(res, 201, {
      data: { id, _links: { self: { href: `./${collection}/${id}` } } },
      meta: META,
    });
  }

  private verify(ca: Entity, raw: string, req: IncomingMessage, res: ServerResponse): void {
    if (!String(req.headers["content-type"]).startsWith("text/plain")) {
      return this.error(res, 415, "UNSUPPORTED_MEDIA_TYPE", "verify takes text/plain");
    }
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(raw);
    } catch {
      return this.error(res, 400, "CA_VERIFICATION_FAILED", "could not parse the certificate");
    }
    const caCert = new X509Certificate(String(ca.certPem));
    const cn = /CN=([^\n,]+)/.exec(leaf.subject)?.[1];
    if (cn !== ca.verificationToken) {
      return this.error(
        res,
        400,
        "CA_VERIFICATION_FAILED",
        "the common name does not match the verification token",
      );
    }
    if (!leaf.checkIssued(caCert) || !leaf.verify(caCert.publicKey)) {
      return this.error(
        res,
        400,
        "CA_VERIFICATION_FAILED",
        "the certificate is not signed by the CA",
      );
    }
    ca.isVerified = true;
    this.send(res, 200, { data: {}, meta: META });
  }
}
