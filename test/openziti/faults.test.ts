/**
 * The OpenZiti client and provider against faults: the test controller (held to the published
 * API) behind test/support/fault-server.ts, whose scripted faults spoil its real answers. Each
 * fault ends in a bounded, clear outcome: a cut-off body, a lost response after a create, 429
 * with Retry-After, 5xx, a slow drip, an answer that never comes, an oversized body, a non-JSON
 * 2xx, echoed credentials.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HttpError } from "../../components/http/client";
import {
  authenticate,
  getEntity,
  ZitiApiError,
  type ZitiConnection,
  type ZitiSession,
} from "../../components/federation/openziti/api";
import { zitiProvider, type ZitiState } from "../../components/federation/openziti/provider";
import { makeLoopbackServerCredentials } from "../fixtures";
import {
  startFaultServer,
  type Fault,
  type FaultServer,
  type RecordedRequest,
} from "../support/fault-server";
import { ZitiTestController } from "./server";

const p = zitiProvider as Required<typeof zitiProvider>;
const PASSWORD = "s3cret-admin-pw";
/** Short limits so that every bounded outcome comes quickly: 1 + 2 attempts within 4 s. */
const LIMITS = { deadlineMs: 4000, attemptTimeoutMs: 400, retries: 2, maxBytes: 256 * 1024 };

let ctl: ZitiTestController;
let server: FaultServer;
let conn: ZitiConnection;
/** Faults to queue once a request matching `match` has been answered. */
const armed: { match: (r: RecordedRequest) => boolean; faults: Fault[] }[] = [];

/** When the next request matching `match` has been answered, the requests after it get `faults`. */
function afterRequest(match: (r: RecordedRequest) => boolean, ...faults: Fault[]): void {
  armed.push({ match, faults });
}

const lookup = (collection: string) => (r: RecordedRequest) =>
  r.method === "GET" && r.path.startsWith(`/edge/management/v1/${collection}?filter=`);
const sent = (method: string, pathPart: string) =>
  server.requests.filter((r) => r.method === method && r.path.includes(pathPart)).length;
const state = (kind: ZitiState["kind"], body: Record<string, unknown>): ZitiState => ({
  kind,
  connection: conn,
  body,
});
const identity = (name: string) => ({
  name,
  type: "Default",
  isAdmin: false,
  externalId: `spiffe://td/ns/faults/sa/${name}`,
  roleAttributes: ["faults"],
});
const named = (name: string) =>
  [...ctl.store.identities.values()].filter((e) => e.name === name).map((e) => e.id);

/** A logged-in session of its own (its login not recorded), so that faults hit the calls under test. */
async function session(): Promise<ZitiSession> {
  const s: ZitiSession = { connection: conn };
  await authenticate(s);
  server.reset();
  return s;
}

/** The rejection of `promise`, with the time it took to come. */
async function failure(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const t0 = Date.now();
  const error = await promise.then(
    () => new Error("resolved"),
    (e: unknown) => e as Error,
  );
  return { error, ms: Date.now() - t0 };
}

beforeAll(async () => {
  const creds = await makeLoopbackServerCredentials();
  ctl = new ZitiTestController(creds);
  server = await startFaultServer({
    tls: creds,
    handler: (r) => {
      const reply = ctl.handle(r);
      const i = armed.findIndex((a) => a.match(r));
      if (i >= 0) server.next(...armed.splice(i, 1)[0].faults);
      return reply;
    },
  });
  conn = {
    controllerUrl: server.url,
    username: "admin",
    password: PASSWORD,
    caPem: creds.caPem,
    limits: LIMITS,
  };
  // the provider's session logs in once, here, so that faults hit the calls under test
  await p.read("warm-up", state("identity", identity("warm-up")));
});
beforeEach(() => {
  server.reset();
  armed.length = 0;
});
afterAll(async () => {
  await server.close();
  expect(ctl.violations).toEqual([]);
});

