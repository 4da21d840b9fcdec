/**
 * The hardened client's mutual TLS (`clientCert`): the server sees the client's certificate
 * chain and OpenSSL verifies it against the server's trust; without it, nothing is presented; the
 * key never appears in a failure message.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest } from "../../components/http/client";
import { makeLoopbackServerCredentials } from "../fixtures";
import { makePki, type TestPki, type TestSvid } from "../verify/svid-support";

let server: Server;
let url = "";
let caPem = "";
let pki: TestPki;
let svid: TestSvid;
const seen: { authorized: boolean; uri?: string }[] = [];

beforeAll(async () => {
  pki = await makePki();
  svid = await pki.svid("spiffe://test.example.com/ns/a/sa/b");
  const tls = await makeLoopbackServerCredentials();
  caPem = tls.caPem;
  server = createServer(
    {
      key: tls.keyPem,
      cert: tls.certPem,
      ca: pki.root.pem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      seen.push({
        authorized: socket.authorized,
        uri: socket.getPeerX509Certificate()?.subjectAltName,
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("httpRequest clientCert", () => {
  it("presents the certificate chain (leaf and intermediate), which verifies to the root", async () => {
    seen.length = 0;
    const res = await httpRequest({ method: "GET", url, caPem, clientCert: svid });
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ authorized: true, uri: "URI:spiffe://test.example.com/ns/a/sa/b" }]);
  });

  it("presents nothing without it", async () => {
    seen.length = 0;
    await httpRequest({ method: "GET", url, caPem });
    expect(seen).toEqual([{ authorized: false, uri: undefined }]);
  });

  it("never shows the key in a failure", async () => {
    const bad = {
      certPem: svid.certPem,
      keyPem: "-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n",
    };
    const e = await httpRequest({ method: "GET", url, caPem, clientCert: bad, retries: 0 }).catch(
      (x: unknown) => x as Error,
    );
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).not.toContain("not-a-key");
  });
});
