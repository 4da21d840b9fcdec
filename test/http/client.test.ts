/**
 * The hardened HTTP client (components/http/client.ts): its pure helpers, then a fault suite
 * against the scriptable loopback server (test/support/fault-server.ts). Every fault ends in a
 * bounded, clear outcome: a response, or an HttpError of a stated kind whose message names the
 * call and holds no secret. Deadlines are small so that the suite stays quick.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  HttpError,
  httpRequest,
  parseJson,
  redact,
  retryAfterMs,
  retryableStatus,
  displayUrl,
  type HttpErrorKind,
  type HttpRequest,
  type HttpResponse,
} from "../../components/http/client";
import { startFaultServer, type FaultServer, type RecordedRequest } from "../support/fault-server";

/** The HttpError a call throws (fails the test if it resolves or throws anything else). */
async function failure(req: HttpRequest): Promise<HttpError> {
  try {
    const res = await httpRequest(req);
    throw new Error(`expected an HttpError, got HTTP ${res.status}`);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return e;
  }
}

/** Runs `f` and returns its result and how long it took in ms. */
async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const value = await f();
  return [value, Date.now() - started];
}

describe("redact", () => {
  it.each([
    ["password p@ss:w0rd in clear", ["p@ss:w0rd"], "password [redacted] in clear"],
    ['json {"password":"a\\"b"}', ['a"b'], 'json {"password":"[redacted]"}'],
    ["query ?pw=a%2Fb%20c", ["a/b c"], "query ?pw=[redacted]"],
    ["https://admin:pw@ziti.example:1280/x", [], "https://[redacted]@ziti.example:1280/x"],
    [
      "a https://tok@h/p and http://u:p@ss@h2",
      [],
      "a https://[redacted]@h/p and http://[redacted]@h2",
    ],
    ["token abc and abcdef", ["abc", "abcdef"], "token [redacted] and [redacted]"],
    ["nothing here", ["", "zzz"], "nothing here"],
  ])("%s", (input, secrets, expected) => {
    expect(redact(input, secrets)).toBe(expected);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  it.each([
    ["3", 3000],
    [" 0 ", 0],
    [["2", "9"], 2000],
    ["Wed, 01 Jan 2025 00:00:05 GMT", 5000],
    ["Tue, 31 Dec 2024 23:59:00 GMT", 0],
    ["1.5", undefined],
    ["-1", undefined],
    ["soon", undefined],
    ["2025-01-01", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("%j → %j", (value, expected) => {
    expect(retryAfterMs(value, now)).toBe(expected);
  });
});

describe("retryableStatus and displayUrl", () => {
  it("retries 429/502/503/504 when idempotent, only 429/503 (not processed) otherwise", () => {
    const statuses = [200, 400, 404, 409, 429, 500, 501, 502, 503, 504];
    expect(statuses.filter((s) => retryableStatus(s, true))).toEqual([429, 502, 503, 504]);
    expect(statuses.filter((s) => retryableStatus(s, false))).toEqual([429, 503]);
  });

  it("shows scheme, host and path only", () => {
    expect(displayUrl(new URL("https://u:p@h.example:8443/a/b?token=t#f"))).toBe(
      "https://h.example:8443/a/b",
    );
  });
});

describe("parseJson", () => {
  const res = (status: number, text: string, type?: string): HttpResponse => ({
    status,
    headers: type ? { "content-type": type } : {},
    text,
    request: "GET https://h/p",
  });
  it("returns the parsed body of a 2xx", () => {
    expect(parseJson(res(201, '{"data":{"id":"a"}}'), "create")).toEqual({ data: { id: "a" } });
  });
  it("throws 'malformed' for a 2xx that is not JSON, never quoting the body", () => {
    let err: unknown;
    try {
      parseJson(res(200, "<html>secret</html>", "text/html"), "identity list");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).kind).toBe("malformed");
    expect((err as HttpError).status).toBe(200);
    expect((err as HttpError).message).toBe(
      "identity list: GET https://h/p: HTTP 200 body is not JSON (19 bytes, text/html)",
    );
  });
  it("throws 'status' for a non-2xx, whatever its body", () => {
    expect(() => parseJson(res(404, '{"error":"x"}'), "read")).toThrow(
      new HttpError("status", "read: GET https://h/p: HTTP 404", 404),
    );
  });
});

describe("httpRequest against faults", () => {
  let server: FaultServer;
  /** Entities created through the default handler (POST /things), by name. */
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

  beforeAll(async () => {
    server = await startFaultServer({ handler });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    things.clear();
  });

  const get = (over: Partial<HttpRequest> = {}): HttpRequest => ({
    method: "GET",
    url: `${server.url}/doc`,
    deadlineMs: 3000,
    attemptTimeoutMs: 1000,
    ...over,
  });

  it("returns a complete answer", async () => {
    const res = await httpRequest(get());
    expect(res.status).toBe(200);
    expect(res.request).toBe(`GET ${server.url}/doc`);
    expect((parseJson(res, "doc") as { issuer: string }).issuer).toBe("x");
  });

  describe("a body cut off mid-way is 'aborted', never a success or a hang", () => {
    it.each([
      ["reset-mid-body", "aborted"],
      ["close-mid-body", "aborted"],
      ["chunked-cut", "aborted"],
    ] as const)("%s, no retries", async (kind) => {
      server.next({ kind, sendBytes: 10 });
      const err = await failure(get({ retries: 0 }));
      expect(err.kind).toBe<HttpErrorKind>("aborted");
      expect(err.status).toBe(200);
      expect(err.message).toMatch(
        new RegExp(`^GET ${server.url}/doc: HTTP 200 body cut off after 10 bytes \\(.+\\)$`),
      );
      expect(server.requests).toHaveLength(1);
    });

    it("an idempotent GET is retried and then succeeds", async () => {
      server.next({ kind: "reset-mid-body", sendBytes: 10 });
      const res = await httpRequest(get({ retries: 1 }));
      expect(res.status).toBe(200);
      expect(server.requests).toHaveLength(2);
    });

    it("a persistent cut ends after the bounded retries", async () => {
      server.next(...Array(3).fill({ kind: "reset-mid-body", sendBytes: 5 }));
      const err = await failure(get({ retries: 2 }));
      expect(err.kind).toBe("aborted");
      expect(err.message).toMatch(/body cut off after 5 bytes \(.+\) \(3 attempts\)$/);
      expect(server.requests).toHaveLength(3);
    });

    it("works the same over HTTPS", async () => {
      const tls = await startFaultServer({ tls: true, handler });
      try {
        tls.next({ kind: "reset-mid-body", sendBytes: 7 });
        const err = await failure(get({ url: `${tls.url}/doc`, caPem: tls.caPem, retries: 0 }));
        expect(err.kind).toBe("aborted");
        expect(err.message).toContain("body cut off after 7 bytes");
        const res = await httpRequest(get({ url: `${tls.url}/doc`, caPem: tls.caPem }));
        expect(res.status).toBe(200);
      } finally {
        await tls.close();
      }
    });
  });

  describe("a lost response after a create", () => {
    const create = (): HttpRequest => ({
      method: "POST",
      url: `${server.url}/things`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "alpha" }),
      deadlineMs: 3000,
    });

    it("is not retried blindly: one request, a 'network' error that says so", async () => {
      server.next({ kind: "lose-response" });
      const err = await failure(create());
      expect(err.kind).toBe("network");
      expect(err.message).toBe(
        `POST ${server.url}/things: no response: the connection closed (socket hang up); not retried: a POST may have been processed, check before repeating it`,
      );
      expect(server.requests).toHaveLength(1);
      expect(things.has("alpha")).toBe(true);
      // the caller adopts: it finds the entity by its unique name instead of creating it again
      const found = parseJson(
        await httpRequest({ method: "GET", url: `${server.url}/things?name=alpha` }),
        "lookup",
      );
      expect(found).toEqual({ data: [{ id: "alpha" }] });
    });

    it("a cut body after a create is 'aborted', also not retried", async () => {
      server.next({ kind: "reset-mid-body", sendBytes: 3 });
      const err = await failure(create());
      expect(err.kind).toBe("aborted");
      expect(err.status).toBe(201);
      expect(err.message).toContain("not retried: a POST may have been processed");
      expect(server.requests).toHaveLength(1);
    });

    it("a POST whose answer is too large says it may have been processed", async () => {
      server.next({ kind: "oversized", bytes: 4096, declareLength: true });
      const err = await failure({ ...create(), maxBytes: 1024 });
      expect(err.message).toBe(
        `POST ${server.url}/things: HTTP 200 body of 4096 bytes exceeds the limit of 1024; not retried: a POST may have been processed, check before repeating it`,
      );
      expect(server.requests).toHaveLength(1);
    });

    it("a POST is retried on 503 and 429 (not processed), not on 502", async () => {
      server.next({ kind: "status", status: 503 }, { kind: "retry-after", retryAfter: "0" });
      const res = await httpRequest(create());
      expect(res.status).toBe(201);
      expect(server.requests).toHaveLength(3);

      server.requests.length = 0;
      server.next({ kind: "status", status: 502, body: "bad gateway" });
      const bad = await httpRequest(create());
      expect([bad.status, bad.text]).toEqual([502, "bad gateway"]);
      expect(server.requests).toHaveLength(1);
    });
  });

  describe("429 with Retry-After", () => {
    it("waits at least the given seconds, then succeeds", async () => {
      server.next({ kind: "retry-after", retryAfter: "1" });
      const [res, ms] = await timed(() => httpRequest(get()));
      expect(res.status).toBe(200);
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(server.requests).toHaveLength(2);
    });

    it("honours an HTTP date", async () => {
      const at = new Date(Math.ceil((Date.now() + 500) / 1000) * 1000);
      server.next({ kind: "retry-after", status: 503, retryAfter: at.toUTCString() });
      const [res] = await timed(() => httpRequest(get()));
      expect(res.status).toBe(200);
      expect(Date.now()).toBeGreaterThanOrEqual(at.getTime());
    });

    it("returns the 429 at once when the wait would pass the deadline", async () => {
      server.next({ kind: "retry-after", retryAfter: "30" });
      const [res, ms] = await timed(() => httpRequest(get({ deadlineMs: 1500 })));
      expect(res.status).toBe(429);
      expect(res.headers["retry-after"]).toBe("30");
      expect(ms).toBeLessThan(1000);
      expect(server.requests).toHaveLength(1);
    });
  });

  describe("5xx", () => {
    it("502/503/504 are retried a bounded number of times; the last response is returned", async () => {
      server.next(
        { kind: "status", status: 502 },
        { kind: "status", status: 504 },
        { kind: "status", status: 503, body: "still down" },
      );
      const [res, ms] = await timed(() => httpRequest(get({ retries: 2 })));
      expect([res.status, res.text]).toEqual([503, "still down"]);
      expect(server.requests).toHaveLength(3);
      expect(ms).toBeLessThan(1500); // two backoffs: at most 250 ms + 500 ms
    });

    it("500 is returned at once, not retried", async () => {
      server.next({ kind: "status", status: 500 });
      const res = await httpRequest(get());
      expect(res.status).toBe(500);
      expect(server.requests).toHaveLength(1);
    });
  });

  describe("slow answers", () => {
    it("a slow drip hits the attempt timeout, is retried, and ends within the deadline", async () => {
      server.next(...Array(4).fill({ kind: "drip", everyMs: 100, count: 50 }));
      const [err, ms] = await timed(() =>
        failure(get({ attemptTimeoutMs: 250, deadlineMs: 1200, retries: 3 })),
      );
      expect(err.kind).toBe("timeout");
      expect(err.message).toMatch(
        new RegExp(
          `^GET ${server.url}/doc: no complete answer within (250 ms \\(attempt timeout\\)|the deadline of 1.2 s) while reading the body \\(\\d+ bytes\\)`,
        ),
      );
      expect(server.requests.length).toBeGreaterThanOrEqual(2);
      expect(ms).toBeLessThan(1700);
    });

    it("an answer that never comes ends at the overall deadline", async () => {
      server.next({ kind: "hang" });
      const [err, ms] = await timed(() =>
        failure(get({ attemptTimeoutMs: 10_000, deadlineMs: 400 })),
      );
      expect(err.kind).toBe("timeout");
      expect(err.message).toBe(
        `GET ${server.url}/doc: no complete answer within the deadline of 400 ms`,
      );
      expect(ms).toBeGreaterThanOrEqual(390);
      expect(ms).toBeLessThan(1000);
    });
  });

  describe("oversized bodies are 'too-large', not retried", () => {
    it("a declared content-length over the limit fails before reading", async () => {
      server.next({ kind: "oversized", bytes: 5_000_000, declareLength: true });
      const err = await failure(get({ maxBytes: 1024 }));
      expect([err.kind, err.status, err.message]).toEqual([
        "too-large",
        200,
        `GET ${server.url}/doc: HTTP 200 body of 5000000 bytes exceeds the limit of 1024`,
      ]);
      expect(server.requests).toHaveLength(1);
    });

    it("an undeclared (chunked) body is cut at the limit", async () => {
      server.next({ kind: "oversized", bytes: 5_000_000, declareLength: false });
      const err = await failure(get({ maxBytes: 64 * 1024 }));
      expect(err.kind).toBe("too-large");
      expect(err.message).toBe(
        `GET ${server.url}/doc: HTTP 200 body exceeds the limit of 65536 bytes`,
      );
      expect(server.requests).toHaveLength(1);
    });

    it("the default limit is 1 MiB", async () => {
      server.next({ kind: "oversized", bytes: 1024 * 1024 + 1, declareLength: false });
      expect((await failure(get())).kind).toBe("too-large");
      server.next({ kind: "oversized", bytes: 1024 * 1024, declareLength: false });
      expect((await httpRequest(get())).text).toHaveLength(1024 * 1024);
    });
  });

  it("a non-JSON 2xx makes parseJson throw 'malformed'", async () => {
    server.next({ kind: "not-json" });
    const res = await httpRequest(get());
    expect(res.status).toBe(200);
    expect(() => parseJson(res, "discovery document")).toThrow(
      new HttpError(
        "malformed",
        `discovery document: GET ${server.url}/doc: HTTP 200 body is not JSON (45 bytes, text/html)`,
        200,
      ),
    );
  });

  describe("connection failures", () => {
    it("a refused connection is retried (idempotent) and then reported", async () => {
      const closed = await startFaultServer();
      const url = `${closed.url}/doc`;
      await closed.close();
      const err = await failure(get({ url, retries: 2 }));
      expect(err.kind).toBe("network");
      expect(err.message).toBe(
        `GET ${url}: connect ECONNREFUSED ${url.slice("http://".length, -"/doc".length)} (3 attempts)`,
      );
    });

    it("a retry that would pass the deadline is not started", async () => {
      const closed = await startFaultServer();
      const url = `${closed.url}/doc`;
      await closed.close();
      const [err, ms] = await timed(() => failure(get({ url, deadlineMs: 100, retries: 3 })));
      expect(err.kind).toBe("network");
      expect(err.message).toMatch(
        /: connect ECONNREFUSED \S+; no retry: the deadline of 100 ms would pass$/,
      );
      expect(ms).toBeLessThan(100);
    });

    it("a refused POST is not retried, and not said to be possibly processed", async () => {
      const closed = await startFaultServer();
      const url = `${closed.url}/things`;
      await closed.close();
      const err = await failure({ method: "POST", url, body: "{}" });
      expect(err.message).toBe(
        `POST ${url}: connect ECONNREFUSED ${url.slice("http://".length, -"/things".length)}`,
      );
    });

    it("an untrusted certificate is a 'network' error naming the cause", async () => {
      const tls = await startFaultServer({ tls: true, handler });
      try {
        const err = await failure(get({ url: `${tls.url}/doc`, retries: 0 }));
        expect(err.kind).toBe("network");
        expect(err.message).toMatch(/certificate/);
      } finally {
        await tls.close();
      }
    });

    it("plain http is refused off loopback, before any traffic", async () => {
      const err = await failure({ method: "GET", url: "http://user:pw@ziti.example.com/x" });
      expect([err.kind, err.message]).toEqual([
        "network",
        "GET http://ziti.example.com/x: only https URLs are allowed (http on loopback only)",
      ]);
    });
  });

  describe("echoed credentials never reach a message", () => {
    const password = 'pa"ss/w0rd with spaces';
    const token = "tok-3f9a1c";
    const leaks = (msg: string) =>
      [
        password,
        JSON.stringify(password).slice(1, -1),
        encodeURIComponent(password),
        token,
        "admin:",
      ].filter((s) => msg.includes(s));
    const login = (over: Partial<HttpRequest> = {}): HttpRequest => ({
      method: "POST",
      url: `${server.url.replace("http://", "http://admin:" + encodeURIComponent(password) + "@")}/authenticate?token=${token}`,
      headers: { "content-type": "application/json", "zt-session": token },
      body: JSON.stringify({ username: "admin", password }),
      secrets: [password, token],
      deadlineMs: 2000,
      ...over,
    });

    it("the server really echoes them", async () => {
      server.next({ kind: "echo", status: 401 });
      const res = await httpRequest(login());
      const echoed = JSON.parse(res.text).request;
      expect(JSON.parse(echoed.body).password).toBe(password);
      expect(echoed.path).toBe(`/authenticate?token=${token}`);
      expect(echoed.headers["zt-session"]).toBe(token);
      expect(res.headers["x-echo-authorization"]).toMatch(/^Basic /);
    });

    it.each([
      [
        "echo cut mid-body",
        {
          kind: "reset-mid-body",
          reply: (req: RecordedRequest) => ({ status: 200, body: JSON.stringify(req) }),
          sendBytes: 300,
        },
      ],
      ["echoed 401 read as JSON", { kind: "echo", status: 401 }],
      ["echoed 200 that is not JSON", { kind: "echo", status: 200, json: false }],
      ["echo over the size limit", { kind: "echo", status: 200 }],
      ["lost response", { kind: "lose-response" }],
    ] as const)("%s", async (name, fault) => {
      server.next(fault);
      let message: string;
      try {
        const res = await httpRequest(login(name.includes("size") ? { maxBytes: 10 } : {}));
        parseJson(res, "login");
        throw new Error("expected a failure");
      } catch (e) {
        expect(e).toBeInstanceOf(HttpError);
        message = (e as HttpError).message;
      }
      expect(message).toMatch(/^(login: )?POST http:\/\/127\.0\.0\.1:\d+\/authenticate: /);
      expect(leaks(message)).toEqual([]);
    });

    it("a refused connection to a URL with userinfo", async () => {
      const closed = await startFaultServer();
      const url = closed.url;
      await closed.close();
      const err = await failure(
        login({ url: url.replace("http://", `http://admin:${token}@`) + "/authenticate" }),
      );
      expect(err.message).toMatch(
        /^POST http:\/\/127\.0\.0\.1:\d+\/authenticate: connect ECONNREFUSED/,
      );
      expect(leaks(err.message)).toEqual([]);
    });
  });
});
