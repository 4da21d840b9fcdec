/**
 * A small client of the Curity Identity Server's RESTCONF API (the admin service, RFC 8040 on
 * Tail-f ConfD): `<adminUrl>/admin/api/restconf/data`, `application/yang-data+json` both ways,
 * HTTP Basic authentication with the admin user.
 *
 * Every call goes through the package's hardened HTTP client (components/http/client.ts): an
 * overall deadline, a per-attempt timeout, a size limit, an error on a cut-off body, bounded
 * retries of idempotent calls (GET, PUT, DELETE, and the trust store actions, which replace what
 * they store) honouring `Retry-After`. Errors carry the method, the data path, the status and
 * RESTCONF's `error-tag` and `error-message` (from `ietf-restconf:errors`); the password and the
 * Basic credentials never appear in a message.
 *
 * Written as plain functions and one error class: the dynamic provider that uses them is
 * serialized by Pulumi.
 */
import {
  contentTypeOf,
  HttpError,
  httpRequest,
  parseJson,
  redact,
  type HttpResponse,
} from "../../http/client";
import { CURITY_RESTCONF_PATH, YANG_JSON } from "./rules";

/** How to reach and log in to Curity's admin service. */
export interface CurityConnection {
  /** Admin base URL, e.g. `https://curity-admin.example.com:6749`. */
  adminUrl: string;
  /** Admin user. */
  username: string;
  /** Its password. */
  password: string;
  /** PEM bundle that signs the admin service's certificate, when not publicly trusted. */
  caPem?: string;
  /** Bounds of each call; the shared client's defaults when unset. */
  limits?: {
    /** Overall deadline of a call in ms, retries included. */
    deadlineMs?: number;
    /** Timeout of one attempt in ms. */
    attemptTimeoutMs?: number;
    /** Largest answer in bytes. */
    maxBytes?: number;
    /** Extra attempts for retryable failures. */
    retries?: number;
  };
}

/** An answer of the API that is not what was asked for: HTTP status and RESTCONF's error. */
export class CurityApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** RESTCONF `error-tag`, e.g. `invalid-value`, `data-exists`, `access-denied`. */
  readonly tag: string;
  constructor(message: string, status: number, tag: string) {
    super(message);
    this.name = "CurityApiError";
    this.status = status;
    this.tag = tag;
  }
}

/** A key value in a RESTCONF URI: percent-encoded (RFC 8040 §3.5.3; `,` `/` `:` included). */
export function restconfKey(value: string): string {
  return encodeURIComponent(value);
}

const PROFILE_AS = (profile: string) =>
  `base:profiles/profile=${restconfKey(profile)},oauth-service/settings/profile-oauth:authorization-server`;

/** Data paths (below `/admin/api/restconf/data/`) of what this package manages or reads. */
export const curityPaths = {
  /** A config-backed OAuth client of a token profile. */
  client: (profile: string, id: string) =>
    `${PROFILE_AS(profile)}/client-store/config-backed/client=${restconfKey(id)}`,
  /**
   * The profile's mappings of a client assertion's `sub` to a client id: the container, never an
   * entry (its key is a SPIFFE ID, whose `/` would be `%2F` in the URL, which Jetty 12 refuses).
   */
  clientIdMappings: (profile: string) =>
    `${PROFILE_AS(profile)}/client-authentication/using-jwt/client-id-mappings`,
  /** The profile's scopes (a client's `scope` is a leafref to them; read only). */
  scopes: (profile: string) => `${PROFILE_AS(profile)}/scopes`,
  /** The profile's allowed asymmetric algorithms for client assertions (read only). */
  signatureAlgorithms: (profile: string) =>
    `${PROFILE_AS(profile)}/client-authentication/asymmetrically-signed-jwt`,
  /** A client trust store entry (CAs that may sign client certificates). */
  clientTrustStore: (id: string) =>
    `base:facilities/crypto/ssl/client-truststore/client-certificate=${restconfKey(id)}`,
  /** A server trust store entry (CAs Curity trusts as a TLS client). */
  serverTrustStore: (id: string) =>
    `base:facilities/crypto/ssl/server-truststore/server-certificate=${restconfKey(id)}`,
  /** An HTTP client facility. */
  httpClient: (id: string) => `base:facilities/http/client=${restconfKey(id)}`,
  /** The action that adds (or replaces) a client trust store entry. */
  addClientTrustStore: "base:facilities/crypto/add-ssl-client-truststore",
  /** The action that adds (or replaces) a server trust store entry. */
  addServerTrustStore: "base:facilities/crypto/add-ssl-server-truststore",
} as const;

