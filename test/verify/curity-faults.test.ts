/**
 * The fault suite (test/verify/faults.ts) on the curity check: the first RESTCONF GET (the client
 * trust store entry) through the package's Curity client. The check reads only: it sends no POST,
 * so the suite's POST cases do not apply, and every case asserts that nothing but GETs was sent.
 */
import { beforeAll, beforeEach, describe } from "vitest";
import { curityPaths } from "../../components/federation/curity/api";
import { CURITY_TEST_PASSWORD, useCurityServer } from "../curity/harness";
import { curityStack, deployCurity, ISSUER } from "./curity-fixture";
import { faultSuite } from "./faults";
import { runVerify, vaultOutputs, writeStack } from "./support";

const h = useCurityServer(["RS256"]);
let dir: string;
const trustEntry = `/${curityPaths.clientTrustStore("spiffe-root-ca")}`;

beforeAll(() => {
  dir = writeStack("t", curityStack(h, CURITY_TEST_PASSWORD));
});
beforeEach(async () => {
  await deployCurity(h);
  h.fault.reset();
});

describe("verify curity under faults", () => {
  faultSuite({
    server: () => h.fault,
    run: ({ deadlineMs }) =>
      runVerify(dir, "t", vaultOutputs(ISSUER), ["--checks", "curity"], {
        caPem: h.fault.caPem,
        deadlineMs,
      }),
    get: (q) => q.method === "GET" && decodeURIComponent(q.path).endsWith(trustEntry),
    getLine: /\n {2}(PASS|FAIL) curity: (?:clientTrustStore|admin): (.*)/,
    getCall: /^Curity client trust store entry "spiffe-root-ca": GET /,
    secrets: () => [
      CURITY_TEST_PASSWORD,
      Buffer.from(`admin:${CURITY_TEST_PASSWORD}`).toString("base64"),
    ],
  });
});
