/**
 * The `federation` check's failure causes, one test each, against real TLS servers on 127.0.0.1
 * with certificates made here: unreachable, wrong endpoint SPIFFE ID, untrusted chain (stale
 * bootstrap bundle), expired server SVID, a proxy terminating TLS, non-JSON, oversize, a bundle
 * SPIRE refuses, a bundle of another trust domain, no refresh hint, an untrusted web certificate,
 * missing peer outputs; and the hardened client's retry of a reset.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  EAST,
  eastOutputs,
  endpointOf,
  lines,
  PARTNER,
  runFederation,
  servedBundle,
  startFederation,
  WEST,
  WEST_STACK,
  westOutputs,
  writeWestOutputs,
  type Federation,
  type Served,
} from "./federation-setup";
import { issue, leaf, spiffeBundleJson } from "./spire-pki";
import { closedPort } from "./spire-server";
import { runVerify } from "./support";

let f: Federation;
const extra: Served[] = [];
beforeAll(async () => {
  f = await startFederation();
});
afterAll(async () => {
  for (const e of extra) await e.server.close();
  await f.close();
});
afterEach(() => {
  writeWestOutputs(f.dir, westOutputs(f.westEp.server.url, f.west.root));
  f.westEp.state.bundle = servedBundle(f.west);
  f.westEp.server.reset();
});

/** Points west's outputs at another endpoint double. */
async function westAt(leafCert = f.west.server, bundle: unknown = servedBundle(f.west)) {
  const e = await endpointOf(f.west, bundle, leafCert);
  extra.push(e);
  writeWestOutputs(f.dir, westOutputs(e.server.url, f.west.root));
  return e;
}

