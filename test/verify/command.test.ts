/**
 * The command's surface: arguments and exit codes, outputs from stdin, the JSON report, the
 * default selection, and the `stack` check (outputs against the stack config).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../tools/verify/main";
import type { VerifyReport } from "../../tools/verify/report";
import {
  makeKey,
  PAYMENTS_ID,
  runVerify,
  startIssuer,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
  type Issuer,
} from "./support";

let issuer: Issuer;
let dir: string;
beforeAll(async () => {
  issuer = await startIssuer({ keys: [makeKey("k1").jwk] });
  dir = writeStack("t", vaultStackConfig());
});
afterAll(() => issuer.close());

async function usage(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(argv, { env: {}, out: () => undefined, err: (s) => err.push(s) });
  return { code, err: err.join("\n") };
}

describe("verify usage", () => {
  it.each([
    [[], "verify: --stack is required"],
    [["--stack", "t"], "verify: --outputs is required (a file, or - for stdin)"],
    [["--stack", "t", "--outputs"], "verify: --outputs needs a value"],
    [["--stack", "t", "--outputs", "x", "--bogus", "1"], "verify: unknown argument --bogus"],
    [
      ["--stack", "t", "--outputs", "x", "--checks", "discovery,aws"],
      "verify: --checks: unknown check aws; known: stack, discovery, rotation, vault, azure, gcp, openziti, curity, nodes, federation",
    ],
    [
      ["--stack", "t", "--outputs", "/nonexistent/o.json"],
      "verify: --outputs /nonexistent/o.json: cannot read (ENOENT)",
    ],
  ])("exits 2 on %j", async (argv, message) => {
    const r = await usage(argv);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe(message);
    expect(r.err).toContain("usage: npm run verify -- --stack NAME --outputs FILE|-");
  });

  it("exits 2 on an invalid stack config, listing its problems", async () => {
    const bad = writeStack("bad", {
      ...vaultStackConfig(),
      "spire-federation:trustDomain": "Not A Domain",
    });
    const r = await runVerify(bad, "bad", {}, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("verify: the stack config is invalid:");
    expect(r.stderr).toContain("spire-federation:trustDomain:");
  });

  it("exits 2 on a missing stack file", async () => {
    const r = await runVerify(dir, "nope", {}, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^verify: no stack file .*Pulumi\.nope\.yaml \(stack "nope"\)/);
  });
});

describe("verify run", () => {
  it("reads the outputs from stdin with --outputs -, and writes the same verdicts as JSON", async () => {
    const out: string[] = [];
    const json = path.join(dir, "report.json");
    const code = await main(
      [
        "--stack",
        "t",
        "--outputs",
        "-",
        "--stacks-dir",
        path.join(dir, "stacks"),
        "--checks",
        "stack",
        "--json",
        json,
      ],
      {
        env: {},
        out: (s) => out.push(s),
        err: () => undefined,
        stdin: () => JSON.stringify(vaultOutputs("https://oidc.test.example.com")),
      },
    );
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(json, "utf8")) as VerifyReport;
    expect(report.checks).toEqual(["stack"]);
    expect(report.summary).toEqual({ pass: 5, fail: 0, skip: 0 });
    expect(report.results[0]).toEqual({
      check: "stack",
      party: "core",
      name: "trustDomain",
      status: "PASS",
      reason: 'trustDomain is "test.example.com" in both',
    });
    expect(out.join("\n")).toContain("[core / payments-api]\n  PASS stack: spiffeId: spiffeId is");
  });

  it("stack: names each output that disagrees with the config, and a workload the config lacks", async () => {
    const outputs = vaultOutputs("https://oidc.old.example.com");
    (outputs.workloads as Record<string, string>)["gone"] = "spiffe://test.example.com/gone";
    (outputs.federation as Record<string, unknown>)["payments-api"] = {};
    const r = await runVerify(dir, "t", outputs, ["--checks", "stack"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL stack: issuerUrl: the outputs say "https://oidc.old.example.com", the stack config says "https://oidc.test.example.com"\n       fix: run pulumi up for this stack',
    );
    expect(r.stdout).toContain(
      '[core / payments-api]\n  PASS stack: spiffeId: spiffeId is "' +
        PAYMENTS_ID +
        '" in both\n  FAIL stack: relying parties: the outputs say [], the stack config says ["vault"]',
    );
    expect(r.stdout).toContain(
      "[core / gone]\n  FAIL stack: spiffeId: the outputs have workload gone, the stack config does not",
    );
  });

  it("selects every check the stack configures by default, and skips Vault without credentials", async () => {
    const r = await runVerify(dir, "t", vaultOutputs(issuer.url), [], { caPem: issuer.caPem });
    expect(r.stdout.split("\n")[0]).toBe(
      "verify: stack t (checks: stack, discovery, rotation, vault)",
    );
    expect(r.stdout).toContain(
      "SKIP vault: credentials: no VAULT_TOKEN in the environment\n       fix: export VAULT_ADDR and VAULT_TOKEN",
    );
  });
});
