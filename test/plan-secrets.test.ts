/**
 * The offline plan never prints a secret. The prod stack's secure values (`{ secure: v1:… }`)
 * cannot be decrypted offline: stack-config.ts hands the program SECRET_PLACEHOLDER in their
 * place, as a Pulumi secret. So the placeholder is the known secret value: it must reach the
 * resources (else this test proves nothing) and appear in neither the printed plan nor its
 * JSON, in clear or encoded.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Json, ProgramRun } from "../tools/harness";
import { loadStackConfig, SECRET_PLACEHOLDER } from "../tools/stack-config";
import { prepareProgram, runProgram } from "./compiled";
import { ROOT } from "./helpers";

const STACK_FILE = path.join(ROOT, "stacks", "Pulumi.prod.yaml");

/** The secret and the forms a program might turn it into on its way to a resource. */
function forms(secret: string): string[] {
  const b = Buffer.from(secret);
  return [
    secret,
    b.toString("base64"),
    b.toString("base64").replace(/=+$/, ""),
    b.toString("base64url"),
    b.toString("hex"),
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
  ];
}

/** Every path in a raw value where a string holds the secret. */
function pathsHolding(
  v: unknown,
  secret: string,
  at: (string | number)[] = [],
): (string | number)[][] {
  if (typeof v === "string") return v.includes(secret) ? [at] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => pathsHolding(x, secret, [...at, i]));
  if (v !== null && typeof v === "object") {
    return Object.entries(v).flatMap(([k, x]) => pathsHolding(x, secret, [...at, k]));
  }
  return [];
}

/** True when the printed value at `p` (or a value above it) is "[secret]". */
function hiddenAt(rendered: Json, p: (string | number)[]): boolean {
  let v: Json | undefined = rendered;
  for (const key of p) {
    if (v === "[secret]") return true;
    if (v === null || typeof v !== "object") return false;
    v = (v as Record<string, Json>)[key as string];
  }
  return v === "[secret]";
}

describe("the prod plan never shows a secret", () => {
  const ciphertexts = [...readFileSync(STACK_FILE, "utf8").matchAll(/secure:\s*(\S+)/g)].map(
    (m) => m[1],
  );
  let run: ProgramRun;
  const providerCode: string[] = [];
  let printed: string;
  let json: string;

  beforeAll(async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "prod");
    run = await runProgram(prepareProgram, {
      project: "spire-federation",
      stack: "prod",
      config,
      secretKeys,
      preview: true,
      computed: (args) => {
        // the serialized code of a dynamic provider, which Pulumi keeps in the state in clear
        const code = (args.inputs as Record<string, unknown>).__provider;
        if (typeof code === "string") providerCode.push(code);
        return {};
      },
    });
    const out = path.join(mkdtempSync(path.join(tmpdir(), "secrets-")), "prod.json");
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, "bin", "tools", "plan.js"),
        "--stack",
        "prod",
        "--json",
        out,
        "--policy-config",
        path.join(ROOT, "policy", "config", "prod.json"),
      ],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(0);
    printed = r.stdout + r.stderr;
    json = readFileSync(out, "utf8");
  });

  it("the stack has secure values, and each reaches a resource as a secret", () => {
    expect(ciphertexts.length).toBeGreaterThanOrEqual(2);
    const holders = run.resources.flatMap((r) =>
      pathsHolding(r.rawInputs, SECRET_PLACEHOLDER).map((p) => ({ r, p })),
    );
    // the SPIRE datastore password and the OpenZiti password, at least
    expect(new Set(holders.map((h) => h.r.name)).size).toBeGreaterThanOrEqual(2);
    for (const { r, p } of holders) {
      expect(hiddenAt(r.inputs, p), `${r.name}: ${p.join(".")}`).toBe(true);
    }
  });

  it("neither the printed plan nor its JSON holds one, in clear or encoded", () => {
    expect(printed).toContain('Plan of stack "prod"');
    expect(json).toContain('"[secret]"');
    for (const form of forms(SECRET_PLACEHOLDER)) {
      expect(printed).not.toContain(form);
      expect(json).not.toContain(form);
    }
  });

  it("nor the serialized code of a dynamic provider (kept in the state in clear)", () => {
    expect(providerCode.length).toBeGreaterThan(0);
    for (const code of providerCode) {
      for (const form of forms(SECRET_PLACEHOLDER)) expect(code).not.toContain(form);
    }
  });

  it("nor the ciphertexts of the stack file", () => {
    for (const c of ciphertexts) {
      expect(printed).not.toContain(c);
      expect(json).not.toContain(c);
    }
  });
});
