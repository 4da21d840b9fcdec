/**
 * The OIDC readiness gate, run as Pulumi runs it (`node -e <script>`, the script built from the
 * compiled client in bin/), against the scriptable HTTPS fault server on 127.0.0.1 with a real
 * CA and server certificate: the happy path, what the document must say, and every fault ending
 * in exit 1 with one clear line, within bounds.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as ts from "typescript";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeCertificate } from "../fixtures";
import { computedOutputs, find, runStackFile } from "../helpers";
import { startFaultServer, type FaultServer, type Fault } from "../support/fault-server";

const load = createRequire(__filename);
const ROOT = path.resolve(__dirname, "..", "..");
/** The compiled modules (what Pulumi runs); their functions' source makes the script. */
const gate = load(
  path.join(ROOT, "bin/components/federation/vault/gate.js"),
) as typeof import("../../components/federation/vault/gate");
const client = load(
  path.join(ROOT, "bin/components/http/client.js"),
) as typeof import("../../components/http/client");

const WELL_KNOWN = "/.well-known/openid-configuration";

interface GateRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the gate script with `node -e`; resolves with exit code, output and duration. */
function runGate(env: Record<string, string>): Promise<GateRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", gate.gateScript()], {
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** The one line a failed gate prints (and that it printed exactly one line, nothing else). */
function failureLine(r: GateRun): string {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.endsWith("\n")).toBe(true);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  return r.stderr.trimEnd();
}

