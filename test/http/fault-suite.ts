/**
 * The hardened HTTP client's fault suites share this: the scriptable loopback server
 * (test/support/fault-server.ts) with a small default API (POST /things creates, GET
 * /things?name= lists, GET /doc answers a document), reset before each test; the request the
 * tests vary; and how a call failed and how long it took.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { HttpError, httpRequest, type HttpRequest } from "../../components/http/client";
import { startFaultServer, type FaultServer, type RecordedRequest } from "../support/fault-server";

/** The HttpError a call throws (fails the test if it resolves or throws anything else). */
export async function failure(req: HttpRequest): Promise<HttpError> {
  try {
    const res = await httpRequest(req);
    throw new Error(`expected an HttpError, got HTTP ${res.status}`);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return e;
  }
}

/** Runs `f` and returns its result and how long it took in ms. */
export async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const value = await f();
  return [value, Date.now() - started];
}

/** What a suite uses; `server` is set by the suite's `beforeAll`. */
export interface FaultSuite {
  server: FaultServer;
  /** Entities created through the default handler (POST /things), by name. */
  things: Map<string, unknown>;
  /** The default API, to put behind another fault server (TLS). */
  handler: (req: RecordedRequest) => { status: number; body: string };
  /** GET /doc with small deadlines, changed by `over`. */
  get: (over?: Partial<HttpRequest>) => HttpRequest;
}

/** Registers the hooks (inside a describe) that start, reset and stop the server. */
export function useFaultSuite(): FaultSuite {
  const things = new Map<string, unknown>();
  const handler = (req: RecordedRequest) => {
    if (req.method === "POST" && req.path === "/things") {
      const body = JSON.parse(req.body) as { name: string };
      things.set(body.name, body);
      return { status: 201, body: JSON.stringify({ data: { id: body.name } }) };
    }
    if (req.method === "GET" && req.path.startsWith("/things?name=")) {
      const name = decodeURIComponent(req.path.slice("/things?name=".length));
      return {
        status: 200,
        body: JSON.stringify({ data: things.has(name) ? [{ id: name }] : [] }),
      };
    }
    if (req.method === "GET" && req.path === "/doc") {
      return { status: 200, body: JSON.stringify({ issuer: "x", padding: "y".repeat(200) }) };
    }
    return { status: 404, body: "{}" };
  };
  const suite: FaultSuite = {
    server: undefined as unknown as FaultServer,
    things,
    handler,
    get: (over: Partial<HttpRequest> = {}): HttpRequest => ({
      method: "GET",
      url: `${suite.server.url}/doc`,
      deadlineMs: 3000,
      attemptTimeoutMs: 1000,
      ...over,
    }),
  };
  beforeAll(async () => {
    suite.server = await startFaultServer({ handler });
  });
  afterAll(() => suite.server.close());
  beforeEach(() => {
    suite.server.reset();
    things.clear();
  });
  return suite;
}
