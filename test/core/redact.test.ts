/**
 * Redaction (components/http/client.ts `redact`): secrets and URL userinfo leave every message,
 * in one pass over the text, before any cut to length; and TLS verification cannot be switched
 * off from the environment.
 */
import { describe, expect, it } from "vitest";
import { apiError } from "../../components/federation/curity/api";
import { httpRequest, HttpError, redact } from "../../components/http/client";
import { startFaultServer } from "../support/fault-server";

describe("redact on long server strings", () => {
  it("a 200 KB word with no URL in it comes back unchanged (the old scheme pattern restarted at each letter)", () => {
    const word = "a".repeat(200_000);
    expect(redact(word, ["s3cret"])).toBe(word);
  });

  it("a 200 KB text of URLs with userinfo and secrets: every one redacted, nothing else changed", () => {
    const piece = "x https://u:pw@h.example/p s3cret y ";
    const text = piece.repeat(200_000 / piece.length);
    const out = redact(text, ["s3cret"]);
    expect(out).toBe(
      "x https://[redacted]@h.example/p [redacted] y ".repeat(200_000 / piece.length),
    );
  });

  it("many @ after one scheme: one userinfo, redacted up to the last @", () => {
    expect(redact(`http://${"a@".repeat(50_000)}host/x`, [])).toBe("http://[redacted]@host/x");
  });

  it.each([
    ["HTTPS://U:P@H/x", [], "HTTPS://[redacted]@H/x"],
    ["xhttps://u@h", [], "xhttps://[redacted]@h"],
    ["pw a.b*c and a.b*c", ["a.b*c"], "pw [redacted] and [redacted]"],
    ["case ABC stays", ["abc"], "case ABC stays"],
    ["path a/b", ["a/b"], "path [redacted]"],
  ])("%s", (input, secrets, expected) => {
    expect(redact(input, secrets)).toBe(expected);
  });
});

describe("a message is redacted before it is cut", () => {
  it("Curity: a password that straddles the 300-character cut leaks no part of itself", () => {
    const password = "Pa55word-0123456789";
    const text = JSON.stringify({
      "ietf-restconf:errors": {
        error: [{ "error-tag": "invalid-value", "error-message": `${"m".repeat(290)}${password}` }],
      },
    });
    const err = apiError(
      { adminUrl: "https://127.0.0.1:1", username: "admin", password },
      "client write",
      "PUT",
      "/x",
      { status: 400, headers: {}, text, request: "PUT https://127.0.0.1:1/x" },
    );
    expect(err.message).not.toContain("Pa55");
    expect(err.message).toContain(`${"m".repeat(290)}[redacted]`);
  });
});

describe("TLS verification is explicit", () => {
  it("a self-signed server is refused even with NODE_TLS_REJECT_UNAUTHORIZED=0", async () => {
    const server = await startFaultServer({
      tls: true,
      handler: () => ({ status: 200, body: "{}" }),
    });
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    try {
      const err = await httpRequest({
        method: "GET",
        url: `${server.url}/doc`,
        deadlineMs: 3000,
        attemptTimeoutMs: 1000,
        retries: 0,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).kind).toBe("network");
      expect(server.requests).toHaveLength(0);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
      await server.close();
    }
  });
});
