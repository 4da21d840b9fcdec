/**
 * No source or test file over 450 lines: a file that grows past it is split by concern (as the
 * relying parties are: schema, rules, component, policies), its shared setup in a small module.
 * Upstream data carried in test/contracts/ is not ours to split.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

/** The most lines a .ts file of ours may have. */
const MAX_LINES = 450;
/** The folders whose .ts files are ours (bin/ is the build output of the others). */
const FOLDERS = ["components", "tools", "bench", "policy", "bin", "test"];
/** Below these, text carried from upstream. */
const CARRIED = [path.join("test", "contracts")];

/** Every .ts file below `root`'s folders (and at its top), as paths relative to `root`. */
function tsFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.name === "node_modules" || CARRIED.includes(rel)) continue;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".ts")) out.push(rel);
    }
  };
  for (const f of FOLDERS) if (existsSync(path.join(root, f))) walk(f);
  for (const f of readdirSync(root)) if (f.endsWith(".ts")) out.push(f);
  return out.sort();
}

/** Each .ts file of `root` over the limit, as `<path>: <lines> lines`. */
export function oversizedFiles(root: string): string[] {
  return tsFiles(root).flatMap((f) => {
    const text = readFileSync(path.join(root, f), "utf8");
    // Lines as `wc -l` counts them: a final newline ends the last line, it does not start one.
    const counted = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    return counted > MAX_LINES ? [`${f}: ${counted} lines`] : [];
  });
}

describe("file size", () => {
  it(`finds a .ts file over ${MAX_LINES} lines, and leaves carried contracts alone`, () => {
    const root = mkdtempSync(path.join(tmpdir(), "file-size-"));
    const lines = (n: number) => "x\n".repeat(n);
    mkdirSync(path.join(root, "components", "deep"), { recursive: true });
    mkdirSync(path.join(root, "test", "contracts", "x"), { recursive: true });
    writeFileSync(path.join(root, "components", "deep", "big.ts"), lines(MAX_LINES + 1));
    writeFileSync(path.join(root, "components", "ok.ts"), lines(MAX_LINES));
    writeFileSync(path.join(root, "components", "notes.md"), lines(MAX_LINES * 2));
    writeFileSync(path.join(root, "test", "contracts", "x", "carried.ts"), lines(MAX_LINES * 2));
    writeFileSync(path.join(root, "program.ts"), lines(MAX_LINES + 9));
    expect(oversizedFiles(root)).toEqual([
      `${path.join("components", "deep", "big.ts")}: 451 lines`,
      "program.ts: 459 lines",
    ]);
  });

  it(`no source or test file of the repository is over ${MAX_LINES} lines`, () => {
    expect(tsFiles(ROOT).length).toBeGreaterThan(100);
    expect(oversizedFiles(ROOT)).toEqual([]);
  });
});
