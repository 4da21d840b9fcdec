/**
 * The OIDC readiness gate script, run as Pulumi would run it (`node -e <script>`), against a
 * local HTTPS server on 127.0.0.1 with a real CA and server certificate.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATE_SCRIPT } from "../components/federation/vault/gate";
import { makeLoopbackServerCredentials } from "./fixtures";

/** Runs the gate; resolves with exit code and output. */
function runGate(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", GATE_SCRIPT], {
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("OIDC readiness gate", () => {
  let server: Server;
  let caPem: string;
  let base: string;
  /** What the server answers, per request: [status, body]. */
  let answers: [number, string][] = [];
  let requests = 0;

  beforeAll(async () => {
    const creds = await makeLoopbackServerCredentials();
    caPem = creds.caPem;
    server = createServer({ key: creds.keyPem, cert: creds.certPem }, (req, res) => {
      requests++;
      const [status, body] = answers.shift() ?? [404, "{}"];
      res.writeHead(req.url === "/.well-known/openid-configuration" ? status : 404, {
        "content-type": "application/json",
      });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const env = (over: Record<string, string> = {}) => ({
    GATE_ISSUER: base,
    GATE_ATTEMPTS: "3",
    GATE_INTERVAL_MS: "50",
    GATE_CA_PEM: caPem,
    ...over,
  });

  it("passes once the document names the expected issuer, retrying until then", async () => {
    requests = 0;
    answers = [
      [503, "starting"],
      [200, JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` })],
    ];
    const r = await runGate(env());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`OIDC discovery ready at ${base}/.well-known/openid-configuration`);
    expect(requests).toBe(2);
  });

  it("fails on an issuer that differs by a trailing slash, naming both", async () => {
    answers = Array(3).fill([200, JSON.stringify({ issuer: `${base}/` })]);
    const r = await runGate(env());
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `OIDC discovery at ${base}/.well-known/openid-configuration is not ready after 3 attempts: issuer mismatch: the document says "${base}/", expected "${base}" (exact match, trailing slash included)`,
    );
  });

  it("fails when the certificate is not trusted", async () => {
    answers = Array(3).fill([200, JSON.stringify({ issuer: base })]);
    const r = await runGate(env({ GATE_CA_PEM: "", GATE_ATTEMPTS: "1" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /is not ready after 1 attempts: .*(self-signed|unable to verify|certificate)/i,
    );
  });

  it("fails with a clear message when nothing listens, after the bounded retries", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const started = Date.now();
    const r = await runGate(env({ GATE_ISSUER: `https://127.0.0.1:${port}` }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `OIDC discovery at https://127.0.0.1:${port}/.well-known/openid-configuration is not ready after 3 attempts: connect ECONNREFUSED`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(100); // two waits of 50 ms between three attempts
  });

  it("fails on a body that is not JSON", async () => {
    answers = [[200, "<html>"]];
    const r = await runGate(env({ GATE_ATTEMPTS: "1" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the response is not a JSON document");
  });
});