/** Module-qualified JSON member of each list entry (RFC 7951: the top member names its module). */
export const CURITY_MEMBERS = {
  client: "profile-oauth:client",
  clientIdMappings: "profile-oauth:client-id-mappings",
  scopes: "profile-oauth:scopes",
  signatureAlgorithms: "profile-oauth:asymmetrically-signed-jwt",
  clientTrustStore: "base:client-certificate",
  serverTrustStore: "base:server-certificate",
  httpClient: "base:client",
} as const;

/** The HTTP methods of RESTCONF this client uses. */
type Method = "GET" | "PUT" | "PATCH" | "POST" | "DELETE";

/** The secrets of a connection, in every form a message could show them. */
function secretsOf(conn: CurityConnection): string[] {
  const basic = Buffer.from(`${conn.username}:${conn.password}`).toString("base64");
  return [conn.password, basic];
}

/** One RESTCONF call; any status is returned (retryable ones after the retries). */
export async function restconf(
  conn: CurityConnection,
  method: Method,
  path: string,
  body?: unknown,
  opts: { idempotent?: boolean } = {},
): Promise<HttpResponse> {
  const secrets = secretsOf(conn);
  const headers: Record<string, string> = {
    accept: YANG_JSON,
    authorization: `Basic ${secrets[1]}`,
  };
  if (body !== undefined) headers["content-type"] = YANG_JSON;
  return httpRequest({
    method,
    url: `${conn.adminUrl.replace(/\/+$/, "")}${CURITY_RESTCONF_PATH}/${path}`,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    caPem: conn.caPem,
    secrets,
    idempotent: opts.idempotent,
    ...conn.limits,
  });
}

/** The first error of an `ietf-restconf:errors` body, if the body is one. */
function restconfError(text: string): { tag?: string; message?: string } {
  try {
    const v = JSON.parse(text) as {
      "ietf-restconf:errors"?: { error?: { "error-tag"?: unknown; "error-message"?: unknown }[] };
    };
    const e = v["ietf-restconf:errors"]?.error?.[0];
    return {
      tag: typeof e?.["error-tag"] === "string" ? e["error-tag"] : undefined,
      message: typeof e?.["error-message"] === "string" ? e["error-message"] : undefined,
    };
  } catch {
    return {};
  }
}

/** The error for an answer with an unexpected status, with RESTCONF's tag and message. */
export function apiError(
  conn: CurityConnection,
  what: string,
  method: string,
  path: string,
  res: HttpResponse,
  hint?: string,
): CurityApiError {
  const { tag, message } = restconfError(res.text);
  const detail =
    tag === undefined
      ? " (no RESTCONF error body)"
      : ` ${tag}${message ? `: ${redact(message, secretsOf(conn)).slice(0, 300)}` : ""}`;
  const auth = res.status === 401 ? "; check curity.username and curity.password" : "";
  return new CurityApiError(
    redact(
      `Curity ${what}: ${method} ${path}: HTTP ${res.status}${detail}${auth}${hint ? `; ${hint}` : ""}`,
      secretsOf(conn),
    ),
    res.status,
    tag ?? "",
  );
}

/**
 * A 404 that says the node is gone: RESTCONF's own error body (`application/yang-data+json`,
 * `ietf-restconf:errors`). A 404 of anything else (a proxy's HTML page) is an error.
 */
