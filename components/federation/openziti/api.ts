/**
 * A small typed client for the OpenZiti Edge Management API (openziti/edge-api, management.yml;
 * the subset used is carried in test/contracts/openziti): password authentication
 * (`POST /authenticate?method=password` → `zt-session` token), one re-authentication on 401,
 * errors with the API's code, message and cause and the HTTP status, the controller's CA bundle
 * honoured for TLS, lookup by unique name (`filter=name="…"`, ZitiQL).
 *
 * Every call goes through the package's hardened client (components/http/client.ts): an overall
 * deadline, a per-attempt timeout, a size limit, bounded retries of idempotent calls and of
 * 429/503, an error on a cut-off body. A 2xx whose body is not the JSON envelope is an error,
 * never "not found". Neither password nor session token ever appears in an error message, and a
 * controller URL with user info is refused (it would send and show the credentials).
 *
 * Written as plain functions: the dynamic provider that uses them is serialized by Pulumi.
 */
import {
  contentTypeOf,
  HttpError,
  httpRequest,
  parseJson,
  redact,
  type HttpResponse,
} from "../../http/client";

/** Limits of each API call; see components/http/client.ts. */
export interface ZitiCallLimits {
  /** Overall deadline of one call in ms, retries included. Default: 60000. */
  deadlineMs?: number;
  /** Timeout of one attempt in ms. Default: 15000. */
  attemptTimeoutMs?: number;
  /** Largest response body in bytes. Default: 4 MiB (a list of 500 identities fits). */
  maxBytes?: number;
  /** Extra attempts for retryable failures. Default: 3. */
  retries?: number;
}

/** How to reach and log in to a controller. */
export interface ZitiConnection {
  /** Controller base URL, e.g. `https://ziti.example.com:1280` (no user info, path or query). */
  controllerUrl: string;
  /** Admin user name (updb). */
  username: string;
  /** Its password. */
  password: string;
  /** PEM bundle that signs the controller's certificate, when not publicly trusted. */
  caPem?: string;
  /** Limits of each call. Default: see {@link ZitiCallLimits}. */
  limits?: ZitiCallLimits;
}

/** A logged-in session; `token` is filled on first use. */
export interface ZitiSession {
  /** The connection. */
  connection: ZitiConnection;
  /** The `zt-session` token, once authenticated. */
  token?: string;
}

/** The entity kinds this client manages, with their collection paths. */
export const ZITI_PATHS = {
  ca: "cas",
  identity: "identities",
  extJwtSigner: "external-jwt-signers",
  authPolicy: "auth-policies",
} as const;

/** An entity kind. */
export type ZitiKind = keyof typeof ZITI_PATHS;

/** An entity as the API returns it (the spec's `*Detail`). */
export type ZitiEntityData = Record<string, unknown> & { id: string };

/** An API error: HTTP status, the API's error code and message (and its cause, if any). */
export class ZitiApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The API's error code, e.g. `NOT_FOUND`, `COULD_NOT_VALIDATE`. */
  readonly code: string;
  constructor(method: string, path: string, status: number, code: string, message: string) {
    super(`OpenZiti ${method} ${path}: HTTP ${status} ${code}: ${message}`);
    this.name = "ZitiApiError";
    this.status = status;
    this.code = code;
  }
}

