/**
 * A local OpenZiti Edge Management API on 127.0.0.1 for the provider tests, held to the
 * published contract (test/contracts/openziti: edge-api `management.yml`, carried subset):
 *
 * - routing, path and query parameters, consumed media types and request bodies come from the
 *   spec; a body that fails its definition is the controller's 400 COULD_NOT_VALIDATE with the
 *   field in `error.cause` (closed: an unknown field is refused too, see contract.ts);
 * - every response is shaped as the spec's envelopes (`{data, meta}`, `apiErrorEnvelope`,
 *   `createEnvelope`, `empty`) and *checked* against the spec's response schema before it is
 *   sent: a mismatch is recorded in {@link ZitiTestController.violations}, which the tests
 *   require to stay empty (so the double cannot drift from the contract);
 * - behaviour follows the controller (openziti/ziti): identities are created with type
 *   `Default` and read with `type` as an entity reference and `typeId` the string
 *   (identity_api_model.go); names are unique per entity type, as are a signer's issuer and an
 *   identity's externalId, a duplicate being 400 COULD_NOT_VALIDATE with the boltz message
 *   (base_router.go, responder.go); `POST /cas/{id}/verify` follows ca_router.go: 409
 *   CA_ALREADY_VERIFIED once verified, INVALID_COMMON_NAME, CERTIFICATE_FAILED_VALIDATION
 *   (signature, issuer and validity period); lists take ZitiQL `filter` equality terms joined
 *   by `and` (`name="x"`), anything else being 400 INVALID_FILTER; a body of the wrong media
 *   type reaches go-openapi's 415, which the controller's ServeError turns into 500 UNHANDLED.
 *
 * {@link ZitiTestController.handle} is the whole API as one function of a request, so the same
 * controller runs behind its own HTTPS server ({@link ZitiTestController.start}) or as the
 * handler of test/support/fault-server.ts, whose faults then spoil its real answers (a lost
 * response after a create has really created the entity).
 */
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import {
  bodyProblems,
  findOperation,
  queryProblems,
  responseProblems,
  ZITI_SPEC,
  type ZitiOperation,
} from "../contracts/openziti/contract";
import {
  ApiError,
  collectionOf,
  COULD_NOT_VALIDATE,
  entityDetail,
  identityTypeId,
  merge,
  NOT_FOUND,
  parseFilter,
  STORE_NAMES,
  UNIQUE,
  verifyCa,
  type StoredEntity,
  type ZitiCollection,
  type ZitiReply,
  type ZitiRequest,
  type ZitiStore,
} from "./controller-model";

export {
  parseFilter,
  type StoredEntity,
  type ZitiCollection,
  type ZitiReply,
  type ZitiRequest,
} from "./controller-model";

/** An external JWT signer body as the component sends it, for tests. */
export const SIGNER_BODY = {
  name: "spire-jwt",
  enabled: true,
  issuer: "https://oidc.example.com",
  audience: "openziti",
  jwksEndpoint: "https://oidc.example.com/keys",
  claimsProperty: "sub",
  useExternalId: true,
};

/** Statuses the controller answers that its spec does not list (each with its source). */
export const UNDOCUMENTED_STATUSES = [
  // controller/internal/routes/ca_router.go: apierror.NewCaAlreadyVerified() (409)
  "POST /cas/{id}/verify 409",
  // go-openapi 415 through controller/env/helpers.go ServeError: errorz.NewUnhandled (500)
  "POST /cas/{id}/verify 500",
];

const META = { apiVersion: ZITI_SPEC.info.version, apiEnrollmentVersion: "0.0.1" };
const BASE = ZITI_SPEC.basePath;

/** The fake controller. */
export class ZitiTestController {
  /** Stored entities by collection and id. */
  readonly store: ZitiStore = {
    cas: new Map(),
    identities: new Map(),
    "external-jwt-signers": new Map(),
    "auth-policies": new Map(),
  };
  /** Every request: method and path with query (no bodies: they may hold the password). */
  readonly log: string[] = [];
  /** Every answered operation: `METHOD template status`, e.g. `POST /cas 201`. */
  readonly answered: string[] = [];
  /** Responses that did not match the spec's response schema (must stay empty). */
  readonly violations: string[] = [];
  private readonly sessions = new Set<string>();
  private server?: Server;
  url = "";

