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

/**
 * What the hardened client saw of an SDK's calls: the last failure (its message: the call and the
 * fault, redacted) or the last status. An SDK rewraps both (MSAL's `network_error`, gaxios's
 * "Error code undefined" for a 500), so the exchange reads the cause from here.
 */
export interface TransportLog {
  /** The last call's failure (deadline, lost response, cut-off or oversized body). */
  failure?: string;
  /** The last answer's HTTP status. */
  status?: number;
}

/** What a call adds to the hardened client's defaults. */
interface SendOptions {
  /** Retry it like a GET (a read sent as POST). */
  idempotent?: boolean;
  /** The TLS client certificate to present (mTLS). */
  clientCert?: { certPem: string; keyPem: string };
}

/** One call through the hardened client, noted in `log`; a body that is not text is refused. */
async function send(
  ctx: VerifyContext,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  log: TransportLog = {},
  extra: SendOptions = {},
) {
  if (!METHODS.includes(method)) throw new Error(`method ${method} is not supported`);
  if (body !== undefined && body !== null && typeof body !== "string") {
    throw new Error("only text request bodies are supported");
  }
  try {
    const res = await call(ctx, method as Method, url, headers, body ?? undefined, extra);
    Object.assign(log, { failure: undefined, status: res.status });
    return res;
  } catch (e) {
    Object.assign(log, { failure: e instanceof Error ? e.message : String(e), status: undefined });
    throw e;
  }
}

function call(
  ctx: VerifyContext,
  method: Method,
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  { idempotent, clientCert }: SendOptions,
) {
  return httpRequest({
    method,
    url,
    headers,
    body,
    caPem: ctx.caPem,
    clientCert,
    deadlineMs: ctx.deadlineMs,
    attemptTimeoutMs: Math.min(15_000, ctx.deadlineMs),
    secrets: ctx.secrets,
    ...(idempotent === undefined ? {} : { idempotent }),
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

/** An `HttpClient` for `@azure/identity` (its `httpClient` option), noting its calls in `log`. */
export function azureHttpClient(ctx: VerifyContext, log?: TransportLog): HttpClient {
  return {
    sendRequest: async (request: PipelineRequest): Promise<PipelineResponse> => {
      const res = await send(
        ctx,
        request.method,
        request.url,
        request.headers.toJSON(),
        request.body,
        log,
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

/** A `fetch` for gaxios (google-auth-library's `fetchImplementation`), noting calls in `log`. */
export function hardenedFetch(ctx: VerifyContext, log?: TransportLog): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    let body: unknown = init?.body;
    if (body instanceof URLSearchParams) body = body.toString();
    // gaxios passes its own options along with the fetch's: an mTLS agent among them.
    const agent = (init as { agent?: unknown } | undefined)?.agent;
    const res = await send(ctx, (init?.method ?? "GET").toUpperCase(), url, headers, body, log, {
      clientCert: agentCertificate(agent),
    });
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

/** A request as the AWS SDK v3 (`@smithy/types` `HttpRequest`) hands it to its handler. */
export interface AwsSdkRequest {
  /** `https:` (or `http:` to loopback, tests). */
  protocol: string;
  /** Host name. */
  hostname: string;
  /** Port, when not the protocol's. */
  port?: number;
  /** Path. */
  path: string;
  /** Query parameters. */
  query?: Record<string, string | string[] | null>;
  /** Method. */
  method: string;
  /** Headers. */
  headers: Record<string, string>;
  /** Body (the SDK's query and JSON protocols serialize to a string). */
  body?: unknown;
}

/** A response as the AWS SDK reads it from its handler (`@smithy/types` `HttpResponse`). */
export interface AwsSdkResponse {
  /** HTTP status. */
  statusCode: number;
  /** Headers, names in lower case. */
  headers: Record<string, string>;
  /** The body's bytes. */
  body: Uint8Array;
}

/** The URL of an AWS SDK request. */
function awsUrl(r: AwsSdkRequest): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(r.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, one ?? "");
  }
  const query = q.toString();
  return `${r.protocol}//${r.hostname}${r.port ? `:${r.port}` : ""}${r.path}${query ? `?${query}` : ""}`;
}

/**
 * Whether an AWS query-protocol call only reads: a form whose `Action` is `Get…` or `List…`
 * (IAM's and STS's query protocol POSTs every call, reads included).
 */
export function awsQueryRead(body: unknown): boolean {
  return typeof body === "string" && /(^|&)Action=(Get|List)[A-Z]/.test(body);
}

/**
 * A `requestHandler` for the AWS SDK v3 clients (IAM, STS): each request through the hardened
 * client (deadline, size limit, `--ca-file`, redaction). A read (GET, or a query `Get…`/`List…`
 * POST) is retried by the hardened client (bounded, so give the client `maxAttempts: 1`); any
 * other POST (STS's AssumeRoleWithWebIdentity) is never repeated by it.
 */
export function awsRequestHandler(ctx: VerifyContext): {
  handle(request: AwsSdkRequest): Promise<{ response: AwsSdkResponse }>;
  updateHttpClientConfig(): void;
  httpHandlerConfigs(): Record<string, never>;
} {
  return {
    handle: async (request) => {
      const body =
        request.body instanceof Uint8Array ? Buffer.from(request.body).toString() : request.body;
      // AWS's query APIs answer JSON to `accept: application/json` (the hardened client's
      // default), which the SDK's XML parser cannot read: let the service pick its own format.
      const sent: Record<string, string> = { accept: "*/*" };
      for (const [k, v] of Object.entries(request.headers)) sent[k.toLowerCase()] = v;
      const read = request.method === "GET" || awsQueryRead(body);
      const res = await send(
        ctx,
        request.method,
        awsUrl(request),
        sent,
        body,
        {},
        { idempotent: read || undefined },
      );
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      }
      return {
        response: { statusCode: res.status, headers, body: new Uint8Array(Buffer.from(res.text)) },
      };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}

/**
 * The FAIL of a token exchange that the transport ended, or undefined when `service` answered
 * (its error is the caller's to map): no complete answer (the POST is not repeated), or a 5xx.
 */
export function transportFailure(
  log: TransportLog,
  service: string,
): { reason: string; fix: string } | undefined {
  if (log.failure !== undefined) {
    return {
      reason: `no complete answer from ${service}: ${log.failure}`,
      fix: `nothing about the token is known: check the network path to ${service} (proxy, firewall, --ca-file), then run verify again`,
    };
  }
  if (log.status !== undefined && log.status >= 500) {
    return {
      reason: `${service} failed with HTTP ${log.status}`,
      fix: `a failure on ${service}'s side, not the token's: run verify again later`,
    };
  }
  return undefined;
}