/** The base URL of the management API; refuses user info, which would leak the credentials. */
export function managementBase(controllerUrl: string): string {
  let url: URL;
  try {
    url = new URL(controllerUrl);
  } catch {
    throw new Error("OpenZiti: the controller URL is not a valid URL");
  }
  if (url.username || url.password) {
    throw new Error(
      "OpenZiti: the controller URL must not carry user info; give the user and password as username and password",
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}/edge/management/v1`;
}

/** The strings no message may show: the password and the session token. */
function secretsOf(session: ZitiSession): string[] {
  return [session.connection.password, session.token ?? ""].filter((s) => s.length > 0);
}

/** Text of a JSON value, cut to a readable length. */
function short(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

/** The API's error envelope as a {@link ZitiApiError} (never quoting a non-JSON body). */
function apiError(
  method: string,
  path: string,
  res: HttpResponse,
  secrets: string[],
): ZitiApiError {
  let err: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(res.text) as { error?: unknown };
    if (parsed.error !== null && typeof parsed.error === "object") {
      err = parsed.error as Record<string, unknown>;
    }
  } catch {
    err = undefined;
  }
  let message: string;
  if (err === undefined) {
    // A 404 without the API's envelope is not "gone" (e.g. a proxy's page): say what it was.
    const type = res.status === 404 ? `, content-type ${contentTypeOf(res)}` : "";
    message = `no API error in the body (${Buffer.byteLength(res.text)} bytes${type})`;
  } else {
    // Redacted before cut: a secret cut in half would no longer be found.
    const clear = (v: unknown) =>
      short(redact(typeof v === "string" ? v : JSON.stringify(v), secrets));
    message = clear(err.message ?? "no message");
    const cause = err.cause as Record<string, unknown> | undefined;
    if (cause !== null && typeof cause === "object") {
      const why = cause.reason ?? cause.message ?? cause.code;
      if (why !== undefined) {
        message += ` (${cause.field ? `${clear(cause.field)}: ` : ""}${clear(why)})`;
      }
    }
  }
  const code = typeof err?.code === "string" ? err.code : "UNKNOWN";
  return new ZitiApiError(method, path, res.status, short(redact(code, secrets)), message);
}

/**
 * A 404 that says the entity is gone: the API's own error envelope with code `NOT_FOUND`. A 404
 * of anything else (a proxy's HTML page, a wrong base path) is an error, never "deleted".
 */
function isGone(e: unknown): boolean {
  return e instanceof ZitiApiError && e.status === 404 && e.code === "NOT_FOUND";
}

/** One HTTP call to the management API, with the connection's trust and limits. */
function send(
  session: ZitiSession,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  path: string,
  headers: Record<string, string>,
  body?: string,
  idempotent?: boolean,
): Promise<HttpResponse> {
  const c = session.connection;
  return httpRequest({
    method,
    url: `${managementBase(c.controllerUrl)}${path}`,
    headers: { accept: "application/json", ...headers },
    body,
    caPem: c.caPem || undefined,
    deadlineMs: c.limits?.deadlineMs ?? 60_000,
    attemptTimeoutMs: c.limits?.attemptTimeoutMs ?? 15_000,
    maxBytes: c.limits?.maxBytes ?? 4 * 1024 * 1024,
    retries: c.limits?.retries ?? 3,
    idempotent,
    secrets: secretsOf(session),
  }).catch((e: unknown) => {
    if (e instanceof HttpError) throw new HttpError(e.kind, `OpenZiti ${e.message}`, e.status);
    throw e;
  });
}

/** The `data` of a 2xx JSON envelope; anything else is an {@link HttpError} "malformed". */
function envelopeData(res: HttpResponse, method: string, path: string): unknown {
  const parsed = parseJson(res, `OpenZiti ${method} ${path}`);
  if (parsed === null || typeof parsed !== "object" || !("data" in parsed)) {
    throw new HttpError(
      "malformed",
      `OpenZiti ${method} ${path}: HTTP ${res.status} body is not the API's {data, meta} envelope`,
      res.status,
    );
  }
  return parsed.data;
}

/** Logs in with the connection's user name and password; stores the session token. */
export async function authenticate(session: ZitiSession): Promise<void> {
  const path = "/authenticate?method=password";
  const { username, password } = session.connection;
  session.token = undefined;
  // A repeated login only opens another session: safe to retry.
  const res = await send(
    session,
    "POST",
    path,
    { "content-type": "application/json" },
    JSON.stringify({ username, password }),
    true,
  );
  if (res.status !== 200) throw apiError("POST", path, res, secretsOf(session));
  const data = envelopeData(res, "POST", path) as { token?: unknown } | null;
  const token = typeof data?.token === "string" ? data.token : undefined;
  if (!token) throw new ZitiApiError("POST", path, res.status, "NO_TOKEN", "no session token");
  session.token = token;
}

/**
 * One API call with the session token; re-authenticates once on 401. Returns the envelope's
 * `data`; throws {@link ZitiApiError} on any other non-2xx status and {@link HttpError} on a
 * transport failure or a 2xx that is not the JSON envelope.
 */
