/**
 * A scriptable HTTP(S) server on 127.0.0.1 for fault-injection tests of the package's HTTP
 * clients. Each request takes the next scripted {@link Fault} (or, when none is queued, the
 * `handler`'s reply), so a test can say "the next answer is cut off mid-body, then a 429, then
 * the real thing" (or, with `nextWhen`, of the next requests that match, e.g. only the token
 * POST). Faults that need an answer to spoil (a cut-off body, a lost response) take
 * it from the handler when they carry none, so a real API handler (the OpenZiti test controller)
 * runs under them: a lost response after a create has really created the entity.
 *
 * Every request is recorded; `close()` destroys whatever connections are still open (drips,
 * hangs), so a test never waits on the server.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { makeLoopbackServerCredentials } from "../fixtures";

/** A request as the server saw it. */
export interface RecordedRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Headers, names in lower case. */
  headers: http.IncomingHttpHeaders;
  /** The body as text. */
  body: string;
}

/** A normal answer. */
export interface Reply {
  /** HTTP status. */
  status: number;
  /** Headers; `content-type: application/json` unless given. */
  headers?: Record<string, string>;
  /** The body (default: none). */
  body?: string;
}

/** Answers requests that no fault is scripted for. */
export type Handler = (req: RecordedRequest) => Reply | Promise<Reply>;

/** What to do with one request. A `reply` may be a handler, e.g. to cut off an echo. */
export type Fault =
  /** Answer normally with this reply. */
  | { kind: "reply"; reply: Reply }
  /** Declare the full length, send `sendBytes` of the body (default: half), then reset (RST). */
  | { kind: "reset-mid-body"; reply?: Reply | Handler; sendBytes?: number }
  /** Declare the full length, send `sendBytes` of the body (default: half), then close (FIN). */
  | { kind: "close-mid-body"; reply?: Reply | Handler; sendBytes?: number }
  /** Chunked body whose last chunk never comes: the connection closes after `sendBytes`. */
  | { kind: "chunked-cut"; reply?: Reply | Handler; sendBytes?: number }
  /** Run the handler (the request takes effect), then drop the connection without a byte. */
  | { kind: "lose-response" }
  /** Status 429 (or 503) with `Retry-After`. */
  | { kind: "retry-after"; status?: 429 | 503; retryAfter: string }
  /** A status with a short body, e.g. 500 or 502. */
  | { kind: "status"; status: number; body?: string }
  /** Send the head, then one `chunk` every `everyMs` for `count` times, then end. */
  | { kind: "drip"; chunk?: string; everyMs: number; count: number }
  /** A body of `bytes` bytes, with or without `content-length`. */
  | { kind: "oversized"; bytes: number; declareLength: boolean }
  /** A 2xx body that is not JSON. */
  | { kind: "not-json"; status?: number; body?: string; contentType?: string }
  /** Echo the request (method, path, headers, body) back, with this status (default 200). */
  | { kind: "echo"; status?: number; json?: boolean }
  /** Accept the request and never answer. */
  | { kind: "hang" };

/** A running fault server. */
export interface FaultServer {
  /** Base URL, `http(s)://127.0.0.1:<port>`. */
  url: string;
  /** The CA that signs the server's certificate (HTTPS only). */
  caPem?: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Queues faults for the next requests, in order. */
  next(...faults: Fault[]): void;
  /** Queues faults for the next requests that `match`, in order (before those of `next`). */
  nextWhen(match: (req: RecordedRequest) => boolean, ...faults: Fault[]): void;
  /** How many scripted faults are still queued. */
  pending(): number;
  /** Drops the queued faults and the recorded requests. */
  reset(): void;
  /** Stops the server and destroys open connections. */
  close(): Promise<void>;
}

/** Options of {@link startFaultServer}. */
export interface FaultServerOptions {
  /** Serve HTTPS with a fresh loopback CA and certificate (or these credentials). */
  tls?: boolean | { keyPem: string; certPem: string; caPem?: string };
  /** Answers unscripted requests. Default: 404 with a JSON error. */
  handler?: Handler;
}

const NOT_FOUND: Handler = () => ({ status: 404, body: '{"error":"not found"}' });

function headersOf(reply: Reply, length?: number): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json", ...reply.headers };
  if (length !== undefined) h["content-length"] = String(length);
  return h;
}

/** Sends part of `reply`'s body under a full `content-length` (or chunked), then cuts. */
function cutBody(
  res: http.ServerResponse,
  socket: Socket, // the TCP socket (under TLS, the one below it: only that one can be reset)
  reply: Reply,
  sendBytes: number | undefined,
  how: "reset" | "close" | "chunked",
): void {
  const body = Buffer.from(reply.body ?? "");
  const part = body.subarray(0, sendBytes ?? Math.floor(body.length / 2));
  res.writeHead(reply.status, headersOf(reply, how === "chunked" ? undefined : body.length));
  res.write(part, () => {
    setTimeout(() => (how === "reset" ? socket.resetAndDestroy() : socket.destroy()), 20);
  });
}

