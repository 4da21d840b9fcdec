/**
 * The one hardened HTTP client of the package: every HTTP call it makes (the OpenZiti and Curity
 * dynamic providers, the Vault readiness gate) goes through {@link httpRequest}.
 *
 * What every call gets, and how:
 * - an overall deadline (retries and waits included) and a per-attempt timeout that also covers
 *   a body that drips in slowly: a timer per attempt destroys the request;
 * - a response size limit, checked against `content-length` and while reading;
 * - an error, never a success or a hang, when the body is cut off (reset, premature close,
 *   short `content-length`): Node's response `complete` flag decides;
 * - bounded retries where they are safe: transport failures of idempotent calls, 429/502/503/504
 *   of idempotent calls, 429/503 (not processed) of the others; `Retry-After` (seconds or
 *   HTTP date) honoured, exponential backoff with jitter otherwise; a wait that would pass the
 *   deadline is not started;
 * - messages that name the method and the URL without userinfo or query, and never a secret:
 *   each is passed through {@link redact} with the caller's secrets; bodies are never quoted.
 *
 * Written as plain functions and one error class, using nothing but Node built-ins imported as
 * namespaces: Pulumi serializes the dynamic providers that use it function by function, and
 * {@link clientScriptSource} embeds the same functions in scripts run by `node -e`.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { PeerCertificate } from "node:tls";

/** One HTTP call. */
export interface HttpRequest {
  /** HTTP method. */
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Absolute URL; `https:`, or `http:` to loopback only (tests). */
  url: string;
  /** Request headers; `accept: application/json` and `content-length` are added when absent. */
  headers?: Record<string, string>;
  /** The body, already serialized. */
  body?: string;
  /** Extra trust: a PEM bundle of CAs that may sign the server's certificate. */
  caPem?: string;
  /**
   * A client certificate for mutual TLS: the PEM chain (leaf first) and its private key (never
   * in a message). Default: none.
   */
  clientCert?: { certPem: string; keyPem: string };
  /** Overall deadline in ms for the whole call, retries and waits included. Default: 60000. */
  deadlineMs?: number;
  /** Timeout in ms of one attempt, from connecting to the last body byte. Default: 15000. */
  attemptTimeoutMs?: number;
  /** Largest response body in bytes; beyond it the call fails with "too-large". Default: 1 MiB. */
  maxBytes?: number;
  /** Extra attempts for retryable failures. Default: 3. */
  retries?: number;
  /** Whether the call may be repeated safely. Default: true for GET/PUT/DELETE, false otherwise. */
  idempotent?: boolean;
  /** Strings (passwords, tokens) to redact from every message. */
  secrets?: string[];
  /**
   * Replaces the host name check of the server's certificate (the chain is still verified against
   * `caPem`): an Error refuses the connection. SPIFFE's `https_spiffe` checks a SPIFFE ID instead.
   */
  serverIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** A complete response (any status). */
export interface HttpResponse {
  /** HTTP status. */
  status: number;
  /** Response headers, names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /** The body, decoded as UTF-8. */
  text: string;
  /** Method and URL (no userinfo, no query) of the call, for messages, e.g. `GET https://h/p`. */
  request?: string;
}

/** Why a call failed. */
export type HttpErrorKind =
  "timeout" | "network" | "aborted" | "too-large" | "status" | "malformed";

/** A failed call; the message names the method and URL and holds no secret. */
export class HttpError extends Error {
  /** What went wrong: no answer in time, no connection, a cut-off body, too big, a bad status, junk. */
  readonly kind: HttpErrorKind;
  /** The HTTP status, when a response head arrived. */
  readonly status?: number;
  constructor(kind: HttpErrorKind, message: string, status?: number) {
    super(message);
    this.name = "HttpError";
    this.kind = kind;
    this.status = status;
  }
}

/**
 * Replaces each secret (also JSON- and URL-encoded) and any URL userinfo in `s` with "[redacted]".
 * Redact before cutting a message to length: a cut secret is no longer found.
 *
 * Linear in `s`: one regular-expression pass over a single alternation. The userinfo branch
 * starts only where a run of scheme characters starts (the lookbehind refuses a start inside a
 * run), so each run is walked from one start, and `[^\s/?#@]*` cannot cross an `@` or another
 * URL's `/`; the secret branches are literals, each tried at a position in at most its length.
 * (The former scheme pattern restarted inside every run: quadratic on a long word.)
 */
export function redact(s: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret).add(JSON.stringify(secret).slice(1, -1)).add(encodeURIComponent(secret));
  }
  const literals = [...forms]
    .sort((a, b) => b.length - a.length)
    .map((f) => f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  const userinfo = "(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\\/\\/)(?:[^\\s/?#@]*@)+";
  const pattern = new RegExp([userinfo, ...literals].join("|"), "g");
  return s.replace(pattern, (_match: string, scheme: string | undefined) =>
    scheme === undefined ? "[redacted]" : `${scheme}[redacted]@`,
  );
}

