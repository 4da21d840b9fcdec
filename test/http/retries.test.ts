/**
 * The hardened HTTP client's retries and time limits against faults (test/support/
 * fault-server.ts): 429 with Retry-After, 5xx, slow and hanging answers, all within the
 * deadline.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { httpRequest } from "../../components/http/client";
import { type FaultServer } from "../support/fault-server";
import { failure, timed, useFaultSuite } from "./fault-suite";

describe("httpRequest against faults: retries and time", () => {
  const suite = useFaultSuite();
  const { get } = suite;
  let server: FaultServer;
  beforeAll(() => {
    server = suite.server;
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
});