  constructor(
    private readonly creds: { keyPem: string; certPem: string },
    private readonly user = { username: "admin", password: "s3cret-admin-pw" },
  ) {
    const now = new Date().toISOString();
    // What every controller has from its first start: the default auth policy and the admin.
    this.store["auth-policies"].set("default", {
      id: "default",
      createdAt: now,
      updatedAt: now,
      tags: {},
      name: "Default",
      primary: {
        cert: { allowed: true, allowExpiredCerts: true },
        extJwt: { allowed: true, allowedSigners: [] },
        updb: {
          allowed: true,
          minPasswordLength: 5,
          requireSpecialChar: false,
          requireNumberChar: false,
          requireMixedCase: false,
          maxAttempts: 5,
          lockoutDurationMinutes: 0,
        },
      },
      secondary: { requireTotp: false, requireExtJwtSigner: null },
    });
    this.store.identities.set("default-admin", {
      id: "default-admin",
      createdAt: now,
      updatedAt: now,
      tags: {},
      name: "Default Admin",
      typeId: "Default",
      isAdmin: true,
      isDefaultAdmin: true,
      roleAttributes: [],
      authPolicyId: "default",
      externalId: null,
    });
  }

  /** Serves {@link handle} over HTTPS on 127.0.0.1 (a free port); sets {@link url}. */
  async start(): Promise<void> {
    this.server = createServer({ key: this.creds.keyPem, cert: this.creds.certPem }, (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        const reply = this.handle({
          method: req.method ?? "",
          path: req.url ?? "/",
          headers: req.headers,
          body,
        });
        res.writeHead(reply.status, reply.headers).end(reply.body);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server!.closeAllConnections();
    return new Promise((r) => this.server!.close(() => r()));
  }

  /** Forgets every session: the next call gets 401 and must re-authenticate. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** The API: one request in, one answer out (checked against the spec, see the module doc). */
  handle(req: ZitiRequest): ZitiReply {
    const url = new URL(req.path, "https://controller.invalid");
    this.log.push(`${req.method} ${url.pathname}${url.search}`);
    if (!url.pathname.startsWith(BASE)) return this.fail(undefined, NOT_FOUND());
    const found = findOperation(req.method, url.pathname.slice(BASE.length));
    if ("status" in found) {
      return this.fail(
        undefined,
        found.status === 404
          ? NOT_FOUND()
          : new ApiError(
              405,
              "METHOD_NOT_ALLOWED",
              "The resource requested does not support this HTTP verb",
            ),
      );
    }
    const { op, pathParams } = found;
    try {
      if (op.secured) {
        const token = req.headers["zt-session"];
        if (typeof token !== "string" || !this.sessions.has(token)) {
          throw new ApiError(
            401,
            "UNAUTHORIZED",
            "The request could not be completed. The session is not authorized or the credentials are invalid",
          );
        }
      }
      const queryProblem = queryProblems(op, url.searchParams)[0];
      if (queryProblem) throw COULD_NOT_VALIDATE(queryProblem);
      const body = this.body(op, req);
      const result = this.dispatch(op, pathParams[0], body, url.searchParams);
      return this.reply(op, result.status, result.payload, result.headers);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return this.fail(op, e);
    }
  }

  private reply(
    op: ZitiOperation | undefined,
    status: number,
    payload: unknown,
    headers: Record<string, string> = {},
  ): ZitiReply {
    if (op) {
      this.answered.push(`${op.method} ${op.template} ${status}`);
      this.violations.push(...responseProblems(op, status, payload, UNDOCUMENTED_STATUSES));
    }
    return {
      status,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(payload),
    };
  }

  private fail(op: ZitiOperation | undefined, e: ApiError): ZitiReply {
    const error: Record<string, unknown> = {
      code: e.code,
      message: e.message,
      requestId: randomUUID(),
    };
    if (e.details) error.cause = e.details;
    return this.reply(op, e.status, { error, meta: META });
  }

  /** The request body: media type and syntax checked, validated against the definition. */
  private body(op: ZitiOperation, req: ZitiRequest): unknown {
    if (op.method === "GET" || op.method === "DELETE") return undefined;
    const type = String(req.headers["content-type"] ?? "")
      .split(";")[0]
      .trim();
    if (!op.consumes.includes(type)) {
      throw new ApiError(500, "UNHANDLED", "An unhandled error occurred");
    }
    let body: unknown = req.body;
    if (type === "application/json") {
      try {
        body = JSON.parse(req.body);
      } catch {
        throw new ApiError(
          400,
          "COULD_NOT_PARSE_BODY",
          "The body of the request could not be parsed",
        );
      }
    }
    const problem = bodyProblems(op, body)[0];
    if (problem) throw COULD_NOT_VALIDATE(problem);
    return body;
  }

  private dispatch(
    op: ZitiOperation,
    id: string | undefined,
    body: unknown,
    query: URLSearchParams,
  ): { status: number; payload: unknown; headers?: Record<string, string> } {
    if (op.operationId === "authenticate") return this.authenticate(body, query);
    const collection = collectionOf(op);
    if (!collection) throw new Error(`ziti-server: no handler for ${op.operationId}`);
    const store = this.store[collection];
    if (op.method === "GET" && id === undefined) return this.list(collection, query);
    if (op.method === "POST" && id === undefined) {
      return this.create(collection, body as Record<string, unknown>);
    }
    const entity = store.get(id ?? "");
    if (!entity) throw NOT_FOUND();
    if (op.operationId === "verifyCa") return verifyCa(entity, String(body));
    if (op.method === "GET") {
      return {
        status: 200,
        payload: { data: entityDetail(this.store, collection, entity), meta: {} },
      };
    }
    if (op.method === "PATCH") {
      const patch = body as Record<string, unknown>;
      this.checkUnique(collection, patch, entity.id);
      const { type, ...rest } = patch;
      merge(entity, rest);
      if (collection === "identities" && type !== undefined) entity.typeId = identityTypeId(type);
      entity.updatedAt = new Date().toISOString();
      return { status: 200, payload: { data: {}, meta: {} } };
    }
    store.delete(entity.id);
    return { status: 200, payload: { data: {}, meta: {} } };
  }

  private authenticate(body: unknown, query: URLSearchParams) {
    const b = body as { username?: string; password?: string };
    if (
      query.get("method") !== "password" ||
      b.username !== this.user.username ||
      b.password !== this.user.password
    ) {
      throw new ApiError(401, "INVALID_AUTH", "The authentication request failed");
    }
    const token = randomUUID();
    this.sessions.add(token);
    const now = new Date();
    const data = {
      id: randomUUID(),
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      _links: { self: { href: "./current-api-session" } },
      tags: {},
      token,
      identity: {
        _links: { self: { href: "./identities/default-admin" } },
        entity: "identities",
        id: "default-admin",
        name: "Default Admin",
      },
      identityId: "default-admin",
      authenticatorId: "default-admin-updb",
      configTypes: [],
      ipAddress: "127.0.0.1",
      authQueries: [],
      cachedUpdatedAt: now.toISOString(),
      isMfaRequired: false,
      isMfaComplete: false,
      isCertExtendable: false,
      expiresAt: new Date(now.getTime() + 1800_000).toISOString(),
      expirationSeconds: 1800,
    };
    return { status: 200, payload: { data, meta: {} }, headers: { "zt-session": token } };
  }

  private list(collection: ZitiCollection, query: URLSearchParams) {
    const filter = query.get("filter");
    const terms = filter === null || filter.trim() === "" ? [] : parseFilter(filter);
    if (terms === undefined) {
      throw new ApiError(400, "INVALID_FILTER", "The filter query supplied is invalid");
    }
    const limit = Number(query.get("limit") ?? 10);
    const offset = Number(query.get("offset") ?? 0);
    const all = [...this.store[collection].values()]
      .map((e) => entityDetail(this.store, collection, e))
      .filter((d) =>
        terms.every((t) => {
          const v = t.field
            .split(".")
            .reduce<unknown>(
              (o, k) =>
                o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined,
              d,
            );
          return ((v ?? null) === t.value) !== t.negate;
        }),
      );
    return {
      status: 200,
      payload: {
        data: all.slice(offset, offset + limit),
        meta: { pagination: { limit, offset, totalCount: all.length }, filterableFields: [] },
      },
    };
  }

  /** A duplicate in a unique index, as the controller reports it. */
  private checkUnique(collection: ZitiCollection, body: Record<string, unknown>, self?: string) {
    for (const field of UNIQUE[collection]) {
      const v = body[field];
      if (typeof v !== "string") continue;
      for (const other of this.store[collection].values()) {
        if (other.id !== self && other[field] === v) {
          throw COULD_NOT_VALIDATE({
            field,
            reason: `duplicate value '${v}' in unique index on ${STORE_NAMES[collection]} store`,
            value: v,
          });
        }
      }
    }
  }

  private create(collection: ZitiCollection, body: Record<string, unknown>) {
    this.checkUnique(collection, body);
    const now = new Date().toISOString();
    const id = randomUUID().replace(/-/g, "").slice(0, 10);
    const entity: StoredEntity = { ...structuredClone(body), id, createdAt: now, updatedAt: now };
    if (collection === "cas") {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(String(body.certPem));
      } catch {
        throw COULD_NOT_VALIDATE({
          field: "certPem",
          reason: "could not parse PEM",
          value: String(body.certPem).slice(0, 64),
        });
      }
      if (!cert.ca) {
        throw new ApiError(400, "CERTIFICATE_IS_NOT_CA", "Leading certificate is not a CA");
      }
      Object.assign(entity, {
        isVerified: false,
        verificationToken: randomUUID(),
        fingerprint: createHash("sha1").update(cert.raw).digest("hex"),
        identityNameFormat: body.identityNameFormat ?? "[caName]-[commonName]",
      });
    }
    if (collection === "identities") {
      // MapCreateIdentityToModel: every identity made through the API is of type Default.
      delete entity.type;
      entity.typeId = "Default";
      entity.isDefaultAdmin = false;
      entity.authPolicyId = body.authPolicyId ?? "default";
    }
    this.store[collection].set(id, entity);
    return {
      status: 201,
      payload: { data: { id, _links: { self: { href: `./${collection}/${id}` } } }, meta: {} },
    };
  }
}