describe("a body cut off mid-way", () => {
  it("a read is retried and then succeeds", async () => {
    const created = await p.create(state("identity", identity("cut-once")));
    server.reset();
    server.next({ kind: "reset-mid-body" });
    expect((await p.read(created.id, created.outs)).id).toBe(created.id);
    expect(sent("GET", `/identities/${created.id}`)).toBe(2);
  });

  it("a persistent cut fails 'aborted' after 1 + 2 attempts: never a hang, never 'gone'", async () => {
    const created = await p.create(state("identity", identity("cut-always")));
    server.reset();
    server.next(...Array<Fault>(3).fill({ kind: "reset-mid-body" }));
    const { error } = await failure(p.read(created.id, created.outs));
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).kind).toBe("aborted");
    expect(error.message).toMatch(
      new RegExp(
        `^OpenZiti GET https://127\\.0\\.0\\.1:\\d+/edge/management/v1/identities/${created.id}: HTTP 200 body cut off after \\d+ bytes .* \\(3 attempts\\)$`,
      ),
    );
    expect(sent("GET", `/identities/${created.id}`)).toBe(3);
  });
});

describe("a lost response after a create", () => {
  it("is adopted in the same run: one POST, one entity, its id", async () => {
    afterRequest(lookup("identities"), { kind: "lose-response" });
    const created = await p.create(state("identity", identity("lost-once")));
    expect(named("lost-once")).toEqual([created.id]);
    expect(sent("POST", "/identities")).toBe(1);
    expect(sent("GET", "/identities?filter=")).toBe(2);
  });

  it("when the check fails too, the create fails clearly and the next run adopts", async () => {
    afterRequest(
      lookup("identities"),
      { kind: "lose-response" },
      ...Array<Fault>(3).fill({ kind: "status", status: 503 }),
    );
    const { error } = await failure(p.create(state("identity", identity("lost-twice"))));
    expect(error.message).toMatch(
      /^OpenZiti identity lost-twice: OpenZiti POST https:\/\/127\.0\.0\.1:\d+\/edge\/management\/v1\/identities: no response: .*; checking whether it was created failed too: OpenZiti GET \/identities\?filter=.*: HTTP 503 UNKNOWN: no API error in the body \(\d+ bytes\); run again: an existing identity of this name is adopted$/,
    );
    expect(named("lost-twice")).toHaveLength(1); // the lost create took effect
    const next = await p.create(state("identity", identity("lost-twice")));
    expect(named("lost-twice")).toEqual([next.id]);
    expect(sent("POST", "/identities")).toBe(1);
  });
});

describe("429 and 5xx", () => {
  it("a create answered 429 with Retry-After waits and is sent again (not processed), once created", async () => {
    afterRequest(lookup("identities"), { kind: "retry-after", retryAfter: "1" });
    const t0 = Date.now();
    const created = await p.create(state("identity", identity("throttled")));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(sent("POST", "/identities")).toBe(2);
    expect(named("throttled")).toEqual([created.id]);
  });

  it("a create answered 502 is not repeated blindly: checked by name, not duplicated", async () => {
    afterRequest(lookup("identities"), { kind: "status", status: 502 });
    const { error } = await failure(p.create(state("identity", identity("bad-gateway"))));
    expect(error.message).toMatch(/^OpenZiti POST \/identities: HTTP 502 UNKNOWN/);
    expect(sent("POST", "/identities")).toBe(1);
    expect(named("bad-gateway")).toEqual([]);
  });

  it("502/503 on a read are retried; 500 is returned at once; a persistent 503 ends after 1 + 2 attempts", async () => {
    const s = await session();
    const created = await p.create(state("identity", identity("flaky")));
    server.reset();
    server.next({ kind: "status", status: 502 }, { kind: "status", status: 503 });
    expect((await getEntity(s, "identity", created.id))!.id).toBe(created.id);
    expect(server.requests).toHaveLength(3);
    server.reset();
    server.next({ kind: "status", status: 500, body: "{}" });
    const internal = await failure(getEntity(s, "identity", created.id));
    expect(internal.error.message).toBe(
      `OpenZiti GET /identities/${created.id}: HTTP 500 UNKNOWN: no API error in the body (2 bytes)`,
    );
    expect(server.requests).toHaveLength(1);
    server.reset();
    server.next(...Array<Fault>(3).fill({ kind: "status", status: 503 }));
    const busy = await failure(getEntity(s, "identity", created.id));
    expect((busy.error as ZitiApiError).status).toBe(503);
    expect(server.requests).toHaveLength(3);
  });
});

