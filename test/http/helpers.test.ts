/**
 * The hardened HTTP client's pure helpers (components/http/client.ts): redaction, Retry-After,
 * which statuses are retried, how a URL is shown, and how a body is parsed.
 */
import { describe, expect, it } from "vitest";
import {
  HttpError,
  parseJson,
  redact,
  retryAfterMs,
  retryableStatus,
  displayUrl,
  type HttpResponse,
} from "../../components/http/client";

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