/** `protocol//host/path` of a URL: no userinfo, no query, no fragment. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The wait a `Retry-After` value asks for, in ms (seconds or HTTP date); undefined if absent or invalid. */
export function retryAfterMs(
  value: string | string[] | undefined,
  nowMs: number,
): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/ GMT$/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Backoff before retry number `retry` (0-based): 250 ms doubling, capped at 8 s, half of it jitter. */
export function backoffMs(retry: number): number {
  const base = Math.min(8000, 250 * 2 ** retry);
  return base / 2 + (Math.random() * base) / 2;
}

/** Whether a status is worth another attempt: 429/502/503/504 when idempotent, else 429/503. */
export function retryableStatus(status: number, idempotent: boolean): boolean {
  return idempotent ? [429, 502, 503, 504].includes(status) : status === 429 || status === 503;
}

/** Milliseconds in words: `1.5 s`, `200 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}

/** One attempt: resolves with a complete response or rejects with an {@link HttpError}. */
export function sendOnce(
  req: HttpRequest,
  url: URL,
  label: string,
  timeoutMs: number,
  timeoutReason: string,
  maxBytes: number,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let status: number | undefined; // set once the response head arrives
    let received = 0;
    // Declared before the closures that use them: Pulumi's closure serializer (dynamic
    // providers) refuses a function whose closures name a variable declared further down.
    let timer: NodeJS.Timeout | undefined = undefined;
    let request: http.ClientRequest | undefined = undefined;
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    if (req.body !== undefined && !Object.keys(headers).some((h) => /^content-length$/i.test(h))) {
      headers["content-length"] = String(Buffer.byteLength(req.body));
    }
    const lib = url.protocol === "http:" ? http : https;
    const fail = (kind: HttpErrorKind, what: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      reject(new HttpError(kind, `${label}: ${what}`, status));
    };
    const cut = (why: string): void =>
      fail("aborted", `HTTP ${status} body cut off after ${received} bytes (${why})`);
    request = lib.request(
      url,
      {
        method: req.method,
        headers,
        ca: req.caPem || undefined,
        cert: req.clientCert?.certPem,
        key: req.clientCert?.keyPem,
        agent: false,
        // Explicit: NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment must not switch it off.
        rejectUnauthorized: true,
        ...(req.serverIdentity ? { checkServerIdentity: req.serverIdentity } : {}),
      },
      (res) => {
        status = res.statusCode ?? 0;
        const declared = Number(res.headers["content-length"]);
        if (declared > maxBytes) {
          fail(
            "too-large",
            `HTTP ${status} body of ${declared} bytes exceeds the limit of ${maxBytes}`,
          );
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) {
            fail("too-large", `HTTP ${status} body exceeds the limit of ${maxBytes} bytes`);
          } else {
            chunks.push(chunk);
          }
        });
        res.on("error", (e) => cut(e.message));
        res.on("close", () => {
          if (!res.complete) cut("connection closed early");
        });
        res.on("end", () => {
          if (!res.complete) {
            cut("connection closed early");
            return;
          }
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            status: status ?? 0,
            headers: { ...res.headers },
            text: Buffer.concat(chunks).toString("utf8"),
            request: label,
          });
        });
      },
    );
    request.on("error", (e) => {
      if (status !== undefined) cut(e.message);
      else if (e.message === "socket hang up") {
        fail("network", "no response: the connection closed (socket hang up)");
      } else fail("network", e.message);
    });
    timer = setTimeout(
      () =>
        fail(
          "timeout",
          status === undefined
            ? timeoutReason
            : `${timeoutReason} while reading the body (${received} bytes)`,
        ),
      timeoutMs,
    );
    request.end(req.body);
  });
}

