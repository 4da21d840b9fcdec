/**
 * The OpenZiti controller's model as the test controller (test/openziti/server.ts) keeps it:
 * the wire types, the stored entities and their unique indexes, the controller's error answers,
 * the ZitiQL filter subset, each entity's wire shape (the spec's `*Detail`), CA verification
 * and PATCH semantics, each from the controller's source (openziti/ziti) as cited.
 */
import { X509Certificate } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { ZitiFieldProblem, ZitiOperation } from "../contracts/openziti/contract";

/** A request as the server saw it (the fault server's RecordedRequest). */
export interface ZitiRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Headers, names in lower case. */
  headers: IncomingHttpHeaders;
  /** The body as text. */
  body: string;
}

/** An answer (the fault server's Reply). */
export interface ZitiReply {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Record<string, string>;
  /** The body. */
  body: string;
}

/** A stored entity: the fields the controller keeps (not the wire shape). */
export type StoredEntity = Record<string, unknown> & { id: string };

/** The collections this double serves, as in the API paths. */
export type ZitiCollection = "cas" | "identities" | "external-jwt-signers" | "auth-policies";

/** The stored entities by collection and id. */
export type ZitiStore = Record<ZitiCollection, Map<string, StoredEntity>>;

/** Store names in the controller's unique-index messages (controller/db/base_entity.go). */
export const STORE_NAMES: Record<ZitiCollection, string> = {
  cas: "cas",
  identities: "identities",
  "external-jwt-signers": "externalJwtSigners",
  "auth-policies": "authPolicies",
};

/** Unique fields per collection (controller/db/*_store.go); nullable ones allow many nulls. */
export const UNIQUE: Record<ZitiCollection, string[]> = {
  cas: ["name"],
  identities: ["name", "externalId"],
  "external-jwt-signers": ["name", "issuer"],
  "auth-policies": ["name"],
};

const COLLECTIONS: Record<string, ZitiCollection> = {
  Ca: "cas",
  Identity: "identities",
  ExternalJwtSigner: "external-jwt-signers",
  ExternalJwtSigners: "external-jwt-signers",
  AuthPolicy: "auth-policies",
  AuthPolicies: "auth-policies",
  Cas: "cas",
  Identities: "identities",
};

/** The collection of an operation, from its operationId (`createCa`, `listIdentities`, …). */
export function collectionOf(op: ZitiOperation): ZitiCollection | undefined {
  const noun = op.operationId.replace(/^(list|create|detail|patch|delete|verify)/, "");
  return COLLECTIONS[noun];
}

/** An error answer of the controller (thrown inside the double, sent as `apiErrorEnvelope`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** 404 NOT_FOUND, as the controller words it. */
export const NOT_FOUND = () =>
  new ApiError(404, "NOT_FOUND", "The resource requested was not found or is no longer available");
/** 400 COULD_NOT_VALIDATE with the field in `cause` (responder.go). */
export const COULD_NOT_VALIDATE = (p: ZitiFieldProblem) =>
  new ApiError(
    400,
    "COULD_NOT_VALIDATE",
    "The supplied request contains an invalid document or no valid accept content were available, see cause",
    { field: p.field, reason: p.reason, value: p.value },
  );

/** A ZitiQL term: `field = "string"`, `field = true|false`, `field = null`. */
export interface FilterTerm {
  field: string;
  value: string | boolean | null;
  negate: boolean;
}

