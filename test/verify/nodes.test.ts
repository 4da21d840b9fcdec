/**
 * The `nodes` check against a real TLS server on 127.0.0.1 presenting real certificates (a stable
 * root, SPIRE's intermediate, the server's X509-SVID): one test per cause it must name, and the
 * proof that it behaves as an agent's first contact does (SNI, ALPN h2, no client certificate,
 * nothing sent after the handshake).
 */
import { writeFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CHECKS, loadContext } from "../../tools/verify/main";
import { runVerify, writeStack } from "./support";
import { chainPem, issue, leaf, makeTrustDomainPki, type TrustDomainPki } from "./spire-pki";
import { closedPort, startServerApi, type ServerApiDouble } from "./spire-server";

const TD = "test.example.com";
const HOST = "spire.test.example.com";
const BOOTSTRAP = "/etc/spire/agent/bootstrap.crt";

function stackConfig(exposure: Record<string, unknown>): Record<string, unknown> {
  return {
    "spire-federation:trustDomain": TD,
    "spire-federation:clusterName": "test",
    "spire-federation:oidc": {
      host: "oidc.test.example.com",
      ingressClassName: "nginx",
      tls: { acme: { email: "ops@example.com" } },
    },
    "spire-federation:ca": { mode: "generated" },
    "spire-federation:spire": { server: { exposure } },
    "spire-federation:nodes": [{ name: "edge-1", hostname: "edge-1.vms.example.com" }],
    "spire-federation:workloads": [
      { name: "app", node: "edge-1", unix: { user: "app" }, spiffeIdPath: "/edge/app" },
    ],
  };
}

const outputs = (bundlePem: string) => ({
  trustDomain: TD,
  rootCaPem: bundlePem,
  nodes: { "edge-1": { hostname: "edge-1.vms.example.com", files: { [BOOTSTRAP]: bundlePem } } },
});

let pki: TrustDomainPki;
let dir: string;
const servers: ServerApiDouble[] = [];
beforeAll(async () => {
  pki = await makeTrustDomainPki(TD);
  dir = writeStack("n", stackConfig({ host: HOST, ingressClassName: "nginx" }));
});
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function serve(leafPem: { pem: string; keyPem: string }, alpn = true) {
  const s = await startServerApi({
    chainPem: chainPem({ ...pki.server, ...leafPem }, pki.intermediate),
    keyPem: leafPem.keyPem,
    alpn,
  });
  servers.push(s);
  return s;
}

const run = (address: string, bundlePem = pki.root.pem, d = dir, stack = "n") =>
  runVerify(d, stack, outputs(bundlePem), ["--checks", "nodes"], {
    env: { SPIRE_SERVER_ADDRESS: address },
  });

/** The `nodes` lines: name → [status, reason]. */
function lines(stdout: string): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const m of stdout.matchAll(/^ {2}(PASS|FAIL|SKIP) nodes: ([^:]+): (.*)$/gm)) {
    out[m[2]] = [m[1], m[3]];
  }
  return out;
}