export async function call(
  session: ZitiSession,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<unknown> {
  const payload =
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  for (let attempt = 0; ; attempt++) {
    if (!session.token) await authenticate(session);
    const headers: Record<string, string> = { "zt-session": session.token as string };
    if (payload !== undefined) headers["content-type"] = contentType;
    // A PATCH sets fields to given values: repeating it changes nothing more.
    const res = await send(session, method, path, headers, payload, method !== "POST");
    if (res.status === 401 && attempt === 0) {
      session.token = undefined;
      continue;
    }
    if (res.status < 200 || res.status > 299) {
      throw apiError(method, path, res, secretsOf(session));
    }
    return envelopeData(res, method, path);
  }
}

/** An entity from the API, checked to be one (an object with an id). */
function entity(data: unknown, method: string, path: string): ZitiEntityData {
  if (
    data === null ||
    typeof data !== "object" ||
    typeof (data as { id?: unknown }).id !== "string"
  ) {
    throw new HttpError("malformed", `OpenZiti ${method} ${path}: the answer holds no entity`);
  }
  return data as ZitiEntityData;
}

/** A ZitiQL string literal: `"` and `\` escaped. */
export function zitiQlString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Finds an entity by its unique name; `undefined` when there is none. */
export async function findByName(
  session: ZitiSession,
  kind: ZitiKind,
  name: string,
): Promise<ZitiEntityData | undefined> {
  const path = `/${ZITI_PATHS[kind]}?filter=${encodeURIComponent(`name=${zitiQlString(name)}`)}&limit=2`;
  const data = await call(session, "GET", path);
  if (!Array.isArray(data)) {
    throw new HttpError("malformed", `OpenZiti GET /${ZITI_PATHS[kind]}: the answer is not a list`);
  }
  const found = data
    .map((d) => entity(d, "GET", `/${ZITI_PATHS[kind]}`))
    .filter((d) => d.name === name);
  if (found.length > 1) {
    throw new Error(`OpenZiti GET /${ZITI_PATHS[kind]}: ${found.length} entities named ${name}`);
  }
  return found[0];
}

/** Creates an entity; returns its id. */
export async function createEntity(
  session: ZitiSession,
  kind: ZitiKind,
  body: Record<string, unknown>,
): Promise<string> {
  const path = `/${ZITI_PATHS[kind]}`;
  return entity(await call(session, "POST", path, body), "POST", path).id;
}

/** Reads an entity; `undefined` when the API says it does not exist (its 404 `NOT_FOUND`). */
export async function getEntity(
  session: ZitiSession,
  kind: ZitiKind,
  id: string,
): Promise<ZitiEntityData | undefined> {
  const path = `/${ZITI_PATHS[kind]}/${encodeURIComponent(id)}`;
  try {
    return entity(await call(session, "GET", path), "GET", path);
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
}

/** Updates the given fields of an entity. */
export async function patchEntity(
  session: ZitiSession,
  kind: ZitiKind,
  id: string,
  body: Record<string, unknown>,
): Promise<void> {
  await call(session, "PATCH", `/${ZITI_PATHS[kind]}/${encodeURIComponent(id)}`, body);
}

/** Deletes an entity; an entity already gone is fine. */
export async function deleteEntity(
  session: ZitiSession,
  kind: ZitiKind,
  id: string,
): Promise<void> {
  try {
    await call(session, "DELETE", `/${ZITI_PATHS[kind]}/${encodeURIComponent(id)}`);
  } catch (e) {
    if (!isGone(e)) throw e;
  }
}

/**
 * Verifies a CA with a PEM certificate whose CN is the CA's verification token. A CA that is
 * already verified is done: the controller's 409 CA_ALREADY_VERIFIED counts as success.
 */
export async function verifyCa(
  session: ZitiSession,
  caId: string,
  certPem: string,
): Promise<"verified" | "already-verified"> {
  try {
    await call(session, "POST", `/cas/${encodeURIComponent(caId)}/verify`, certPem, "text/plain");
    return "verified";
  } catch (e) {
    if (e instanceof ZitiApiError && e.status === 409 && e.code === "CA_ALREADY_VERIFIED") {
      return "already-verified";
    }
    throw e;
  }
}
