import { describe, expect, it } from "vitest";
import {
  formatSpiffeId,
  isValidTrustDomain,
  parseSpiffeId,
  SpiffeIdError,
} from "../components/spiffe-id";

describe("parseSpiffeId: valid IDs", () => {
  it.each([
    ["spiffe://example.org", "example.org", ""],
    ["spiffe://example.org/ns/default/sa/api", "example.org", "/ns/default/sa/api"],
    ["spiffe://a_b-c.d9/Upper/CASE/ok", "a_b-c.d9", "/Upper/CASE/ok"],
    ["spiffe://td/.../a..b/.x/x.", "td", "/.../a..b/.x/x."],
    ["spiffe://td/-_.", "td", "/-_."],
  ])("%s", (id, trustDomain, path) => {
    expect(parseSpiffeId(id)).toEqual({ trustDomain, path });
  });
});

describe("parseSpiffeId: each rule of the specification", () => {
  it.each([
    ["", "SPIFFE ID cannot be empty"],
    ["example.org/ns/a", 'scheme is missing or invalid: a SPIFFE ID starts with "spiffe://"'],
    ["SPIFFE://example.org", 'scheme is missing or invalid: a SPIFFE ID starts with "spiffe://"'],
    ["https://example.org/a", 'scheme is missing or invalid: a SPIFFE ID starts with "spiffe://"'],
    ["spiffe:/example.org", 'scheme is missing or invalid: a SPIFFE ID starts with "spiffe://"'],
    ["spiffe://", "trust domain is missing"],
    ["spiffe:///path", "trust domain is missing"],
    [
      "spiffe://Example.org",
      "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
    ],
    [
      "spiffe://exa%6dple.org",
      "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
    ],
    ["spiffe://example.org:8443/a", "trust domain must not contain a port"],
    ["spiffe://user@example.org/a", "trust domain must not contain user info"],
    ["spiffe://user:pw@example.org", "trust domain must not contain user info"],
    ["spiffe://example.org/", "path cannot have a trailing slash"],
    ["spiffe://example.org/a/", "path cannot have a trailing slash"],
    ["spiffe://example.org//a", "path cannot contain empty segments"],
    ["spiffe://example.org/a//b", "path cannot contain empty segments"],
    ["spiffe://example.org/.", "path cannot contain dot segments"],
    ["spiffe://example.org/a/../b", "path cannot contain dot segments"],
    ["spiffe://example.org/a/./b", "path cannot contain dot segments"],
    ["spiffe://example.org/a%20b", "path must not contain percent-encoded characters"],
    ["spiffe://example.org/a?x=1", "SPIFFE ID must not contain a query"],
    ["spiffe://example.org?x", "SPIFFE ID must not contain a query"],
    ["spiffe://example.org/a#frag", "SPIFFE ID must not contain a fragment"],
    [
      "spiffe://example.org/a b",
      "path segment characters are limited to letters, numbers, dots, dashes, and underscores",
    ],
    [
      "spiffe://example.org/a:b",
      "path segment characters are limited to letters, numbers, dots, dashes, and underscores",
    ],
    [
      "spiffe://example.org/ü",
      "path segment characters are limited to letters, numbers, dots, dashes, and underscores",
    ],
  ])("%j → %s", (id, message) => {
    expect(() => parseSpiffeId(id)).toThrow(new SpiffeIdError(message));
  });

  it("throws SpiffeIdError instances", () => {
    expect(() => parseSpiffeId("spiffe://example.org/")).toThrow(SpiffeIdError);
  });

  it("accepts a trust domain of exactly 255 characters and rejects 256", () => {
    const td255 = "a".repeat(255);
    expect(parseSpiffeId(`spiffe://${td255}`).trustDomain).toBe(td255);
    expect(() => parseSpiffeId(`spiffe://${"a".repeat(256)}`)).toThrow(
      "trust domain is longer than 255 characters",
    );
  });

  it("accepts an ID of exactly 2048 bytes and rejects 2049", () => {
    const prefix = "spiffe://example.org/";
    const at2048 = prefix + "a".repeat(2048 - prefix.length);
    expect(at2048.length).toBe(2048);
    expect(parseSpiffeId(at2048).path.length).toBe(2048 - "spiffe://example.org".length);
    expect(() => parseSpiffeId(at2048 + "a")).toThrow("SPIFFE ID is longer than 2048 bytes");
  });
});

describe("isValidTrustDomain", () => {
  it.each(["example.org", "prod.spiffe.example.com", "td_1-x", "a", "1.2.3.4"])(
    "%s is valid",
    (td) => {
      expect(isValidTrustDomain(td)).toBe(true);
    },
  );
  it.each([
    "",
    "Example.org",
    "example.org:443",
    "me@example.org",
    "spiffe://example.org",
    "ex ample",
    "a/b",
    "ü.org",
    "a".repeat(256),
  ])("%j is invalid", (td) => {
    expect(isValidTrustDomain(td)).toBe(false);
  });
});

describe("formatSpiffeId", () => {
  it("joins and validates", () => {
    expect(formatSpiffeId("example.org", "/ns/a/sa/b")).toBe("spiffe://example.org/ns/a/sa/b");
    expect(() => formatSpiffeId("example.org", "/a/../b")).toThrow(
      "path cannot contain dot segments",
    );
    expect(() => formatSpiffeId("example.org", "a")).toThrow("path must have a leading slash");
    expect(() => formatSpiffeId("Example.org", "/a")).toThrow("trust domain characters");
  });
});
