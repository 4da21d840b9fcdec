/**
 * An HTTPS server on 127.0.0.1 that asks for a client certificate and lets OpenSSL judge it
 * against the trust anchors the double sets (`trust`), for the verify exchange doubles (OpenZiti's
 * `method=cert`, Curity's mutual TLS token endpoint, Google's mTLS STS). A new trust applies to
 * the next connections (the hardened client opens one per call). Node exposes the presented leaf
 * only; whether the whole chain verified is `socket.authorized`.
 */
import type { X509Certificate } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";

/** A request as the double sees it. */
export interface MtlsRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  url: string;
  /** Headers. */
  headers: IncomingHttpHeaders;
  /** The body as text. */
  body: string;
  /** The client's leaf, when it presented one that verified against the trust anchors. */
  verifiedLeaf?: X509Certificate;
  /** The TLS socket (e.g. for a leaf that did not verify). */
  socket: TLSSocket;
}

/** An answer. */
export interface MtlsReply {
  /** HTTP status. */
  status: number;
  /** Headers; `content-type: application/json` unless given. */
  headers?: Record<string, string>;
  /** The body. */
  body: string;
}

/** A running server. */
export interface MtlsServer {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** Trusts these PEM certificates for client chains on the next connections. */
  trust(pems: string[]): void;
  /** Stops it. */
  stop(): Promise<void>;
}

/** Starts a server with the TLS credentials, answering each request with `handler`. */
export async function startMtlsServer(
  tls: { keyPem: string; certPem: string },
  handler: (req: MtlsRequest) => MtlsReply,
): Promise<MtlsServer> {
  const server: Server = createServer(
    { key: tls.keyPem, cert: tls.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        const socket = req.socket as TLSSocket;
        const leaf = socket.getPeerX509Certificate();
        const reply = handler({
          method: req.method ?? "",
          url: req.url ?? "/",
          headers: req.headers,
          body,
          verifiedLeaf: leaf !== undefined && socket.authorized ? leaf : undefined,
          socket,
        });
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
        res.end(reply.body);
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const trust = (pems: string[]) =>
    server.setSecureContext({
      key: tls.keyPem,
      cert: tls.certPem,
      // No anchor: trust the server's own certificate, which signs no client chain.
      ca: pems.length > 0 ? pems : [tls.certPem],
    });
  trust([]);
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    trust,
    stop: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