async function answer(
  fault: Fault | undefined,
  rec: RecordedRequest,
  res: http.ServerResponse,
  socket: Socket,
  handler: Handler,
  timers: Set<NodeJS.Timeout>,
): Promise<void> {
  if (!fault) {
    const reply = await handler(rec);
    const body = Buffer.from(reply.body ?? "");
    res.writeHead(reply.status, headersOf(reply, body.length)).end(body);
    return;
  }
  switch (fault.kind) {
    case "reply": {
      const body = Buffer.from(fault.reply.body ?? "");
      res.writeHead(fault.reply.status, headersOf(fault.reply, body.length)).end(body);
      return;
    }
    case "reset-mid-body":
    case "close-mid-body":
    case "chunked-cut": {
      const given = fault.reply ?? handler;
      const reply = typeof given === "function" ? await given(rec) : given;
      const how =
        fault.kind === "reset-mid-body"
          ? "reset"
          : fault.kind === "close-mid-body"
            ? "close"
            : "chunked";
      cutBody(res, socket, reply, fault.sendBytes, how);
      return;
    }
    case "lose-response":
      await handler(rec);
      socket.destroy();
      return;
    case "retry-after":
      res
        .writeHead(fault.status ?? 429, {
          "content-type": "application/json",
          "retry-after": fault.retryAfter,
        })
        .end('{"error":"slow down"}');
      return;
    case "status":
      res.writeHead(fault.status, { "content-type": "application/json" }).end(fault.body ?? "{}");
      return;
    case "drip": {
      const chunk = fault.chunk ?? " ";
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(chunk) * fault.count),
      });
      let sent = 0;
      const tick = (): void => {
        if (res.destroyed) return;
        res.write(chunk);
        if (++sent === fault.count) {
          res.end();
          return;
        }
        const t = setTimeout(tick, fault.everyMs);
        timers.add(t);
      };
      tick();
      return;
    }
    case "oversized": {
      res.writeHead(
        200,
        fault.declareLength
          ? { "content-type": "application/json", "content-length": String(fault.bytes) }
          : { "content-type": "application/json" },
      );
      const block = Buffer.alloc(16 * 1024, "x");
      let left = fault.bytes;
      const pump = (): void => {
        while (left > 0 && !res.destroyed) {
          const n = Math.min(left, block.length);
          left -= n;
          if (!res.write(block.subarray(0, n))) {
            res.once("drain", pump);
            return;
          }
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }
    case "not-json": {
      const body = fault.body ?? "<html><body>Service is starting</body></html>";
      res
        .writeHead(fault.status ?? 200, {
          "content-type": fault.contentType ?? "text/html",
          "content-length": String(Buffer.byteLength(body)),
        })
        .end(body);
      return;
    }
    case "echo": {
      const body = JSON.stringify({ error: "echo", request: rec });
      res
        .writeHead(fault.status ?? 200, {
          "content-type": fault.json === false ? "text/plain" : "application/json",
          "x-echo-authorization": String(rec.headers.authorization ?? ""),
        })
        .end(fault.json === false ? `echo: ${body}` : body);
      return;
    }
    case "hang":
      return;
  }
}

/** Starts a fault server on 127.0.0.1 (a free port). */
export async function startFaultServer(opts: FaultServerOptions = {}): Promise<FaultServer> {
  const handler = opts.handler ?? NOT_FOUND;
  const queue: Fault[] = [];
  const targeted: { match: (req: RecordedRequest) => boolean; fault: Fault }[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  // TCP sockets by remote port: under TLS `req.socket` is the TLS socket, which cannot send a reset.
  const tcp = new Map<number, Socket>();
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(rec);
      const socket = tcp.get(req.socket.remotePort ?? -1) ?? req.socket;
      const t = targeted.findIndex((x) => x.match(rec));
      const fault = t >= 0 ? targeted.splice(t, 1)[0].fault : queue.shift();
      answer(fault, rec, res, socket, handler, timers).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(e));
        else res.destroy();
      });
    });
  };
  let caPem: string | undefined;
  let server: http.Server | https.Server;
  if (opts.tls) {
    const creds = opts.tls === true ? await makeLoopbackServerCredentials() : opts.tls;
    caPem = creds.caPem;
    server = https.createServer({ key: creds.keyPem, cert: creds.certPem }, onRequest);
  } else {
    server = http.createServer(onRequest);
  }
  server.on("connection", (s: Socket) => {
    const port = s.remotePort ?? -1;
    sockets.add(s);
    tcp.set(port, s);
    s.on("close", () => {
      sockets.delete(s);
      if (tcp.get(port) === s) tcp.delete(port);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    caPem,
    requests,
    next: (...faults) => void queue.push(...faults),
    nextWhen: (match, ...faults) =>
      void targeted.push(...faults.map((fault) => ({ match, fault }))),
    pending: () => queue.length + targeted.length,
    reset: () => {
      queue.length = 0;
      targeted.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
