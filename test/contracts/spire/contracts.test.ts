/**
 * The SPIRE chart contracts are carried in the repository, and nothing the tests, the tools or CI
 * run reads outside it (a clone from GitHub has nothing beside it).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { chartValueKeys, ROOT, SPIRE_CONTRACTS } from "../../helpers";

/** Files under `dir` (relative to ROOT), skipping build output and dependencies. */
function filesUnder(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(abs, { recursive: true, encoding: "utf8" })
    .map((f) => path.join(dir, f))
    .filter((f) => !/(^|\/)(node_modules|bin)(\/|$)/.test(f))
    .filter((f) => statSync(path.join(ROOT, f)).isFile());
}

// Built from parts so that this file does not match itself.
const SHARED = new RegExp(
  ["\\.\\./", "shared"].join("") + "|" + ['"\\.\\."', '"shared"'].join(",\\s*"),
);

describe("SPIRE chart contracts in the repository", () => {
  it("no code, test, tool or CI file reads the folder beside the repository", () => {
    const files = [
      ...["program.ts", "index.ts", "package.json", "vitest.config.mts"],
      ...["components", "tools", "test", "policy", ".github", ".ci"].flatMap(filesUnder),
    ].filter((f) => /\.(ts|mts|mjs|js|json|ya?ml|sh)$/.test(f));
    expect(files.length).toBeGreaterThan(20);
    const hits = files.filter((f) => SHARED.test(readFileSync(path.join(ROOT, f), "utf8")));
    expect(hits).toEqual([]);
    // The pattern finds both ways of naming it.
    const up = "..";
    expect(SHARED.test(`path.resolve(ROOT, "${up}", "shared", "reference")`)).toBe(true);
    expect(SHARED.test(`${up}/shared/reference/x.tsv`)).toBe(true);
  });

  it("the README lists every file of the folder with its source", () => {
    const readme = readFileSync(path.join(SPIRE_CONTRACTS, "README.md"), "utf8");
    const data = readdirSync(SPIRE_CONTRACTS).filter((f) => /\.(tsv|ya?ml)$/.test(f));
    expect(data.sort()).toEqual([
      "spire-chart-0.30.0-values.tsv",
      "spire-crds-0.6.0-clusterfederatedtrustdomains.yaml",
      "spire-crds-0.6.0-clusterspiffeids.yaml",
      "spire-crds-0.6.0-clusterstaticentries.yaml",
    ]);
    for (const f of data) expect(readme).toContain(`\`${f}\``);
    expect(readme).toContain("https://github.com/spiffe/helm-charts-hardened");
    expect(readme).toContain("Apache-2.0");
  });

  it("the carried files are the pinned versions: chart 0.30.0 keys, spire-crds 0.6.0 CRDs", () => {
    const keys = chartValueKeys();
    expect(keys.get("spire-server.controllerManager.className")).toBe("str");
    expect(keys.size).toBeGreaterThan(900);
    for (const [file, kind] of [
      ["spire-crds-0.6.0-clusterspiffeids.yaml", "ClusterSPIFFEID"],
      ["spire-crds-0.6.0-clusterstaticentries.yaml", "ClusterStaticEntry"],
      ["spire-crds-0.6.0-clusterfederatedtrustdomains.yaml", "ClusterFederatedTrustDomain"],
    ]) {
      const text = readFileSync(path.join(SPIRE_CONTRACTS, file), "utf8");
      expect(text).toContain("at tag spire-crds-0.6.0 (commit 029f198). Licence: Apache-2.0.");
      const crd = parse(text);
      expect(crd.kind).toBe("CustomResourceDefinition");
      expect(crd.spec.names.kind).toBe(kind);
      expect(crd.spec.versions.map((v: { name: string }) => v.name)).toEqual(["v1alpha1"]);
    }
  });
});