describe("OIDC readiness gate", () => {
  let server: FaultServer;
  let base: string;
  let url: string;
  /** The discovery document the server's handler serves. */
  let doc: unknown;

  beforeAll(async () => {
    server = await startFaultServer({
      tls: true,
      handler: (req) =>
        req.path === WELL_KNOWN
          ? { status: 200, body: JSON.stringify(doc) }
          : { status: 404, body: "{}" },
    });
    base = server.url;
    url = `${base}${WELL_KNOWN}`;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    doc = { issuer: base, jwks_uri: `${base}/keys` };
  });

  const env = (over: Record<string, string> = {}): Record<string, string> => ({
    GATE_ISSUER: base,
    GATE_ATTEMPTS: "3",
    GATE_INTERVAL_MS: "50",
    GATE_ATTEMPT_TIMEOUT_MS: "2000",
    GATE_DEADLINE_MS: "5000",
    GATE_MAX_BYTES: "65536",
    GATE_CA_PEM: server.caPem!,
    ...over,
  });

  describe("the document", () => {
    it("passes once the document names the expected issuer, retrying until then", async () => {
      server.next({ kind: "status", status: 503, body: "starting" });
      const r = await runGate(env());
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(r.stdout).toBe(`OIDC discovery ready at ${url} (jwks_uri ${base}/keys)\n`);
      expect(server.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
        `GET ${WELL_KNOWN}`,
        `GET ${WELL_KNOWN}`,
      ]);
    });

    it("fails on an issuer that differs by a trailing slash, naming both", async () => {
      doc = { issuer: `${base}/`, jwks_uri: `${base}/keys` };
      expect(failureLine(await runGate(env()))).toBe(
        `OIDC discovery at ${url} is not ready after 3 attempts: issuer mismatch: the document says "${base}/", expected "${base}" (exact match, trailing slash included)`,
      );
      expect(server.requests).toHaveLength(3);
    });

    it.each([
      [{ jwks_uri: "x" }, "the discovery document has no issuer"],
      [{ issuer: "ISSUER" }, "the discovery document has no jwks_uri"],
      [{ issuer: "ISSUER", jwks_uri: "" }, "the discovery document has no jwks_uri"],
      [["ISSUER"], "the discovery document is not a JSON object"],
      [null, "the discovery document is not a JSON object"],
    ])("fails on %j", async (body, reason) => {
      doc = JSON.parse(JSON.stringify(body).replace("ISSUER", base));
      expect(failureLine(await runGate(env({ GATE_ATTEMPTS: "1" })))).toBe(
        `OIDC discovery at ${url} is not ready after 1 attempt: ${reason}`,
      );
    });

    it("fails when the certificate is not trusted", async () => {
      const line = failureLine(await runGate(env({ GATE_CA_PEM: "", GATE_ATTEMPTS: "1" })));
      expect(line).toMatch(
        new RegExp(`^OIDC discovery at ${url} is not ready after 1 attempt: .*certificate`),
      );
    });

    it("fails with a clear message when nothing listens, after the bounded retries", async () => {
      const closed = await startFaultServer();
      const port = new URL(closed.url).port;
      await closed.close();
      const r = await runGate(env({ GATE_ISSUER: `https://127.0.0.1:${port}` }));
      expect(failureLine(r)).toBe(
        `OIDC discovery at https://127.0.0.1:${port}${WELL_KNOWN} is not ready after 3 attempts: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      expect(r.ms).toBeGreaterThanOrEqual(100); // two waits of 50 ms between three attempts
    });

    it("reports bad settings in one line, before any request", async () => {
      const r = await runGate(
        env({ GATE_ATTEMPTS: "0", GATE_DEADLINE_MS: "soon", GATE_ISSUER: "oidc.example.org" }),
      );
      expect(failureLine(r)).toBe(
        'OIDC readiness gate: GATE_ISSUER must be a URL, got "oidc.example.org"; GATE_ATTEMPTS must be an integer of at least 1, got "0"; GATE_DEADLINE_MS must be an integer of at least 1, got "soon"',
      );
      expect(server.requests).toHaveLength(0);
    });
  });

  describe("faults: each ends in exit 1 with one line, within bounds", () => {
    const one = (over: Record<string, string> = {}) => env({ GATE_ATTEMPTS: "1", ...over });

    it.each<[string, Fault]>([
      ["reset (RST)", { kind: "reset-mid-body", sendBytes: 20 }],
      ["close (FIN) short of content-length", { kind: "close-mid-body", sendBytes: 20 }],
      ["chunked body without its last chunk", { kind: "chunked-cut", sendBytes: 20 }],
    ])("a body cut off mid-way (%s) is no pass", async (_name, fault) => {
      server.next(fault);
      expect(failureLine(await runGate(one()))).toMatch(
        new RegExp(
          `^OIDC discovery at ${url} is not ready after 1 attempt: HTTP 200 body cut off after 20 bytes \\((read ECONNRESET|aborted)\\)$`,
        ),
      );
    });

    it("a cut-off body is retried like any failed attempt", async () => {
      server.next({ kind: "reset-mid-body", sendBytes: 20 });
      const r = await runGate(env());
      expect(r.code).toBe(0);
      expect(server.requests).toHaveLength(2);
    });

    it("an oversized document is refused", async () => {
      server.next({ kind: "oversized", bytes: 5_000_000, declareLength: false });
      expect(failureLine(await runGate(one({ GATE_MAX_BYTES: "4096" })))).toBe(
        `OIDC discovery at ${url} is not ready after 1 attempt: HTTP 200 body exceeds the limit of 4096 bytes`,
      );
    });

    it("a slow drip ends at the attempt timeout", async () => {
      server.next({ kind: "drip", everyMs: 100, count: 100 });
      const r = await runGate(one({ GATE_ATTEMPT_TIMEOUT_MS: "300" }));
      expect(failureLine(r)).toMatch(
        new RegExp(
          `^OIDC discovery at ${url} is not ready after 1 attempt: no complete answer within 300 ms \\(attempt timeout\\) while reading the body \\(\\d+ bytes\\)$`,
        ),
      );
      expect(r.ms).toBeLessThan(3000);
    });

    it("a server that never answers ends at the overall deadline, whatever the attempts", async () => {
      server.next(...Array<Fault>(30).fill({ kind: "hang" }));
      const r = await runGate(
        env({ GATE_ATTEMPTS: "30", GATE_ATTEMPT_TIMEOUT_MS: "250", GATE_DEADLINE_MS: "700" }),
      );
      expect(failureLine(r)).toMatch(
        new RegExp(
          `^OIDC discovery at ${url} is not ready after [23] attempts within the deadline of 700 ms: no complete answer within (250 ms \\(attempt timeout\\)|the deadline of \\d+ ms)$`,
        ),
      );
      expect(r.ms).toBeLessThan(3000);
    });

    it("429 with Retry-After: waits at least that long (not the shorter interval)", async () => {
      server.next({ kind: "retry-after", retryAfter: "1" });
      const r = await runGate(env());
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(server.requests).toHaveLength(2);
      expect(r.ms).toBeGreaterThanOrEqual(1000);
    });

    it("429 with a Retry-After past the deadline fails at once, saying why", async () => {
      server.next({ kind: "retry-after", retryAfter: "30" });
      const r = await runGate(env({ GATE_DEADLINE_MS: "2000" }));
      expect(failureLine(r)).toBe(
        `OIDC discovery at ${url} is not ready after 1 attempt within the deadline of 2 s: HTTP 429 (Retry-After 30 s)`,
      );
      expect(server.requests).toHaveLength(1);
      expect(r.ms).toBeLessThan(1500);
    });

    it("a 2xx that is not JSON is no pass", async () => {
      server.next({ kind: "not-json" });
      expect(failureLine(await runGate(one()))).toBe(
        `OIDC discovery at ${url} is not ready after 1 attempt: the discovery document: HTTP 200 body is not JSON (45 bytes, text/html)`,
      );
    });
  });
});

describe("the gate script", () => {
  it("is the same text on every build: no path, nothing loaded but Node built-ins", () => {
    const script = gate.gateScript();
    expect(gate.gateScript()).toBe(script);
    expect(script).not.toContain(ROOT);
    expect(script).not.toMatch(/__dirname|__filename|process\.cwd/);
    expect([...script.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1])).toEqual([
      '"node:http"',
      '"node:https"',
    ]);
    // one argument of `node -e`: Linux caps a single argument at 128 KiB (MAX_ARG_STRLEN)
    expect(Buffer.byteLength(script)).toBeLessThan(128 * 1024);
  });

  it("holds every top-level declaration of the client, and its imports as the same names", () => {
    const topLevel = (file: string, source: string) => {
      const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
      const names: string[] = [];
      const imports: string[] = [];
      for (const st of sf.statements) {
        if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) {
          names.push(st.name.text);
        } else if (ts.isVariableStatement(st)) {
          for (const d of st.declarationList.declarations) {
            const init = d.initializer;
            if (init && ts.isCallExpression(init) && init.expression.getText(sf) === "require") {
              imports.push(`${d.name.getText(sf)} = ${init.arguments[0].getText(sf)}`);
            } else names.push(d.name.getText(sf));
          }
        } else if (ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly) {
          const bound = st.importClause?.namedBindings;
          expect(
            bound && ts.isNamespaceImport(bound),
            `${st.getText(sf)} must be a namespace import`,
          ).toBe(true);
          imports.push(
            `${(bound as ts.NamespaceImport).name.text} = ${st.moduleSpecifier.getText(sf)}`,
          );
        }
      }
      return { names: names.sort(), imports: imports.sort() };
    };
    const source = topLevel(
      "client.ts",
      readFileSync(path.join(ROOT, "components/http/client.ts"), "utf8"),
    );
    const script = topLevel("client.js", client.clientScriptSource());
    expect(script.names).toEqual(source.names.filter((n) => n !== "clientScriptSource"));
    expect(script.imports).toEqual(source.imports);
  });

  it("is what the program plans, with the bounds in the environment", async () => {
    const root = await makeCertificate({ subject: "CN=unused", ca: true });
    const run = await runStackFile("prod", computedOutputs(root.pem, ""));
    const planned = find(run, "command:local:Command");
    expect(planned.rawInputs.create).toBe(gate.gateScript());
    expect(planned.rawInputs.environment).toEqual({
      GATE_ISSUER: "https://oidc.prod.spiffe.example.com",
      GATE_ATTEMPTS: "30",
      GATE_INTERVAL_MS: "10000",
      GATE_ATTEMPT_TIMEOUT_MS: "10000",
      GATE_DEADLINE_MS: "600000", // 30 × (10 s interval + 10 s attempt timeout)
      GATE_MAX_BYTES: "65536",
    });
  });
});
