/**
 * The hardened HTTP client against answers that go wrong in their body (test/support/
 * fault-server.ts): a body cut off mid-way, a response lost after a create, bodies over the
 * size limit, a 2xx that is not JSON. Each ends in a response or an HttpError of a stated kind
 * whose message names the call.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  HttpError,
  httpRequest,
  parseJson,
  type HttpErrorKind,
  type HttpRequest,
} from "../../components/http/client";
import { startFaultServer, type FaultServer } from "../support/fault-server";
import { failure, useFaultSuite } from "./fault-suite";

describe("httpRequest against faults: bodies", () => {
  const suite = useFaultSuite();
  const { things, handler, get } = suite;
  let server: FaultServer;
  beforeAll(() => {
    server = suite.server;
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
    ] as const)("%s, no retries", async (kind, expected) => {
      server.next({ kind, sendBytes: 10 });
      const err = await failure(get({ retries: 0 }));
      expect(err.kind).toBe<HttpErrorKind>(expected);
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
});
