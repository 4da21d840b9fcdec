/**
 * The preview check against a preview digest shaped by the CLI's source (carried in
 * test/contracts/pulumi/): every field the sample uses is a JSON tag of the carried structs, every
 * op is an engine step op, and the check finds exactly the anchors replaced or deleted.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { anchorFindings, DESTRUCTIVE_OPS, digestProblem, main } from "../../tools/anchors-check";

const dir = path.join(__dirname, "../contracts/pulumi");
const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
const sample = JSON.parse(read("preview-digest-sample.json")) as {
  steps: Record<string, unknown>[];
  diagnostics: Record<string, unknown>[];
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the sample follows the CLI's PreviewDigest (v3.259.0)", () => {
  const tags = (text: string, struct: string) => {
    const body = new RegExp(`type ${struct} struct \\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? "";
    return new Set([...body.matchAll(/json:"([^",]+)/g)].map((m) => m[1]));
  };
  const display = read("display-json-v3.259.0.go.txt");

  it("top-level, step and diagnostic fields are JSON tags of the structs", () => {
    const top = tags(display, "PreviewDigest");
    expect(top).toEqual(
      new Set(["config", "steps", "diagnostics", "duration", "changeSummary", "maybeCorrupt"]),
    );
    for (const k of Object.keys(sample)) expect(top.has(k), k).toBe(true);
    const step = tags(display, "PreviewStep");
    for (const s of sample.steps) for (const k of Object.keys(s)) expect(step.has(k), k).toBe(true);
    const diag = tags(display, "PreviewDiagnostic");
    for (const d of sample.diagnostics) {
      for (const k of Object.keys(d)) expect(diag.has(k), k).toBe(true);
    }
  });

  it("every op in the sample, and every op the check refuses, is an engine step op", () => {
    const ops = new Set(
      [...read("step-ops-v3.259.0.go.txt").matchAll(/display\.StepOp = "([^"]+)"/g)].map(
        (m) => m[1],
      ),
    );
    for (const s of sample.steps) expect(ops.has(String(s.op)), String(s.op)).toBe(true);
    for (const op of DESTRUCTIVE_OPS) expect(ops.has(op), op).toBe(true);
  });
});

describe("the check", () => {
  it("finds the replaced pool (each replacement step) and the deleted CA, not the IAM member", () => {
    expect(
      anchorFindings(sample as never).map((f) => [f.op, f.urn.split("::").pop(), f.what]),
    ).toEqual([
      ["create-replacement", "spire-federation-gcp-pool", expect.stringContaining("Google pool")],
      ["replace", "spire-federation-gcp-pool", expect.stringContaining("Google pool")],
      ["delete-replaced", "spire-federation-gcp-pool", expect.stringContaining("Google pool")],
      ["delete", "spire-federation-openziti-ca", expect.stringContaining("OpenZiti CA")],
    ]);
  });

  it("exits 1 on the sample, printing each anchor and the engine's refusal", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(main([path.join(dir, "preview-digest-sample.json")])).toBe(1);
    const text = log.mock.calls.map((c) => String(c[0])).join("\n");
    expect(text).toContain(
      'engine: unable to replace resource "urn:pulumi:prod::spire-federation::spire-federation:index:SpireFederation$spire-federation:federation:Gcp$gcp:iam/workloadIdentityPool:WorkloadIdentityPool::spire-federation-gcp-pool"',
    );
    expect(text).toMatch(/^anchors: 4 step\(s\) replace or delete an anchor/m);
  });

  it("exits 0 when only non-anchors change, 2 on what is not a digest", () => {
    const tmp = mkdtempSync(path.join(tmpdir(), "preview-"));
    const ok = path.join(tmp, "ok.json");
    writeFileSync(ok, JSON.stringify({ ...sample, steps: sample.steps.slice(0, 2) }));
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(main([ok])).toBe(0);
    const bad = path.join(tmp, "bad.json");
    writeFileSync(bad, JSON.stringify({ steps: [{ op: "replace" }] }));
    expect(main([bad])).toBe(2);
    expect(err.mock.calls[0][0]).toBe(
      `error: ${bad}: not a pulumi preview --json output: steps[0].urn is not a URN`,
    );
    expect(main([])).toBe(2);
    expect(digestProblem([])).toBe("not a JSON object");
  });
});