describe("verify federation names each failure", () => {
  it("an unreachable peer endpoint", async () => {
    const url = `https://127.0.0.1:${await closedPort()}`;
    writeWestOutputs(f.dir, westOutputs(url, f.west.root));
    const r = await runFederation(f);
    const l = lines(r);
    expect(l[`${WEST} endpoint`][0]).toBe("FAIL");
    expect(l[`${WEST} endpoint`][1]).toMatch(/^unreachable: 127\.0\.0\.1:\d+: ECONNREFUSED: /);
    expect(r.stdout).toContain(`fix: check the URL (${url}), its DNS and the peer's ingress`);
    expect(l[`${WEST} bundle`]).toBeUndefined();
    expect(r.code).toBe(1);
  });

  it("a wrong endpoint SPIFFE ID", async () => {
    const e = await westAt(
      await leaf(f.west.intermediate, { uris: [`spiffe://${WEST}/ns/x/sa/y`] }),
    );
    const r = await runFederation(f);
    expect(lines(r)[`${WEST} SPIFFE ID`]).toEqual([
      "FAIL",
      `wrong SPIFFE ID: the leaf is spiffe://${WEST}/ns/x/sa/y, not spiffe://${WEST}/spire/server`,
    ]);
    expect(r.stdout).toContain("fix: set federation.trustDomains[].endpointSpiffeId");
    expect(e.server.requests).toEqual([]); // SPIRE would not send its GET: neither does verify
  });

  it("an untrusted chain: the peer's bundle known here is stale", async () => {
    const older = await issue({ subject: "CN=west old root", ca: true });
    writeWestOutputs(f.dir, westOutputs(f.westEp.server.url, older));
    const r = await runFederation(f);
    expect(lines(r)[`${WEST} chain`]).toEqual([
      "FAIL",
      `untrusted: the chain does not verify against the trustBundle output of ${WEST_STACK} (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)`,
    ]);
    expect(r.stdout).toContain("is stale: SPIRE's first fetch (a new peer, a fresh server) fails");
  });

  it("an expired server SVID", async () => {
    const expired = await leaf(f.west.intermediate, {
      uris: [`spiffe://${WEST}/spire/server`],
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 3600_000),
    });
    await westAt(expired);
    expect(lines(await runFederation(f))[`${WEST} validity`][1]).toMatch(
      /^expired: the leaf is valid from .* to .*, not now/,
    );
  });

  it("a certificate that is no X509-SVID (an ingress terminating TLS)", async () => {
    await westAt(await leaf(f.west.intermediate, { subject: "CN=ingress", dns: ["bundle.west"] }));
    const r = await runFederation(f);
    expect(lines(r)[`${WEST} SPIFFE ID`][1]).toMatch(/^not an X509-SVID: the leaf has 0 URI SANs/);
    expect(r.stdout).toContain("https_spiffe needs TLS passed through to port 8443");
  });

  it("a non-JSON answer", async () => {
    f.westEp.server.next({
      kind: "not-json",
      body: "<html>default backend</html>",
      contentType: "text/html",
    });
    const l = lines(await runFederation(f));
    expect(l[`${WEST} chain`][0]).toBe("PASS");
    expect(l[`${WEST} bundle`][0]).toBe("FAIL");
    expect(l[`${WEST} bundle`][1]).toMatch(
      /^bundle endpoint: GET https:\/\/127\.0\.0\.1:\d+\/: HTTP 200 body is not JSON \(28 bytes, text\/html\)$/,
    );
  });

  it("an oversized answer", async () => {
    f.westEp.server.next({ kind: "oversized", bytes: 600 * 1024, declareLength: true });
    expect(lines(await runFederation(f))[`${WEST} bundle`][1]).toMatch(
      /: HTTP 200 body of 614400 bytes exceeds the limit of 524288$/,
    );
  });

  it("a bundle SPIRE refuses (a key without use)", async () => {
    const b = servedBundle(f.west) as { keys: Record<string, unknown>[] };
    f.westEp.state.bundle = {
      ...b,
      keys: [...b.keys, { kty: "EC", crv: "P-256", x: "a", y: "b" }],
    };
    const r = await runFederation(f);
    expect(lines(r)[`${WEST} bundle`]).toEqual([
      "FAIL",
      "the bundle keys[2]: use must be x509-svid or jwt-svid",
    ]);
    expect(r.stdout).toContain("fix: SPIRE 1.15.2 refuses this bundle");
  });

  it("a bundle of another trust domain", async () => {
    f.westEp.state.bundle = servedBundle(f.east);
    const r = await runFederation(f);
    expect(lines(r)[`${WEST} trust domain`]).toEqual([
      "FAIL",
      `the bundle served does not authenticate the endpoint's own SVID (spiffe://${WEST}/spire/server): it is not ${WEST}'s bundle, or it lacks the root the server chains to; SPIRE authenticates its next refresh with this bundle, which would then fail`,
    ]);
  });

  it("an https_web bundle of another trust domain", async () => {
    f.partnerEp.state.bundle = spiffeBundleJson([f.west.root], { refreshHint: 600 });
    try {
      expect(lines(await runFederation(f))[`${PARTNER} trust domain`][1]).toBe(
        `none of the bundle's X.509 authorities is in ${PARTNER}'s bundle as known here (its bootstrap bundle (federation.trustDomains[].bundle)): the endpoint serves another trust domain's bundle, or ${PARTNER}'s root changed`,
      );
    } finally {
      f.partnerEp.state.bundle = spiffeBundleJson([f.partnerRoot], { refreshHint: 600 });
    }
  });

  it("this stack's endpoint not serving its current root", async () => {
    const r = await runFederation(f, [], {
      ...eastOutputs(f),
      trustBundle: JSON.stringify(
        spiffeBundleJson([f.east.root, await issue({ subject: "CN=next", ca: true })]),
      ),
    });
    expect(lines(r)[`${EAST} (this stack) trust domain`][1]).toBe(
      "the bundle served lacks this trust domain's current root (the trustBundle output): peers that pull it will not trust SVIDs under that root",
    );
  });

  it("no refresh hint", async () => {
    const { spiffe_refresh_hint: _, ...rest } = servedBundle(f.west);
    f.westEp.state.bundle = rest;
    expect(lines(await runFederation(f))[`${WEST} refresh hint`][1]).toMatch(
      /^no spiffe_refresh_hint: SPIRE then refreshes every tenth of the shortest X\.509 authority's lifetime \(2h24m6s, pkg\/common\/bundleutil\/refreshhint\.go\), and misses/,
    );
  });

  it("an https_web endpoint whose certificate is not trusted (no --ca-file)", async () => {
    const bare = await runVerify(f.dir, "east", eastOutputs(f), ["--checks", "federation"]);
    expect(lines(bare)[`${PARTNER} bundle`][1]).toMatch(
      /^the TLS certificate is not trusted \(GET https:\/\/127\.0\.0\.1:\d+\/: /,
    );
    expect(bare.stdout).toContain(
      "fix: https_web needs a publicly trusted certificate (or --ca-file with its CA)",
    );
  });

  it("a peer stack without outputs", async () => {
    const r = await runFederation(f, ["--stack-outputs", `${WEST_STACK}=/nonexistent/west.json`]);
    expect(lines(r)[`${WEST} peer outputs`]).toEqual([
      "FAIL",
      `stack ${WEST_STACK}: stack reference ${WEST_STACK}: no outputs at /nonexistent/west.json; give its outputs with --stack-outputs ${WEST_STACK}=FILE (pulumi stack output --json --stack ${WEST_STACK})`,
    ]);
  });

  it("outputs without this stack's bundleEndpoint", async () => {
    const { bundleEndpoint: _, ...rest } = eastOutputs(f);
    const r = await runFederation(f, [], rest as ReturnType<typeof eastOutputs>);
    expect(lines(r)[`${EAST} (this stack) outputs`]).toEqual([
      "FAIL",
      "the outputs carry no usable bundleEndpoint and trustBundle, which peers with fromStack read",
    ]);
    expect(lines(r)[`${WEST} bundle`][0]).toBe("PASS");
  });

  it("retries a reset mid-body and reads the real bundle", async () => {
    f.westEp.server.next({ kind: "reset-mid-body" });
    const l = lines(await runFederation(f));
    expect(l[`${WEST} bundle`][0]).toBe("PASS");
    expect(f.westEp.server.requests).toHaveLength(2);
  });
});
