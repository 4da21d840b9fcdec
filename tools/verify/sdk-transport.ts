/**
 * The relying parties' own SDKs (`@azure/identity`, `google-auth-library`) run the token
 * exchanges as the workload would, but every request they make goes through the package's
 * hardened client (deadline, size limit, `--ca-file` trust, redaction): an `HttpClient` for
 * Azure's core pipeline and a `fetch` for Google's gaxios (which also presents the client
 * certificate of the mTLS agent google-auth-library's X.509 source makes). Both SDKs are optional peers of the
 * package: without them the exchange is a SKIP that says what to install.
 */
import type {
  HttpClient,
  HttpHeaders,
  PipelineRequest,
  PipelineResponse,
} from "@azure/core-rest-pipeline";
import * as https from "node:https";
import { httpRequest } from "../../components/http/client";
import type { CheckResult, VerifyContext } from "./types";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** The headers of a response as `@azure/core-rest-pipeline`'s `HttpHeaders` reads them. */
class Headers2 implements HttpHeaders {
  private readonly map = new Map<string, string>();
  constructor(raw: Record<string, string | string[] | undefined>) {
    for (const [k, v] of Object.entries(raw)) {
      if (v !== undefined) this.map.set(k.toLowerCase(), Array.isArray(v) ? v.join(", ") : v);
    }
  }
  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase());
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string | number | boolean): void {
    this.map.set(name.toLowerCase(), String(value));
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

/** One call through the hardened client; a body that is not text is refused. */
async function send(
  ctx: VerifyContext,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  clientCert?: { certPem: string; keyPem: string },
) {
  if (!METHODS.includes(method)) throw new Error(`method ${method} is not supported`);
  if (body !== undefined && body !== null && typeof body !== "string") {
    throw new Error("only text request bodies are supported");
  }
  return httpRequest({
    method: method as Method,
    url,
    headers,
    body: body ?? undefined,
    caPem: ctx.caPem,
    clientCert,
    deadlineMs: ctx.deadlineMs,
    attemptTimeoutMs: Math.min(15_000, ctx.deadlineMs),
    secrets: ctx.secrets,
  });
}

/**
 * The client certificate of an `https.Agent` gaxios hands its fetch (google-auth-library's X.509
 * credential source makes one from the certificate configuration), or undefined.
 */
function agentCertificate(agent: unknown): { certPem: string; keyPem: string } | undefined {
  if (!(agent instanceof https.Agent)) return undefined;
  const { cert, key } = agent.options;
  const text = (v: unknown) =>
    typeof v === "string" ? v : Buffer.isBuffer(v) ? v.toString("utf8") : undefined;
  const certPem = text(cert);
  const keyPem = text(key);
  return certPem && keyPem ? { certPem, keyPem } : undefined;
}

/** An `HttpClient` for `@azure/identity` (its `httpClient` option). */
export function azureHttpClient(ctx: VerifyContext): HttpClient {
  return {
    sendRequest: async (request: PipelineRequest): Promise<PipelineResponse> => {
      const res = await send(
        ctx,
        request.method,
        request.url,
        request.headers.toJSON(),
        request.body,
      );
      return {
        request,
        status: res.status,
        headers: new Headers2(res.headers),
        bodyAsText: res.text,
      };
    },
  };
}

/** A `fetch` for gaxios (google-auth-library's `transporterOptions.fetchImplementation`). */
export function hardenedFetch(ctx: VerifyContext): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    let body: unknown = init?.body;
    if (body instanceof URLSearchParams) body = body.toString();
    // gaxios passes its own options along with the fetch's: an mTLS agent among them.
    const agent = (init as { agent?: unknown } | undefined)?.agent;
    const res = await send(
      ctx,
      (init?.method ?? "GET").toUpperCase(),
      url,
      headers,
      body,
      agentCertificate(agent),
    );
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
    }
    return new Response(res.text, { status: res.status, headers: h });
  };
}

/** Loads an optional SDK, or undefined when it is not installed. */
export async function optionalSdk<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}

/**
 * A bearer token for a cloud API: `envVar` when set, else what `fromChain` gets from the
 * ecosystem's credential chain; a SKIP naming `fix` when neither gives one. The token joins
 * `ctx.secrets`, so that no message prints it.
 */
export async function bearerToken(
  ctx: VerifyContext,
  party: string,
  envVar: string,
  fix: string,
  fromChain: (skip: (why: string) => CheckResult) => Promise<string | CheckResult>,
): Promise<string | CheckResult> {
  const skip = (why: string): CheckResult => ({
    check: party,
    party,
    name: "credentials",
    status: "SKIP",
    reason: why,
    fix,
  });
  const token = ctx.env[envVar] || (await fromChain(skip));
  if (typeof token === "string") ctx.secrets.push(token);
  return token;
}
