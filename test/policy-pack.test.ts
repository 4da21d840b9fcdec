/**
 * The policy pack as an organisation publishes it: `policy/` packed on its own (`npm pack` there:
 * what `pulumi policy publish` uploads is that folder), unpacked into a scratch folder with
 * nothing beside it, its dependencies installed from the packed package tarball and from the
 * versions this repository's lockfile installed (no registry, no network), type-checked with its
 * own tsconfig, and started the way the Pulumi CLI starts a policy pack: the test asks it
 * GetAnalyzerInfo over gRPC on 127.0.0.1, as the engine does before a preview.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { policies } from "../components/policies";
import { ROOT } from "./helpers";
import {
  analyzerInfo,
  linkDependencies,
  npmPack,
  readManifest,
  unpack,
  type Manifest,
} from "./support/scratch-install";

let packDir: string;
let packFiles: string[];
let packManifest: Manifest;

beforeAll(() => {
  const scratch = mkdtempSync(path.join(tmpdir(), "policy-pack-"));
  const pkg = npmPack(ROOT, scratch);
  const pack = npmPack(path.join(ROOT, "policy"), scratch);
  packFiles = pack.files;
  packDir = path.join(scratch, "org-policy-pack");
  unpack(pack.tarball, packDir);
  packManifest = readManifest(packDir);
  const installed = path.join(packDir, "node_modules", "spire-federation");
  unpack(pkg.tarball, installed);
  const { dependencies = {}, devDependencies = {} } = packManifest;
  const { "spire-federation": _package, ...others } = dependencies;
  // The pack's own dependencies, then the package's, hoisted beside them as npm places them.
  linkDependencies(packDir, { ...others, ...devDependencies });
  linkDependencies(packDir, readManifest(installed).dependencies ?? {});
}, 120_000);

describe("the policy pack, packed on its own", () => {
  it("holds the pack's own files and depends on the package for its rules", () => {
    expect([...packFiles].sort()).toEqual([
      "PulumiPolicy.yaml",
      "README.md",
      "config/prod.json",
      "index.ts",
      "package.json",
      "tsconfig.json",
    ]);
    expect(readFileSync(path.join(packDir, "index.ts"), "utf8")).toContain(
      `from "spire-federation/policies"`,
    );
    expect(packManifest.dependencies).toMatchObject({ "spire-federation": "file:.." });
  });

  it("type-checks with its own tsconfig and compiles", () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      path.join(packDir, "tsconfig.json"),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
        },
      },
    );
    if (!config) throw new Error("no tsconfig");
    const program = ts.createProgram(config.fileNames, config.options);
    const emitted = program.emit();
    const problems = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    );
    expect(problems).toEqual([]);
  }, 600_000);

  it("serves every rule of the package to the engine", async () => {
    const info = await analyzerInfo(packDir, path.join("bin", "index.js"));
    expect(info.name).toBe("spire-federation");
    expect(info.version).toBe(packManifest.version);
    expect(info.policies.map((p) => p.name)).toEqual(policies.map((p) => p.name));
    expect(info.policies.length).toBeGreaterThan(20);
  }, 120_000);
});
