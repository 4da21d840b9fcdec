/**
 * The `federation` check on a healthy pair of trust domains (real PKIs, bundle endpoint doubles
 * on 127.0.0.1): every endpoint fetched as SPIRE fetches it, the requests each double saw, the
 * default selection, `--stack-outputs`, and what a workload's files (`--svid-dir`) hold.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECKS, loadContext, main } from "../../tools/verify/main";
import {
  EAST,
  lines,
  PARTNER,
  runFederation,
  startFederation,
  WEST,
  WEST_STACK,
  westOutputs,
  type Federation,
} from "./federation-setup";
import { leaf } from "./spire-pki";

let f: Federation;
beforeAll(async () => {
  f = await startFederation();
});
afterAll(() => f.close());

const OWN = `${EAST} (this stack)`;

describe("verify federation", () => {
  it("fetches this stack's endpoint and each peer's as SPIRE does, and passes", async () => {
    for (const e of [f.eastEp, f.westEp, f.partnerEp]) e.server.reset();
    const r = await runFederation(f);
    const l = lines(r);
    expect(l[`${OWN} SPIFFE ID`]).toEqual(["PASS", `the leaf is spiffe://${EAST}/spire/server`]);
    expect(l[`${OWN} chain`]).toEqual([
      "PASS",
      "the chain verifies against the trustBundle output",
    ]);
    expect(l[`${OWN} trust domain`]).toEqual([
      "PASS",
      `${EAST}'s bundle: it authenticates the endpoint's own SVID; it holds the current root (trustBundle)`,
    ]);
    expect(l[`${OWN} refresh hint`]).toEqual(["PASS", "300 s"]);
    expect(l[`${WEST} chain`]).toEqual([
      "PASS",
      `the chain verifies against the trustBundle output of ${WEST_STACK}`,
    ]);
    expect(l[`${WEST} bundle`]).toEqual([
      "PASS",
      "1 X.509 authority, 1 JWT key(s), refresh hint 300 s, sequence 4",
    ]);
    expect(l[`${WEST} trust domain`][0]).toBe("PASS");
    expect(l[`${PARTNER} trust domain`]).toEqual([
      "PASS",
      `${PARTNER}'s bundle: it shares a root with its bootstrap bundle (federation.trustDomains[].bundle)`,
    ]);
    expect(l[`${PARTNER} SPIFFE ID`]).toBeUndefined(); // https_web: web PKI, no SPIFFE ID
    expect(r.stdout).toMatch(/\n15 passed, 0 failed, 0 skipped$/);
    expect(r.code).toBe(0);
    // One GET of / per endpoint, without credentials (SPIFFE Federation §5.2).
    for (const e of [f.eastEp, f.westEp, f.partnerEp]) {
      expect(e.server.requests.map((q) => `${q.method} ${q.path}`)).toEqual(["GET /"]);
      expect(e.server.requests[0].headers.authorization).toBeUndefined();
    }
    expect(r.stderr).toContain(`verify: federation: GET ${f.westEp.server.url}`);
  });

  it("reads a peer's outputs from --stack-outputs before the stacks/outputs convention", async () => {
    const file = path.join(f.dir, "west-now.json");
    writeFileSync(file, JSON.stringify(westOutputs(f.westEp.server.url, f.west.root, "10m")));
    const l = lines(await runFederation(f, ["--stack-outputs", `${WEST_STACK}=${file}`]));
    expect(l[`${WEST} refresh hint`]).toEqual([
      "FAIL",
      "the endpoint serves 300 s, the peer stack publishes 10m",
    ]);
  });

  it("refuses a malformed --stack-outputs with exit 2", async () => {
    const err: string[] = [];
    const code = await main(["--stack", "east", "--outputs", "x", "--stack-outputs", "west.json"], {
      env: {},
      out: () => undefined,
      err: (s) => err.push(s),
    });
    expect(code).toBe(2);
    expect(err[0]).toBe("verify: --stack-outputs west.json: must be org/project/stack=FILE");
  });

  it("is selected by default exactly when the stack configures federation", () => {
    const outputs = path.join(f.dir, "o.json");
    writeFileSync(outputs, "{}");
    const ctx = loadContext(
      { stack: "east", outputs, stacksDir: path.join(f.dir, "stacks") },
      {},
      () => undefined,
    );
    expect(CHECKS.filter((c) => c.applies(ctx)).map((c) => c.name)).toContain("federation");
    const plain = { ...ctx, model: { ...ctx.model, federation: undefined } };
    expect(CHECKS.filter((c) => c.applies(plain)).map((c) => c.name)).not.toContain("federation");
  });
});

describe("verify federation with --svid-dir", () => {
  /** A folder as spiffe-helper writes it for `spiffeId`, holding JWT bundles of `held`. */
  async function svidDir(spiffeId: string, held: Record<string, string[]>, bundlePem = "") {
    const dir = mkdtempSync(path.join(tmpdir(), "svids-"));
    const svid = await leaf(f.east.intermediate, { uris: [spiffeId] });
    writeFileSync(path.join(dir, "svid.pem"), svid.pem);
    writeFileSync(path.join(dir, "svid_bundle.pem"), f.east.root.pem + bundlePem);
    const doc = Object.fromEntries(
      Object.entries(held).map(([td, kids]) => [
        td,
        Buffer.from(JSON.stringify({ keys: kids.map((kid) => ({ kty: "EC", kid })) })).toString(
          "base64",
        ),
      ]),
    );
    writeFileSync(path.join(dir, "jwt_bundle.json"), JSON.stringify(doc));
    return dir;
  }
  const STOREFRONT = `spiffe://${EAST}/ns/shop/sa/storefront`;

  it("passes when the workload holds the peer's current JWT keys", async () => {
    const dir = await svidDir(STOREFRONT, { [EAST]: ["e1"], [WEST]: [`${WEST}-k1`] });
    const r = await runFederation(f, ["--svid-dir", dir]);
    expect(r.stdout).toContain("[federation / storefront]");
    expect(lines(r)[`${WEST} JWT bundle held`]).toEqual([
      "PASS",
      `workload storefront holds ${WEST}'s current JWT keys (1)`,
    ]);
    expect(lines(r)[`${WEST} X.509 bundle held`][0]).toBe("SKIP");
  });

  it("fails when it holds an older bundle of the peer, or none", async () => {
    const old = lines(
      await runFederation(f, [
        "--svid-dir",
        await svidDir(STOREFRONT, { [EAST]: ["e1"], [WEST]: ["k0"] }),
      ]),
    );
    expect(old[`${WEST} JWT bundle held`]).toEqual([
      "FAIL",
      `workload storefront holds an older bundle of ${WEST}: the endpoint serves JWT keys ${WEST}-k1 that it lacks`,
    ]);
    const none = lines(
      await runFederation(f, ["--svid-dir", await svidDir(STOREFRONT, { [EAST]: ["e1"] })]),
    );
    expect(none[`${WEST} JWT bundle held`]).toEqual([
      "FAIL",
      `workload storefront holds no bundle of ${WEST} (jwt_bundle.json has ${EAST})`,
    ]);
  });

  it("reads the peer's X.509 authorities when spiffe-helper includes federated domains", async () => {
    const dir = await svidDir(STOREFRONT, { [WEST]: [`${WEST}-k1`] }, f.west.root.pem);
    expect(lines(await runFederation(f, ["--svid-dir", dir]))[`${WEST} X.509 bundle held`]).toEqual(
      ["PASS", `svid_bundle.pem holds an X.509 authority ${WEST} serves`],
    );
  });

  it("skips a workload that does not federate with the peer", async () => {
    const dir = await svidDir(`spiffe://${EAST}/ns/shop/sa/catalog`, { [EAST]: ["e1"] });
    const r = await runFederation(f, ["--svid-dir", dir]);
    expect(lines(r)[`${WEST} held`]).toEqual([
      "SKIP",
      `workload catalog does not federate with ${WEST} (workloads[].federatesWith), so SPIRE hands it no bundle of ${WEST}`,
    ]);
    expect(r.code).toBe(0);
  });
});
