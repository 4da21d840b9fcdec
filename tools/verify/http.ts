/**
 * The verify checks' one way to the network: GETs and POSTs through the package's hardened
 * client (`components/http/client.ts`) with the run's extra trust, deadline and secrets, and
 * each failure turned into one sentence that names the call and the likely cause.
 */
import { HttpError, httpRequest, parseJson, redact } from "../../components/http/client";
import type { CheckResult, VerifyContext } from "./types";

/** A JSON answer, or why there is none. */
export type JsonAnswer = { ok: true; status: number; json: unknown } | { ok: false; why: string };

/** Why a TLS failure happened, in the user's words, or undefined when it is not one. */
function tlsCause(message: string): string | undefined {
  if (/self[- ]signed|unable to (get|verify)|certificate|CERT_|UNABLE_TO/i.test(message)) {
    return "the server's TLS certificate is not trusted";
  }
  if (/altname|Hostname\/IP does not match/i.test(message)) {
    return "the server's TLS certificate does not name this host";
  }
  return undefined;
}

/** Options of one call. */
export interface CallOptions {
  /** Request headers. */
  headers?: Record<string, string>;
  /** Body (JSON text or a form), for POST. */
  body?: string;
  /** Statuses that are answers, not failures (e.g. 400 for a login's error body). */
  accept?: number[];
  /** A client certificate for mutual TLS (the workload's X509-SVID and key). */
  clientCert?: { certPem: string; keyPem: string };
  /** A POST that only reads (e.g. Google's `getIamPolicy`): retried like a GET. */
  idempotent?: boolean;
}

/** A JSON answer with its headers (for challenges such as `WWW-Authenticate`). */
export type JsonAnswerWithHeaders =
  | {
      ok: true;
      status: number;
      json: unknown;
      headers: Record<string, string | string[] | undefined>;
    }
  | { ok: false; why: string };

/**
 * Calls `url` and parses its JSON body. `what` names the call in messages. Never throws: a
 * transport failure, a status outside 2xx and `accept`, or junk becomes `{ ok: false, why }`.
 */
export async function callJson(
  ctx: VerifyContext,
  method: "GET" | "POST",
  url: string,
  what: string,
  opts: CallOptions = {},
): Promise<JsonAnswerWithHeaders> {
  try {
    const res = await httpRequest({
      method,
      url,
      headers: opts.headers,
      body: opts.body,
      idempotent: opts.idempotent,
      caPem: ctx.caPem,
      clientCert: opts.clientCert,
      deadlineMs: ctx.deadlineMs,
      attemptTimeoutMs: Math.min(15_000, ctx.deadlineMs),
      secrets: ctx.secrets,
    });
    const headers = res.headers;
    if (opts.accept?.includes(res.status)) {
      try {
        return { ok: true, status: res.status, json: JSON.parse(res.text) as unknown, headers };
      } catch {
        return { ok: true, status: res.status, json: undefined, headers };
      }
    }
    return { ok: true, status: res.status, json: parseJson(res, what), headers };
  } catch (e) {
    const message = redact(e instanceof Error ? e.message : String(e), ctx.secrets);
    const cause = e instanceof HttpError && e.kind === "network" ? tlsCause(message) : undefined;
    return { ok: false, why: cause ? `${cause} (${message})` : message };
  }
}

/** A GET of a JSON document. */
export function getJson(
  ctx: VerifyContext,
  url: string,
  what: string,
  opts: CallOptions = {},
): Promise<JsonAnswer> {
  return callJson(ctx, "GET", url, what, opts);
}

/** Whether a value is a plain object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value as the user reads it in a message: JSON, or `(none)` when absent. */
export function shown(v: unknown): string {
  return v === undefined || v === null || v === "" ? "(none)" : JSON.stringify(v);
}

/**
 * The POST of a token exchange the workload makes: its answer (status, JSON object, headers), or
 * the FAIL `r` that names the transport failure with `reachFix`.
 */
export async function exchangePost(
  ctx: VerifyContext,
  r: Pick<CheckResult, "check" | "party" | "name" | "workload">,
  url: string,
  what: string,
  opts: CallOptions,
  reachFix: string,
): Promise<
  | {
      status: number;
      body: Record<string, unknown>;
      headers: Record<string, string | string[] | undefined>;
    }
  | CheckResult
> {
  const res = await callJson(ctx, "POST", url, what, opts);
  if (!res.ok) return { ...r, status: "FAIL", reason: res.why, fix: reachFix };
  return { status: res.status, body: isRecord(res.json) ? res.json : {}, headers: res.headers };
}
