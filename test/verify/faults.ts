/**
 * The fault suite every live verify check runs under (vault, azure, gcp, curity), in one place:
 * the fault server (test/support/fault-server.ts) spoils the check's first GET, or its POST (a
 * token exchange), and the suite asserts the verdict line the user sees. Faults the package's
 * hardened client retries on a GET (429 and 503 with `Retry-After`, a reset or close mid-body, a
 * lost response) end in the real answer; the others, and the same faults on every attempt
 * (bounded: four attempts), end in one FAIL line that names the call and the fault, with a fix,
 * no secret, in bounded time. A POST whose answer was lost, or that failed with a 500, is sent
 * exactly once. No check sends anything but GETs and the POSTs its target allows (read-only).
 */
import { expect, it } from "vitest";
import type { Fault, FaultServer, RecordedRequest } from "../support/fault-server";
import type { Run } from "./support";

type Match = (q: RecordedRequest) => boolean;

/** A party's check, as the suite drives it. */
export interface FaultTarget {
  /** The party's double. */
  server(): FaultServer;
  /** Runs verify for the party; `exchange` adds `--svid-dir` (its token exchange). */
  run(o: { deadlineMs?: number; exchange?: boolean }): Promise<Run>;
  /** The GET the faults hit: the check's first call. */
  get: Match;
  /** That GET's verdict line: group 1 the status, 2 the reason (the PASS line when it answers). */
  getLine: RegExp;
  /** How a FAIL reason starts: the call named, e.g. `pool: GET https://127.0.0.1:<port>/v1/…`. */
  getCall: RegExp;
  /** The POST that must never be repeated (the token exchange) and its verdict line. */
  post?: { match: Match; line: RegExp };
  /** Requests other than GETs the check may send (read-only POSTs, the exchange). */
  mayPost?: Match;
  /** What must never be printed. */
  secrets(): string[];
}

/** 429 or 503 asking for no wait. */
const busy = (status: 429 | 503): Fault => ({ kind: "retry-after", status, retryAfter: "0" });
const times = (n: number, f: Fault): Fault[] => Array<Fault>(n).fill(f);

/** GET faults the client retries once; the second attempt gets the real answer. */
const RETRIED: [string, Fault][] = [
  ["a 429 with Retry-After", busy(429)],
  ["a 503 with Retry-After", busy(503)],
  ["a connection reset mid-body", { kind: "reset-mid-body" }],
  ["a close mid-body", { kind: "close-mid-body" }],
  ["a lost response (the server closes after reading)", { kind: "lose-response" }],
];

const DEADLINE_MS = 1500;
/** GET faults that end in a FAIL: the faults, what the reason ends with, the attempts made. */
const FAILED: [string, Fault[], RegExp, number, number?][] = [
  ["a 500", [{ kind: "status", status: 500 }], /HTTP 500\b/, 1],
  ["a 503 on every attempt", times(4, busy(503)), /HTTP 503\b/, 4],
  [
    "a reset on every attempt",
    times(4, { kind: "reset-mid-body" }),
    /HTTP 200 body cut off after \d+ bytes \([^)]*\) \(4 attempts\)/,
    4,
  ],
  [
    "a lost response on every attempt",
    times(4, { kind: "lose-response" }),
    /no response: the connection closed \(socket hang up\) \(4 attempts\)/,
    4,
  ],
  [
    "a non-JSON 2xx",
    [{ kind: "not-json", body: "<html>proxy</html>", contentType: "text/html" }],
    /HTTP 200 body is not JSON \(18 bytes, text\/html\)/,
    1,
  ],
  [
    "an oversized body (declared)",
    [{ kind: "oversized", bytes: 2 * 1024 * 1024, declareLength: true }],
    /HTTP 200 body of 2097152 bytes exceeds the limit of 1048576/,
    1,
  ],
  [
    "an oversized body (chunked)",
    [{ kind: "oversized", bytes: 2 * 1024 * 1024, declareLength: false }],
    /HTTP 200 body exceeds the limit of 1048576 bytes/,
    1,
  ],
  [
    "a body dripped past the deadline",
    [{ kind: "drip", everyMs: 100, count: 100 }],
    /no complete answer within the deadline of 1\.5 s while reading the body \(\d+ bytes\)/,
    1,
    DEADLINE_MS,
  ],
];

/** A verdict line of `r`: status, reason and the fix below it. */
export function verdict(r: Run, line: RegExp): { status: string; reason: string; fix?: string } {
  const m = line.exec(r.stdout);
  if (m === null) throw new Error(`no line ${String(line)} in:\n${r.stdout}`);
  const fix = /^\n {7}fix: (.*)/.exec(r.stdout.slice(m.index + m[0].length))?.[1];
  return { status: m[1], reason: m[2], fix };
}

/** Runs `t` timed, then checks what holds under every fault: read-only, no secret printed. */
async function timedRun(
  t: FaultTarget,
  o: { deadlineMs?: number; exchange?: boolean },
): Promise<[Run, number]> {
  const start = Date.now();
  const r = await t.run(o);
  const ms = Date.now() - start;
  const writes = t
    .server()
    .requests.filter((q) => q.method !== "GET" && !(t.mayPost?.(q) ?? false))
    .map((q) => `${q.method} ${q.path}`);
  expect(writes).toEqual([]);
  for (const s of t.secrets().filter(Boolean)) expect(r.stdout + r.stderr).not.toContain(s);
  return [r, ms];
}

/** Registers the suite for `t` (call inside a `describe`); the POST cases when it has a POST. */
export function faultSuite(t: FaultTarget): void {
  it.each(RETRIED)("retries %s on the GET and reads the real answer", async (_what, fault) => {
    t.server().nextWhen(t.get, fault);
    const [r] = await timedRun(t, {});
    expect(verdict(r, t.getLine).status).toBe("PASS");
    expect(t.server().requests.filter(t.get)).toHaveLength(2);
    expect(r.code).toBe(0);
  });

  it.each(FAILED)(
    "fails %s on the GET in one line naming the call and the fault",
    async (_what, faults, message, attempts, deadlineMs) => {
      t.server().nextWhen(t.get, ...faults);
      const [r, ms] = await timedRun(t, { deadlineMs });
      const v = verdict(r, t.getLine);
      expect(v.status).toBe("FAIL");
      expect(v.reason).toMatch(t.getCall);
      expect(v.reason).toMatch(message);
      expect(v.fix).toBeTruthy();
      expect(t.server().requests.filter(t.get)).toHaveLength(attempts);
      expect(r.code).toBe(1);
      expect(ms).toBeLessThan((deadlineMs ?? 8000) + 1500);
    },
  );

  const post = t.post;
  if (post === undefined) return;
  it.each<[string, Fault, RegExp]>([
    [
      "a lost response",
      { kind: "lose-response" },
      /POST https:\/\/127\.0\.0\.1:\d+\/\S+: no response: the connection closed \(socket hang up\); not retried: a POST may have been processed, check before repeating it/,
    ],
    ["a 500", { kind: "status", status: 500 }, /HTTP 500\b/],
  ])(
    "sends the POST once after %s, and fails it naming the fault",
    async (_what, fault, message) => {
      t.server().nextWhen(post.match, fault);
      const [r, ms] = await timedRun(t, { exchange: true });
      const v = verdict(r, post.line);
      expect(v.status).toBe("FAIL");
      expect(v.reason).toMatch(message);
      expect(v.fix).toBeTruthy();
      expect(t.server().requests.filter(post.match)).toHaveLength(1);
      expect(ms).toBeLessThan(8000);
    },
  );
}
