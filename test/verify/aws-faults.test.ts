/**
 * The fault suite for the aws check's calls (the real SDKs on the hardened transport): IAM's
 * reads (query-protocol POSTs of `Get…` actions) are retried by the hardened client and end in
 * the real answer; a 500, a 2xx that is not XML and an oversized body end in one FAIL line naming
 * them; STS's AssumeRoleWithWebIdentity, which is not a read, is never repeated after a lost
 * response.
 */
import { describe, expect, it } from "vitest";
import type { Fault } from "../support/fault-server";
import { checkoutToken, env, run, svids, useAws, world } from "./aws-fixtures";

useAws();

const PROVIDER_LINE = /\n {2}(\w+) aws: oidc provider(?: Url)?: (.*)/;
const providerCalls = () =>
  world.aws.server.requests.filter((q) => q.body.includes("Action=GetOpenIDConnectProvider"));

describe("verify aws under faults", () => {
  it.each<[string, Fault]>([
    ["429 with Retry-After", { kind: "retry-after", status: 429, retryAfter: "0" }],
    ["503 with Retry-After", { kind: "retry-after", status: 503, retryAfter: "0" }],
    ["a reset mid-body", { kind: "reset-mid-body" }],
    ["a close mid-body", { kind: "close-mid-body" }],
  ])("retries a read after %s and reads the real answer", async (_what, fault) => {
    world.aws.server.next(fault);
    const r = await run();
    expect(r.stdout.match(PROVIDER_LINE)?.[1]).toBe("PASS");
    expect(providerCalls()).toHaveLength(2);
    expect(r.code).toBe(0);
  });

  it.each<[string, Fault, RegExp]>([
    [
      "a 500",
      { kind: "status", status: 500, body: "upstream failed" },
      /^Error: HTTP 500: @aws-sdk XML parse error: unexpected content\.$/,
    ],
    [
      "a 2xx that is not XML",
      { kind: "not-json", body: "<html>proxy</html>", contentType: "text/html" },
      // The SDK parses a proxy's page into an empty answer: the fields say what is missing.
      /^oidc provider Url: expected "127\.0\.0\.1:\d+", found \(none\)$/,
    ],
    [
      "an oversized body",
      { kind: "oversized", bytes: 3 * 1024 * 1024, declareLength: true },
      /HTTP 200 body of 3145728 bytes exceeds the limit of 1048576$/,
    ],
  ])("fails %s on the provider read with one line", async (_what, fault, message) => {
    world.aws.server.next(fault);
    const r = await run();
    const m = r.stdout.match(PROVIDER_LINE);
    expect(m?.[1]).toBe("FAIL");
    expect(m?.[2]).toMatch(message);
    expect(r.code).toBe(1);
  });

  it("does not repeat an AssumeRoleWithWebIdentity whose response was lost, and says so", async () => {
    // No reader credentials: the exchange is the only call.
    const e = env();
    delete e.AWS_ACCESS_KEY_ID;
    delete e.AWS_SECRET_ACCESS_KEY;
    world.aws.server.next({ kind: "lose-response" });
    const r = await run(["--svid-dir", svids(checkoutToken())], e);
    expect(r.stdout).toMatch(
      /FAIL aws: token exchange: STS refused the token \(\w+\): POST https:\/\/127\.0\.0\.1:\d+\/: no response: the connection closed \(socket hang up\); not retried: a POST may have been processed, check before repeating it/,
    );
    expect(world.aws.calls).toEqual(["sts:AssumeRoleWithWebIdentity"]);
  });
});
