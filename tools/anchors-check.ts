/**
 * Fails on any replacement or delete of an anchor in a real preview:
 *
 *   pulumi preview --json --stack <stack> > preview.json
 *   npm run anchors-check -- preview.json
 *
 * The input is the CLI's preview digest (pulumi/pulumi v3.259.0 `pkg/display/json.go`
 * `PreviewDigest`: `steps[]` of `{op, urn, oldState?, newState?, …}`, `diagnostics[]`); the step
 * operations are the engine's (`pkg/resource/deploy/step.go`). Anchors are those of
 * `components/anchors.ts`, found by the type and name in each step's URN. The engine's own
 * refusals of a protected anchor (error diagnostics "…marked for protection") are listed too.
 *
 * Exit codes: 0 no anchor replaced or deleted, 1 one is (each printed), 2 usage or a file that
 * is not a preview digest.
 */
import { readFileSync } from "node:fs";
import { anchorOf, urnName, urnType } from "../components/anchors";

/** Step operations that replace or delete the resource (engine `IsReplacementStep` + delete). */
export const DESTRUCTIVE_OPS: ReadonlySet<string> = new Set([
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "import-replacement",
  "remove-pending-replace",
]);

/** One anchor a preview would replace or delete. */
export interface AnchorFinding {
  /** The step's operation. */
  op: string;
  /** The anchor's URN. */
  urn: string;
  /** What it anchors. */
  what: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Why `v` is not a preview digest, or undefined. */
export function digestProblem(v: unknown): string | undefined {
  if (!isObject(v)) return "not a JSON object";
  if (v.steps !== undefined && !Array.isArray(v.steps)) return "steps is not a list";
  for (const [i, s] of ((v.steps as unknown[] | undefined) ?? []).entries()) {
    if (!isObject(s)) return `steps[${i}] is not an object`;
    if (typeof s.op !== "string") return `steps[${i}].op is not a string`;
    if (typeof s.urn !== "string" || !s.urn.startsWith("urn:pulumi:")) {
      return `steps[${i}].urn is not a URN`;
    }
  }
  if (v.diagnostics !== undefined && !Array.isArray(v.diagnostics)) {
    return "diagnostics is not a list";
  }
  return undefined;
}

/** The anchors a preview digest replaces or deletes, one per (op, URN). */
export function anchorFindings(digest: { steps?: { op: string; urn: string }[] }): AnchorFinding[] {
  const seen = new Set<string>();
  const out: AnchorFinding[] = [];
  for (const s of digest.steps ?? []) {
    if (!DESTRUCTIVE_OPS.has(s.op)) continue;
    const kind = anchorOf(urnType(s.urn), urnName(s.urn));
    const key = `${s.op} ${s.urn}`;
    if (kind === undefined || seen.has(key)) continue;
    seen.add(key);
    out.push({ op: s.op, urn: s.urn, what: kind.what });
  }
  return out;
}

/** The engine's refusals of protected resources among the diagnostics. */
export function protectionErrors(digest: {
  diagnostics?: { severity?: string; message?: string }[];
}): string[] {
  return (digest.diagnostics ?? [])
    .filter((d) => d.severity === "error" && /marked for protection/.test(d.message ?? ""))
    .map((d) => (d.message ?? "").trim().split("\n")[0]);
}

/** CLI entry: returns the exit code. */
export function main(argv: string[]): number {
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    console.error("usage: npm run anchors-check -- <pulumi preview --json output>");
    return 2;
  }
  let digest: unknown;
  try {
    digest = JSON.parse(readFileSync(argv[0], "utf8")) as unknown;
  } catch (e) {
    console.error(`error: ${argv[0]}: ${(e as Error).message.split("\n")[0]}`);
    return 2;
  }
  const problem = digestProblem(digest);
  if (problem !== undefined) {
    console.error(`error: ${argv[0]}: not a pulumi preview --json output: ${problem}`);
    return 2;
  }
  const d = digest as Parameters<typeof anchorFindings>[0] & Parameters<typeof protectionErrors>[0];
  const findings = anchorFindings(d);
  const refusals = protectionErrors(d);
  for (const f of findings) console.log(`anchor ${f.op}: ${f.urn} (${f.what})`);
  for (const r of refusals) console.log(`engine: ${r}`);
  if (findings.length === 0) {
    console.log("anchors: no anchor is replaced or deleted");
    return 0;
  }
  console.log(
    `anchors: ${findings.length} step(s) replace or delete an anchor; see the README, "Anchors", for changing one on purpose`,
  );
  return 1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