function isGone(res: HttpResponse): boolean {
  const type = contentTypeOf(res).split(";")[0].trim().toLowerCase();
  return res.status === 404 && type === YANG_JSON && restconfError(res.text).tag !== undefined;
}

/** For a 404 that is not {@link isGone}: what it was instead. */
function notGone(res: HttpResponse): string | undefined {
  return res.status === 404
    ? `not RESTCONF's own 404 (content-type ${contentTypeOf(res)}), so not taken as deleted: check curity.adminUrl and any proxy in front of it`
    : undefined;
}

/** Rewrites a transport error of the shared client with what was being done. */
function transportError(conn: CurityConnection, what: string, e: unknown): Error {
  if (e instanceof HttpError) {
    return new HttpError(e.kind, redact(`Curity ${what}: ${e.message}`, secretsOf(conn)), e.status);
  }
  return e instanceof Error ? e : new Error(String(e));
}

async function call(
  conn: CurityConnection,
  what: string,
  method: Method,
  path: string,
  body?: unknown,
  opts?: { idempotent?: boolean },
): Promise<HttpResponse> {
  try {
    return await restconf(conn, method, path, body, opts);
  } catch (e) {
    throw transportError(conn, what, e);
  }
}

/**
 * Reads one list entry (or container) at `path`, answered as `{"<member>": [entry]}` (or
 * `{"<member>": {...}}`); `undefined` on 404 (RESTCONF's "uri keypath not found"). Junk, a
 * missing member or a cut-off body is an error, never "not found".
 */
export async function getEntry(
  conn: CurityConnection,
  what: string,
  path: string,
  member: string,
): Promise<Record<string, unknown> | undefined> {
  const res = await call(conn, what, "GET", path);
  if (isGone(res)) return undefined;
  if (res.status !== 200) throw apiError(conn, what, "GET", path, res, notGone(res));
  const doc = parseJson(res, `Curity ${what}`);
  const value = (doc as Record<string, unknown> | null)?.[member];
  const entry: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new HttpError(
      "malformed",
      `Curity ${what}: GET ${path}: HTTP 200 answer has no ${member} entry`,
      200,
    );
  }
  return entry as Record<string, unknown>;
}

/**
 * Writes a data node: PUT creates or replaces it (RFC 8040 §4.5: 201, 204), PATCH merges into it
 * (§4.6.1, plain patch: 204). Both are retried like idempotent calls (repeating them stores the
 * same data). `value` is the node's content: `[entry]` for a list entry, an object for a container.
 */
export async function writeNode(
  conn: CurityConnection,
  what: string,
  method: "PUT" | "PATCH",
  path: string,
  member: string,
  value: unknown,
): Promise<void> {
  const res = await call(conn, what, method, path, { [member]: value }, { idempotent: true });
  if (res.status === 404) {
    throw apiError(
      conn,
      what,
      method,
      path,
      res,
      "what it belongs to does not exist (a client's: the token profile)",
    );
  }
  if (res.status < 200 || res.status > 299) throw apiError(conn, what, method, path, res);
}

/** Deletes one entry; one already gone (404) is fine. */
export async function deleteEntry(
  conn: CurityConnection,
  what: string,
  path: string,
): Promise<void> {
  const res = await call(conn, what, "DELETE", path);
  if (isGone(res)) return;
  if (res.status < 200 || res.status > 299) {
    throw apiError(conn, what, "DELETE", path, res, notGone(res));
  }
}

/**
 * Runs a trust store action with Curity's flat input `{id, keystore}` (as Curity's own SPIFFE
 * trust sidecar sends it). The action stores the entry under `id`, replacing one that exists,
 * so repeating it is safe: it is retried like an idempotent call.
 */
export async function runTrustStoreAction(
  conn: CurityConnection,
  what: string,
  path: string,
  input: { id: string; keystore: string },
): Promise<void> {
  const res = await call(conn, what, "POST", path, input, { idempotent: true });
  if (res.status < 200 || res.status > 299) throw apiError(conn, what, "POST", path, res);
}
