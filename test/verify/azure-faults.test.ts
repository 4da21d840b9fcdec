/**
 * The fault suite (test/verify/faults.ts) on the azure check: ARM's identity GET and the
 * client-credentials POST that @azure/identity sends to Entra (never repeated).
 */
import { describe } from "vitest";
import { ENTRA_AUDIENCE } from "../../components/federation/azure/rules";
import { ARM_TOKEN, azureSvidDir, useAzure } from "./azure-fixture";
import { faultSuite } from "./faults";
import { PAYMENTS_ID, signJwt } from "./support";

const f = useAzure();
let svid = "";
const tokenPost = (q: { method: string; path: string }) =>
  q.method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token(\?|$)/.test(q.path);

describe("verify azure under faults", () => {
  faultSuite({
    server: () => f.azure.server,
    run: ({ deadlineMs, exchange }) => {
      svid = signJwt(f.key, { iss: f.issuer.url, sub: PAYMENTS_ID, aud: [ENTRA_AUDIENCE] });
      return f.run({ deadlineMs, extra: exchange ? ["--svid-dir", azureSvidDir(svid)] : [] });
    },
    get: (q) =>
      q.method === "GET" && /\/userAssignedIdentities\/payments-api\?api-version=/.test(q.path),
    getLine: /\n {2}(PASS|FAIL) azure: identity payments-api(?: clientId)?: (.*)/,
    getCall:
      /^(?:identity: )?GET https:\/\/127\.0\.0\.1:\d+\/subscriptions\/[^/]+\/resourceGroups\/rg-spiffe\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/payments-api: /,
    post: { match: tokenPost, line: /\n {2}(PASS|FAIL) azure: token exchange: (.*)/ },
    mayPost: tokenPost,
    secrets: () => [ARM_TOKEN, svid, "entra.access.7c1d"],
  });
});