describe("verify nodes", () => {
  it("passes when the server presents this trust domain's server SVID under the agents' root, as an agent sees it", async () => {
    const s = await serve(pki.server);
    const r = await run(s.address);
    const l = lines(r.stdout);
    expect(l.handshake).toEqual([
      "PASS",
      `${HOST}:443 (dialled at ${s.address}) completed a TLS handshake`,
    ]);
    expect(l.ALPN).toEqual(["PASS", "the server negotiated h2 (gRPC)"]);
    expect(l["SPIFFE ID"]).toEqual(["PASS", `the leaf is spiffe://${TD}/spire/server`]);
    expect(l.chain).toEqual([
      "PASS",
      `the chain verifies against the agents' bundle (nodes.edge-1 ${BOOTSTRAP})`,
    ]);
    expect(l.validity[0]).toBe("PASS");
    expect(r.code).toBe(0);
    // The server finishes its side of the handshake once the probe's close arrives.
    await vi.waitFor(() => expect(s.connections).toHaveLength(1));
    expect(s.connections).toEqual([
      { servername: HOST, alpnOffered: ["h2"], clientCert: false, bytesAfterHandshake: 0 },
    ]);
    expect(r.stderr).toContain(`verify: nodes: TLS handshake with ${HOST}:443`);
  });

  it("names an unreachable address", async () => {
    const r = await run(`127.0.0.1:${await closedPort()}`);
    const l = lines(r.stdout);
    expect(l.handshake[0]).toBe("FAIL");
    expect(l.handshake[1]).toMatch(
      /^unreachable: 127\.0\.0\.1:\d+: ECONNREFUSED: .* \(3 attempts\)$/,
    );
    expect(r.stdout).toContain(
      `fix: DNS of ${HOST} must point at the ingress controller and port 443 be open from the nodes`,
    );
    expect(r.code).toBe(1);
  });

  it("names a listener that does not speak TLS (an ingress without passthrough on a plain port)", async () => {
    const open = new Set<net.Socket>();
    const plain = net.createServer((sock) => {
      open.add(sock);
      sock.on("error", () => undefined);
      sock.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    await new Promise<void>((res) => plain.listen(0, "127.0.0.1", res));
    try {
      const port = (plain.address() as net.AddressInfo).port;
      const l = lines((await run(`127.0.0.1:${port}`)).stdout);
      expect(l.handshake[0]).toBe("FAIL");
      expect(l.handshake[1]).toMatch(
        /^TLS refused: 127\.0\.0\.1:\d+: ERR_SSL_WRONG_VERSION_NUMBER: wrong version number \(3 attempts\)$/,
      );
    } finally {
      for (const sock of open) sock.destroy();
      await new Promise<void>((res) => plain.close(() => res()));
    }
  });

  it("names an untrusted chain: the agents' bundle is stale", async () => {
    const s = await serve(pki.server);
    const other = await issue({ subject: "CN=an older root", ca: true });
    const r = await run(s.address, other.pem);
    const l = lines(r.stdout);
    expect(l.chain[0]).toBe("FAIL");
    expect(l.chain[1]).toMatch(
      /^untrusted: the chain does not verify against the agents' bundle \(nodes\.edge-1 \/etc\/spire\/agent\/bootstrap\.crt\) \(UNABLE_TO_GET_ISSUER_CERT_LOCALLY\)$/,
    );
    expect(r.stdout).toContain("fix: the agents' bootstrap bundle is stale");
    expect(l["SPIFFE ID"][0]).toBe("PASS");
  });

  it("names a wrong SPIFFE ID", async () => {
    const s = await serve(
      await leaf(pki.intermediate, { uris: ["spiffe://other.example.com/spire/server"] }),
    );
    const l = lines((await run(s.address)).stdout);
    expect(l["SPIFFE ID"]).toEqual([
      "FAIL",
      `wrong SPIFFE ID: the leaf is spiffe://other.example.com/spire/server, not spiffe://${TD}/spire/server`,
    ]);
    expect(l.chain[0]).toBe("PASS");
  });

  it("names a certificate that is no X509-SVID (TLS terminated on the way)", async () => {
    const s = await serve(
      await leaf(pki.intermediate, {
        subject: "CN=Kubernetes Ingress Controller Fake Certificate",
        dns: [HOST],
      }),
    );
    const l = lines((await run(s.address)).stdout);
    expect(l["SPIFFE ID"]).toEqual([
      "FAIL",
      "not an X509-SVID: the leaf has 0 URI SANs (CN=Kubernetes Ingress Controller Fake Certificate): not an X509-SVID, so the server is not what answered (a proxy that terminates TLS?)",
    ]);
  });

  it("names an expired server SVID", async () => {
    const expired = await leaf(pki.intermediate, {
      uris: [`spiffe://${TD}/spire/server`],
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 3600_000),
    });
    const s = await serve(expired);
    const r = await run(s.address);
    const l = lines(r.stdout);
    expect(l.validity[0]).toBe("FAIL");
    expect(l.validity[1]).toMatch(/^expired: the leaf is valid from .* to .*, not now/);
    expect(l.chain[1]).toMatch(/^expired: .*\(CERT_HAS_EXPIRED\)$/);
    expect(r.stdout).toContain("fix: SPIRE rotates its server SVID itself");
  });

  it("names a server that negotiates no h2", async () => {
    const s = await serve(pki.server, false);
    const l = lines((await run(s.address)).stdout);
    expect(l.ALPN[0]).toBe("FAIL");
    expect(l.ALPN[1]).toMatch(/^the server negotiated no ALPN protocol, not h2/);
  });

  it("dials a load balancer address without SNI when it is an IP, and falls back to rootCaPem", async () => {
    const s = await serve(pki.server);
    const lb = writeStack("lb", {
      ...stackConfig({ loadBalancer: true, address: "203.0.113.7" }),
      "spire-federation:nodes": [],
      "spire-federation:workloads": [],
    });
    const r = await runVerify(
      lb,
      "lb",
      { trustDomain: TD, rootCaPem: pki.root.pem },
      ["--checks", "nodes"],
      {
        env: { SPIRE_SERVER_ADDRESS: s.address },
      },
    );
    const l = lines(r.stdout);
    expect(l.chain).toEqual([
      "PASS",
      "the chain verifies against the agents' bundle (the rootCaPem output: nodes list none)",
    ]);
    await vi.waitFor(() => expect(s.connections).toHaveLength(1));
    expect(s.connections[0].servername).toBeUndefined();
  });
});

describe("verify nodes selection", () => {
  it("is selected by default exactly when the stack sets spire.server.exposure", () => {
    const selected = (d: string, stack: string) =>
      CHECKS.filter((c) =>
        c.applies(
          loadContext(
            { stack, outputs: path.join(d, "o.json"), stacksDir: path.join(d, "stacks") },
            {},
            () => undefined,
          ),
        ),
      ).map((c) => c.name);
    writeFileSync(path.join(dir, "o.json"), "{}");
    expect(selected(dir, "n")).toContain("nodes");
    const none = writeStack("x", {
      ...stackConfig({}),
      "spire-federation:spire": {},
      "spire-federation:nodes": [],
      "spire-federation:workloads": [],
    });
    writeFileSync(path.join(none, "o.json"), "{}");
    expect(selected(none, "x")).not.toContain("nodes");
  });
});