/**
 * Makes the call; see the module comment. Non-2xx statuses are returned, not thrown (a retryable
 * status is returned once the retries or the deadline run out). Throws {@link HttpError} with
 * kind "timeout", "network", "aborted" or "too-large"; a non-idempotent call is never repeated
 * after it may have reached the server, so its caller decides (e.g. adopts what it created).
 */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const secrets = req.secrets ?? [];
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new HttpError("network", `${req.method}: the URL is not valid`);
  }
  const label = `${req.method} ${displayUrl(url)}`;
  const loopback = url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new HttpError(
      "network",
      redact(`${label}: only https URLs are allowed (http on loopback only)`, secrets),
    );
  }
  const deadlineMs = req.deadlineMs ?? 60_000;
  const attemptTimeoutMs = req.attemptTimeoutMs ?? 15_000;
  const maxBytes = req.maxBytes ?? 1024 * 1024;
  const retries = req.retries ?? 3;
  const idempotent = req.idempotent ?? ["GET", "PUT", "DELETE"].includes(req.method);
  const deadlineAt = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadlineAt - Date.now();
    const byDeadline = remaining <= attemptTimeoutMs;
    const reason = byDeadline
      ? `no complete answer within the deadline of ${formatMs(deadlineMs)}`
      : `no complete answer within ${formatMs(attemptTimeoutMs)} (attempt timeout)`;
    const tries = attempt === 1 ? "" : ` (${attempt} attempts)`;
    let res: HttpResponse | undefined;
    let err: HttpError | undefined;
    try {
      res = await sendOnce(
        req,
        url,
        label,
        Math.max(1, Math.min(remaining, attemptTimeoutMs)),
        reason,
        maxBytes,
      );
      if (!retryableStatus(res.status, idempotent) || attempt > retries) return res;
    } catch (e) {
      err = e instanceof HttpError ? e : new HttpError("network", `${label}: ${String(e)}`);
      const retryable = idempotent && err.kind !== "too-large";
      if (!retryable || attempt > retries || (err.kind === "timeout" && byDeadline)) {
        const refused = err.kind === "network" && err.message.includes("ECONNREFUSED");
        const notRetried =
          !idempotent && !refused
            ? `; not retried: a ${req.method} may have been processed, check before repeating it`
            : "";
        throw new HttpError(
          err.kind,
          redact(err.message + tries + notRetried, secrets),
          err.status,
        );
      }
    }
    const asked = res ? retryAfterMs(res.headers["retry-after"], Date.now()) : undefined;
    const wait = asked ?? backoffMs(attempt - 1);
    if (Date.now() + wait >= deadlineAt) {
      if (res) return res;
      const last = err as HttpError;
      throw new HttpError(
        last.kind,
        redact(
          `${last.message}${tries}; no retry: the deadline of ${formatMs(deadlineMs)} would pass`,
          secrets,
        ),
        last.status,
      );
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * The parsed JSON body of a 2xx response. Throws {@link HttpError} "status" for any other status
 * and "malformed" for a body that is not JSON: junk is never taken for an answer (nor for "not
 * found"). `what` names the call in the message, e.g. `OpenZiti identity list`.
 */
export function parseJson(res: HttpResponse, what: string): unknown {
  const call = res.request ? `${what}: ${res.request}` : what;
  if (res.status < 200 || res.status > 299) {
    throw new HttpError("status", `${call}: HTTP ${res.status}`, res.status);
  }
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    const type = res.headers["content-type"];
    throw new HttpError(
      "malformed",
      `${call}: HTTP ${res.status} body is not JSON (${Buffer.byteLength(res.text)} bytes${type ? `, ${String(type)}` : ""})`,
      res.status,
    );
  }
}

/**
 * This module as a self-contained script fragment for `node -e`: the Node built-ins it uses,
 * then the source of each of its functions and its error class. Call it on the compiled module
 * (bin/, what Pulumi runs); a test checks that every top-level declaration is included.
 */
export function clientScriptSource(): string {
  const parts: { toString(): string }[] = [
    HttpError,
    redact,
    displayUrl,
    retryAfterMs,
    backoffMs,
    retryableStatus,
    formatMs,
    sendOnce,
    httpRequest,
    parseJson,
    contentTypeOf,
  ];
  return [
    'const http = require("node:http");',
    'const https = require("node:https");',
    ...parts.map((p) => p.toString()),
  ].join("\n");
}

/**
 * An answer's content type for an error message: control characters replaced, at most 100
 * characters, `none` when absent (callers redact the whole message).
 */
export function contentTypeOf(res: HttpResponse): string {
  const t = res.headers["content-type"];
  const text = (Array.isArray(t) ? t.join(", ") : t) ?? "none";
  return text.replace(/[\u0000-\u001f\u007f]/g, "?").slice(0, 100);
}
