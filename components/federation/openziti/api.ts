/**
 * A small typed client for the OpenZiti Edge Management API (openziti/edge-api, management.yml):
 * password authentication (`POST /authenticate?method=password` → `zt-session` token), one
 * re-authentication on 401, errors with the API's code and message and the HTTP status, the
 * controller's CA bundle honoured for TLS. Neither password nor session token ever appears in an
 * error message or a log line.
 *
 * Written as plain functions: the dynamic provider that uses them is serialized by Pulumi.
 */
import * as http from "node:http";
import * as https from "node:https";

/** How to reach and log in to a controller. */
export interface ZitiConnection {
  /** Controller base URL, e.g. `https://ziti.example.com:1280`. */
  controllerUrl: string;
  /** Admin user name (updb). */
  username: string;
  /** Its password. */
  password: string;
  /** PEM bundle that signs the controller's certificate, when not publicly trusted. */
  caPem?: string;
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

/** An API error: HTTP status, the API's error code and message. */
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

interface RawResponse {
  status: number;
  text: string;
}

function send(
  conn: ZitiConnection,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  const url = new URL(`${conn.controllerUrl.replace(/\/+$/, "")}/edge/management/v1${path}`);
  const lib = url.protocol === "http:" ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method,
        headers: { accept: "application/json", ...headers },
        ca: conn.caPem || undefined,
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`OpenZiti ${method} ${path}: timed out`)));
    req.on("error", (e) => reject(new Error(`OpenZiti ${method} ${path}: ${e.message}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function parse(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function apiError(method: string, path: string, res: RawResponse): ZitiApiError {
  const err = parse(res.text).error as { code?: string; message?: string } | undefined;
  return new ZitiApiError(
    method,
    path,
    res.status,
    err?.code ?? "UNKNOWN",
    err?.message ?? (res.text.slice(0, 200) || "no body"),
  );
}

/** Logs in with the connection's user name and password; stores the session token. */
export async function authenticate(session: ZitiSession): Promise<void> {
  const path = "/authenticate?method=password";
  const { username, password } = session.connection;
  const res = await send(
    session.connection,
    "POST",
    path,
    { "content-type": "application/json" },
    JSON.stringify({ username, password }),
  );
  if (res.status !== 200) throw apiError("POST", path, res);
  const token = (parse(res.text).data as { token?: string } | undefined)?.token;
  if (!token) throw new ZitiApiError("POST", path, res.status, "NO_TOKEN", "no session token");
  session.token = token;
}

/**
 * One API call with the session token; re-authenticates once on 401. Returns the parsed body;
 * throws {@link ZitiApiError} on any other non-2xx status.
 */
export async function call(
  session: ZitiSession,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload =
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  for (let attempt = 0; ; attempt++) {
    if (!session.token) await authenticate(session);
    const headers: Record<string, string> = { "zt-session": session.token as string };
    if (payload !== undefined) headers["content-type"] = contentType;
    const res = await send(session.connection, method, path, headers, payload);
    if (res.status === 401 && attempt === 0) {
      session.token = undefined;
      continue;
    }
    if (res.status < 200 || res.status > 299) throw apiError(method, path, res);
    return { status: res.status, body: parse(res.text) };
  }
}

/** Creates an entity; returns its id. */
export async function createEntity(
  session: ZitiSession,
  kind: ZitiKind,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await call(session, "POST", `/${ZITI_PATHS[kind]}`, body);
  const id = (res.body.data as { id?: string } | undefined)?.id;
  if (!id) throw new Error(`OpenZiti POST /${ZITI_PATHS[kind]}: no id in the response`);
  return id;
}

/** Reads an entity; `undefined` when it no longer exists. */
export async function getEntity(
  session: ZitiSession,
  kind: ZitiKind,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await call(session, "GET", `/${ZITI_PATHS[kind]}/${encodeURIComponent(id)}`);
    return res.body.data as Record<string, unknown>;
  } catch (e) {
    if (e instanceof ZitiApiError && e.status === 404) return undefined;
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
    if (!(e instanceof ZitiApiError && e.status === 404)) throw e;
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