describe("slow and endless answers end by the deadline", () => {
  it("a slow drip hits the attempt timeout, is retried, and fails 'timeout'", async () => {
    const s = await session();
    server.next(...Array<Fault>(3).fill({ kind: "drip", everyMs: 150, count: 40 }));
    const { error, ms } = await failure(getEntity(s, "identity", "default-admin"));
    expect((error as HttpError).kind).toBe("timeout");
    expect(error.message).toContain("while reading the body");
    expect(server.requests).toHaveLength(3);
    expect(ms).toBeLessThan(LIMITS.deadlineMs + 1000);
  });

  it("an answer that never comes fails 'timeout' within the overall deadline", async () => {
    const s = await session();
    server.next(...Array<Fault>(10).fill({ kind: "hang" }));
    const { error, ms } = await failure(getEntity(s, "identity", "default-admin"));
    expect((error as HttpError).kind).toBe("timeout");
    expect(ms).toBeLessThan(LIMITS.deadlineMs + 1000);
  });
});

describe("bodies that are too big or not JSON", () => {
  it("an oversized answer is 'too-large' and not retried", async () => {
    const s = await session();
    server.next({ kind: "oversized", bytes: 1024 * 1024, declareLength: false });
    const { error } = await failure(getEntity(s, "identity", "default-admin"));
    expect((error as HttpError).kind).toBe("too-large");
    expect(error.message).toContain(`exceeds the limit of ${LIMITS.maxBytes} bytes`);
    expect(server.requests).toHaveLength(1);
  });

  it("a non-JSON 2xx on a read is an error, never 'gone'", async () => {
    const created = await p.create(state("identity", identity("html")));
    server.reset();
    server.next({ kind: "not-json" });
    const { error } = await failure(p.read(created.id, created.outs));
    expect((error as HttpError).kind).toBe("malformed");
    expect(error.message).toMatch(
      /^OpenZiti GET \/identities\/\w+: GET https:\/\/127\.0\.0\.1:\d+\/edge\/management\/v1\/identities\/\w+: HTTP 200 body is not JSON \(\d+ bytes, text\/html\)$/,
    );
  });

  it("a non-JSON 2xx on the name lookup stops the create: no POST, no duplicate", async () => {
    server.next({ kind: "not-json" });
    const { error } = await failure(p.create(state("identity", identity("html-lookup"))));
    expect((error as HttpError).kind).toBe("malformed");
    expect(sent("POST", "/identities")).toBe(0);
  });
});

describe("echoed credentials never reach a message", () => {
  it("a login error that echoes the body shows neither user's password", async () => {
    server.next({
      kind: "reply",
      reply: {
        status: 401,
        body: JSON.stringify({
          error: {
            code: "INVALID_AUTH",
            message: `bad login ${JSON.stringify({ username: "admin", password: PASSWORD })}`,
            cause: { field: "password", reason: `got ${PASSWORD}`, value: PASSWORD },
          },
          meta: {},
        }),
      },
    });
    const { error } = await failure(authenticate({ connection: conn }));
    expect(error.message).toBe(
      'OpenZiti POST /authenticate?method=password: HTTP 401 INVALID_AUTH: bad login {"username":"admin","password":"[redacted]"} (password: got [redacted])',
    );
  });

  it("an echo of the request (session token in its headers) shows no token", async () => {
    const s = await session();
    server.next({ kind: "echo", status: 400 }, { kind: "echo", json: false });
    const bad = await failure(getEntity(s, "identity", "x"));
    expect(bad.error.message).toBe(
      "OpenZiti GET /identities/x: HTTP 400 UNKNOWN: no API error in the body (" +
        /\((\d+) bytes\)/.exec(bad.error.message)![1] +
        " bytes)",
    );
    const junk = await failure(getEntity(s, "identity", "x"));
    for (const e of [bad.error, junk.error]) {
      expect(e.message).not.toContain(s.token!);
      expect(e.message).not.toContain(PASSWORD);
    }
    expect(server.requests.map((r) => r.headers["zt-session"])).toContain(s.token);
  });

  it("a controller URL with user info is refused before any traffic, without showing it", async () => {
    const url = server.url.replace("https://", `https://admin:${PASSWORD}@`);
    const { error } = await failure(authenticate({ connection: { ...conn, controllerUrl: url } }));
    expect(error.message).toBe(
      "OpenZiti: the controller URL must not carry user info; give the user and password as username and password",
    );
    expect(server.requests).toEqual([]);
  });
});