/** Parses the ZitiQL subset the double supports; undefined when the filter is not in it. */
export function parseFilter(filter: string): FilterTerm[] | undefined {
  const term =
    /^\s*([A-Za-z][A-Za-z_]*(?:\.[A-Za-z][A-Za-z_-]*)*)\s*(!?=)\s*("(?:\\["\\fnrt]|[^"\\\u0000-\u001f])*"|true|false|null)\s*/i;
  const terms: FilterTerm[] = [];
  let rest = filter;
  for (;;) {
    const m = term.exec(rest);
    if (!m) return undefined;
    const raw = m[3];
    const value = raw.startsWith('"')
      ? raw
          .slice(1, -1)
          .replace(
            /\\(["\\fnrt])/g,
            (_x, c: string) => ({ f: "\f", n: "\n", r: "\r", t: "\t" })[c] ?? c,
          )
      : raw.toLowerCase() === "null"
        ? null
        : raw.toLowerCase() === "true";
    terms.push({ field: m[1], value, negate: m[2] === "!=" });
    rest = rest.slice(m[0].length);
    if (rest === "") return terms;
    const and = /^and\s+/i.exec(rest);
    if (!and) return undefined;
    rest = rest.slice(and[0].length);
  }
}

/** The wire shape of a stored entity (the spec's `*Detail`). */
export function entityDetail(
  store: ZitiStore,
  collection: ZitiCollection,
  e: StoredEntity,
): Record<string, unknown> {
  const base = {
    id: e.id,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    _links: { self: { href: `./${collection}/${e.id}` } },
    tags: e.tags ?? {},
  };
  if (collection === "cas") {
    const out: Record<string, unknown> = {
      ...base,
      name: e.name,
      certPem: e.certPem,
      fingerprint: e.fingerprint,
      isVerified: e.isVerified,
      verificationToken: e.verificationToken,
      isAutoCaEnrollmentEnabled: e.isAutoCaEnrollmentEnabled,
      isOttCaEnrollmentEnabled: e.isOttCaEnrollmentEnabled,
      isAuthEnabled: e.isAuthEnabled,
      identityRoles: e.identityRoles,
      identityNameFormat: e.identityNameFormat,
    };
    if (e.externalIdClaim) out.externalIdClaim = e.externalIdClaim;
    return out;
  }
  if (collection === "identities") {
    const policy = store["auth-policies"].get(String(e.authPolicyId));
    return {
      ...base,
      name: e.name,
      type: {
        _links: { self: { href: `./identity-types/${String(e.typeId)}` } },
        entity: "identity-types",
        id: e.typeId,
        name: e.typeId,
      },
      typeId: e.typeId,
      isAdmin: e.isAdmin,
      isDefaultAdmin: e.isDefaultAdmin ?? false,
      authenticators: {},
      enrollment: {},
      envInfo: {},
      sdkInfo: {},
      roleAttributes: e.roleAttributes ?? [],
      hasEdgeRouterConnection: false,
      edgeRouterConnectionStatus: "offline",
      hasApiSession: false,
      isMfaEnabled: false,
      serviceHostingPrecedences: {},
      serviceHostingCosts: {},
      defaultHostingCost: 0,
      defaultHostingPrecedence: "default",
      appData: {},
      authPolicyId: e.authPolicyId,
      authPolicy: policy && {
        _links: { self: { href: `./auth-policies/${policy.id}` } },
        entity: "auth-policies",
        id: policy.id,
        name: policy.name,
      },
      externalId: e.externalId ?? null,
      disabled: false,
      permissions: [],
    };
  }
  if (collection === "external-jwt-signers") {
    return {
      ...base,
      name: e.name,
      enabled: e.enabled,
      issuer: e.issuer,
      audience: e.audience,
      certPem: e.certPem ?? null,
      jwksEndpoint: e.jwksEndpoint ?? null,
      fingerprint: "",
      commonName: "",
      notAfter: "0001-01-01T00:00:00.000Z",
      notBefore: "0001-01-01T00:00:00.000Z",
      externalAuthUrl: e.externalAuthUrl ?? "",
      claimsProperty: e.claimsProperty ?? "sub",
      useExternalId: e.useExternalId ?? false,
      kid: e.kid ?? "",
      clientId: e.clientId ?? "",
      scopes: e.scopes ?? [],
      targetToken: e.targetToken ?? "ACCESS",
    };
  }
  return { ...base, name: e.name, primary: e.primary, secondary: e.secondary };
}

/**
 * `POST /cas/{id}/verify` as ca_router.go answers it: the certificate must be PEM, its CN the
 * CA's verification token, issued and signed by the CA and valid now; marks the CA verified.
 */
export function verifyCa(ca: StoredEntity, pem: string) {
  if (ca.isVerified === true) {
    throw new ApiError(409, "CA_ALREADY_VERIFIED", "CA has already been verified");
  }
  const block = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem);
  if (!block) {
    throw new ApiError(400, "COULD_NOT_PARSE_BODY", "The body of the request could not be parsed");
  }
  if (block[1] !== "CERTIFICATE") {
    throw new ApiError(400, "EXPECTED_PEM_CERTIFICATE", "expected PEM block type 'CERTIFICATE'");
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pem);
  } catch {
    throw new ApiError(
      400,
      "COULD_NOT_PARSE_DER_BLOCK",
      "The certificate's DER block could not be parsed",
    );
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(leaf.subject)?.[1];
  if (cn !== ca.verificationToken) {
    throw new ApiError(
      400,
      "INVALID_COMMON_NAME",
      "The common name of the supplied certificate is invalid",
    );
  }
  const caCert = new X509Certificate(String(ca.certPem));
  const now = Date.now();
  if (
    !leaf.checkIssued(caCert) ||
    !leaf.verify(caCert.publicKey) ||
    now < Date.parse(leaf.validFrom) ||
    now > Date.parse(leaf.validTo)
  ) {
    throw new ApiError(
      400,
      "CERTIFICATE_FAILED_VALIDATION",
      "The supplied certificate failed to validate against the CA's certificate chain",
    );
  }
  ca.isVerified = true;
  ca.updatedAt = new Date().toISOString();
  return { status: 200, payload: { data: {}, meta: {} } };
}

/** The type an identity PATCH asks for, as the controller stores it. */
export function identityTypeId(type: unknown): string {
  return type === "Router" ? "Router" : "Default";
}

/** PATCH semantics: nested objects merge field by field, anything else replaces. */
export function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    const t = target[k];
    if (
      v !== null &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      t !== null &&
      typeof t === "object" &&
      !Array.isArray(t)
    ) {
      merge(t as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      target[k] = structuredClone(v);
    }
  }
}
