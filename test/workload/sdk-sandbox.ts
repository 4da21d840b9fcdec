/**
 * What the relying parties' real SDKs need to run on a workload's generated files, here and on
 * loopback only: the pod's files laid out under a temporary root (every `/run/…` path the files
 * and the environment name is rewritten to lie below it), an HTTPS server on 127.0.0.1 that
 * records every request and answers like the STS / Entra endpoints, and a child `node` that
 * loads an SDK with exactly the pod's environment, the test CA trusted through
 * `NODE_EXTRA_CA_CERTS`, and every metadata server pointed at a closed loopback port.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";
import { ROOT } from "../helpers";

/** One request the recording server saw. */
export interface Recorded {
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** DER of the client certificate (mTLS), when one was sent. */
  clientCert?: Buffer;
}

/** A recording HTTPS server on 127.0.0.1. */
export interface RecordingServer {
  /** `https://127.0.0.1:<port>`. */
  origin: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** Answers a request: status and JSON body, or a text body of `contentType` (e.g. AWS's XML). */
export type Responder = (
  r: Recorded,
  origin: string,
) => { status: number; body: unknown; contentType?: string };

/** Starts the server with a certificate for 127.0.0.1; it asks for (but does not require) a client certificate. */
export async function recordingServer(
  tls: { keyPem: string; certPem: string },
  respond: Responder,
): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  let origin = "";
  const server = https.createServer(
    { key: tls.keyPem, cert: tls.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const r: Recorded = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          clientCert: peer && peer.raw ? peer.raw : undefined,
        };
        requests.push(r);
        const { status, body, contentType } = respond(r, origin);
        const text = contentType !== undefined && typeof body === "string";
        res.writeHead(status, { "content-type": contentType ?? "application/json" });
        res.end(text ? body : JSON.stringify(body));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A pod's file system under a temporary root. */
export class PodRoot {
  /** The temporary root. */
  readonly root = mkdtempSync(path.join(os.tmpdir(), "sf-pod-"));

  /** The host path of a path in the container. */
  at(containerPath: string): string {
    return path.join(this.root, containerPath);
  }

  /** Every `/run/` path in `text` moved below the root. */
  rebase(text: string): string {
    return text.replace(/(^|["'\s=])\/run\//g, `$1${this.root}/run/`);
  }

  /** Writes a file at its container path (its content rebased when asked). */
  write(containerPath: string, content: string, opts: { rebase?: boolean } = {}): string {
    const file = this.at(containerPath);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, opts.rebase ? this.rebase(content) : content);
    return file;
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on (for metadata servers). */
export const CLOSED_PORT = "127.0.0.1:9";

/**
 * Runs `script` (CommonJS, run from the repository root so the SDKs resolve) in a child node
 * with exactly `env` plus what keeps it on loopback; resolves with its stdout parsed as JSON.
 */
export function runNode(
  script: string,
  env: Record<string, string>,
  caPem: string,
): Promise<{ ok: boolean; out: any; stderr: string }> {
  const home = mkdtempSync(path.join(os.tmpdir(), "sf-sdk-home-"));
  const caFile = path.join(home, "ca.pem");
  writeFileSync(caFile, caPem);
  const childEnv: Record<string, string> = {
    PATH: path.dirname(process.execPath),
    HOME: home,
    NODE_EXTRA_CA_CERTS: caFile,
    NO_PROXY: "127.0.0.1",
    // Google: no metadata server, no gcloud configuration.
    GCE_METADATA_HOST: CLOSED_PORT,
    GCE_METADATA_IP: CLOSED_PORT,
    METADATA_SERVER_DETECTION: "none",
    NO_GCE_CHECK: "true",
    CLOUDSDK_CONFIG: path.join(home, "gcloud"),
    ...env,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", script],
      { cwd: ROOT, env: childEnv, timeout: 60_000 },
      (err, stdout, stderr) => {
        let out: unknown;
        try {
          out = JSON.parse(stdout);
        } catch {
          out = stdout;
        }
        resolve({ ok: err === null, out, stderr });
      },
    );
  });
}
