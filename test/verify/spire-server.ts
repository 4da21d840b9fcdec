/**
 * Doubles of a SPIRE server's two TLS listeners on 127.0.0.1, with real certificates
 * (spire-pki.ts):
 * - the server API port agents dial (gRPC over TLS): SPIRE 1.15.2 negotiates ALPN `h2`, asks for
 *   a client certificate without requiring one (`tls.RequestClientCert`,
 *   `pkg/server/endpoints/endpoints.go`); the double records what each client sent: SNI, ALPN
 *   offer, a client certificate, and any byte after the handshake (verify must send none);
 * - the bundle endpoint: SPIRE's `pkg/server/endpoints/bundle/server.go` answers GET `/` with the
 *   bundle JSON (`Content-Type: application/json`), 405 to other methods, 404 to other paths;
 *   the double answers the same (the SPIFFE Federation spec has no machine-readable contract) and
 *   records each request, with a fault queue (non-JSON, oversize) from the shared fault server.
 */
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { startFaultServer, type FaultServer } from "../support/fault-server";

/** What one client did on the server API port. */
export interface AgentConnection {
  /** The SNI it sent. */
  servername?: string;
  /** The ALPN protocols it offered (none recorded when the server has no ALPN). */
  alpnOffered: string[];
  /** Whether it presented a client certificate. */
  clientCert: boolean;
  /** Application bytes received after the handshake. */
  bytesAfterHandshake: number;
}

/** A running server API double. */
export interface ServerApiDouble {
  /** `127.0.0.1:<port>`. */
  address: string;
  /** Every connection, in order. */
  connections: AgentConnection[];
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts the server API double presenting `chainPem` (leaf first); `alpn: false` negotiates none. */
export async function startServerApi(o: {
  chainPem: string;
  keyPem: string;
  alpn?: boolean;
}): Promise<ServerApiDouble> {
  const connections: AgentConnection[] = [];
  const sockets = new Set<tls.TLSSocket>();
  let offered: string[] = [];
  const server = tls.createServer({
    cert: o.chainPem,
    key: o.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
    // Node rejects the handshake when the callback returns undefined, so a server that negotiates
    // no ALPN protocol (alpn: false) has none.
    ...(o.alpn === false
      ? {}
      : {
          ALPNCallback: ({ protocols }: { protocols: string[] }) => {
            offered = protocols;
            return protocols.includes("h2") ? "h2" : undefined;
          },
        }),
  });
  server.on("secureConnection", (socket) => {
    sockets.add(socket);
    const c: AgentConnection = {
      servername: socket.servername || undefined,
      alpnOffered: offered,
      clientCert: Object.keys(socket.getPeerCertificate()).length > 0,
      bytesAfterHandshake: 0,
    };
    offered = [];
    connections.push(c);
    socket.on("data", (d: Buffer) => (c.bytesAfterHandshake += d.length));
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** What a bundle endpoint double serves; change it between runs. */
export interface BundleEndpointState {
  /** The bundle document (serialized as SPIRE does, indented). */
  bundle: unknown;
}

/** Starts a bundle endpoint double presenting `chainPem` and serving `state.bundle` at `/`. */
export function startBundleEndpoint(
  state: BundleEndpointState,
  chain: { chainPem: string; keyPem: string },
): Promise<FaultServer> {
  return startFaultServer({
    tls: { certPem: chain.chainPem, keyPem: chain.keyPem },
    handler: (req) => {
      if (req.headers.authorization !== undefined) {
        return {
          status: 400,
          body: "a bundle endpoint takes no credentials (SPIFFE Federation §5.2)",
        };
      }
      if (req.method !== "GET") return { status: 405, body: "405 method not allowed\n" };
      if (req.path !== "/") return { status: 404, body: "404 page not found\n" };
      return { status: 200, body: JSON.stringify(state.bundle, null, 4) };
    },
  });
}

/** A TCP port on 127.0.0.1 with nothing listening (closed again before use). */
export async function closedPort(): Promise<number> {
  const s = tls.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
