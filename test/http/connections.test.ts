/**
 * The hardened HTTP client when the connection fails (refused, past the deadline, untrusted
 * certificate, plain http off loopback), and credentials an answer echoes never reaching a
 * message.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { HttpError, httpRequest, parseJson, type HttpRequest } from "../../components/http/client";
import { startFaultServer, type FaultServer, type RecordedRequest } from "../support/fault-server";
import { failure, timed, useFaultSuite } from "./fault-suite";

describe("httpRequest against faults: connections and secrets", () => {
  const suite = useFaultSuite();
  const { handler, get } = suite;
  let server: FaultServer;
  beforeAll(() => {
    server = suite.server;
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
