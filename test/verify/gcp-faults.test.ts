/**
 * The fault suite (test/verify/faults.ts) on the gcp check: IAM v1's pool GET, google-auth-library's
 * STS POST (never repeated), and Cloud Resource Manager's `getIamPolicy`, a POST that only reads
 * and is therefore retried like a GET.
 */
import { describe, expect, it } from "vitest";
import { faultSuite, verdict } from "./faults";
import { AUDIENCE, GCP_TOKEN, gcpSvidDir, POOL, useGcp } from "./gcp-fixture";
import { PAYMENTS_ID, signJwt } from "./support";

const f = useGcp();
let svid = "";
const iamPolicy = (q: { method: string; path: string }) =>
  q.method === "POST" && q.path === "/v3/projects/acme-platform:getIamPolicy";
const sts = (q: { method: string; path: string }) => q.method === "POST" && q.path === "/v1/token";

describe("verify gcp under faults", () => {
  faultSuite({
    server: () => f.gcp.server,
    run: ({ deadlineMs, exchange }) => {
      svid = signJwt(f.key, { iss: f.issuer.url, sub: PAYMENTS_ID, aud: [AUDIENCE] });
      return f.run({ deadlineMs, extra: exchange ? ["--svid-dir", gcpSvidDir(svid)] : [] });
    },
    get: (q) => q.method === "GET" && q.path === `/v1/${POOL}`,
    getLine: /\n {2}(PASS|FAIL) gcp: pool(?:\.state)?: (.*)/,
    getCall:
      /^(?:pool: )?GET https:\/\/127\.0\.0\.1:\d+\/v1\/projects\/acme-platform\/locations\/global\/workloadIdentityPools\/spiffe-test: /,
    post: { match: sts, line: /\n {2}(PASS|FAIL) gcp: sts exchange: (.*)/ },
    mayPost: (q) => iamPolicy(q) || sts(q),
    secrets: () => [GCP_TOKEN, svid, "ya29.federated-4b1e"],
  });

  it("retries a getIamPolicy whose response was lost (it only reads) and passes the binding", async () => {
    f.gcp.server.nextWhen(iamPolicy, { kind: "lose-response" });
    const r = await f.run();
    expect(
      verdict(r, /\n {2}(PASS|FAIL) gcp: iam roles\/storage\.objectViewer on acme-platform: (.*)/)
        .status,
    ).toBe("PASS");
    expect(f.gcp.server.requests.filter(iamPolicy)).toHaveLength(2);
    expect(f.gcp.violations).toEqual([]);
  });

  it("fails a getIamPolicy answered with junk in one line naming the bindings not checked", async () => {
    f.gcp.server.nextWhen(iamPolicy, { kind: "not-json", body: "<html>proxy</html>" });
    const r = await f.run();
    const v = verdict(r, /\n {2}(PASS|FAIL) gcp: iam policy of acme-platform: (.*)/);
    expect(v.status).toBe("FAIL");
    expect(v.reason).toMatch(
      /^IAM policy of project acme-platform: POST https:\/\/127\.0\.0\.1:\d+\/v3\/projects\/acme-platform:getIamPolicy: HTTP 200 body is not JSON \(18 bytes, text\/html\) \(bindings not checked: payments-api roles\/storage\.objectViewer\)$/,
    );
    expect(v.fix).toBe("check that Cloud Resource Manager answers, then run verify again");
  });
});
