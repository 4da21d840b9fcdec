/**
 * The pod patch's YAML comes from a fast path (components/workload/block-yaml.ts) that must give
 * `yaml`'s `stringify(value, { lineWidth: 0 })` byte for byte: on every stack's patches, on
 * values the library quotes or writes as block scalars, and on shapes the fast path hands over.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { blockYaml, surelyPlain } from "../../components/workload/block-yaml";
import { DEFAULT_HELPER_IMAGE } from "../../components/workload/index";
import { podPatch, podPatchYaml } from "../../components/workload/pod-patch";
import { workloadPaths } from "../../components/federation/paths";
import { stackNames } from "../../tools/bench";
import { loadStackConfig } from "../../tools/stack-config";
import { readStackOutputs } from "../../tools/stack-outputs";
import { prepareProgram, runProgram } from "../compiled";
import { ROOT } from "../helpers";

const library = (v: unknown) => stringify(v, { lineWidth: 0 });

/** Strings YAML writers must quote or write as block scalars, and some they write plain. */
const TRICKY = [
  "",
  " ",
  "yes",
  "no",
  "on",
  "true",
  "True",
  "FALSE",
  "null",
  "Null",
  "~",
  "123",
  "0123",
  "-1",
  "+1",
  "1.5",
  "1e3",
  ".5",
  "0x1F",
  "0o17",
  ".inf",
  "-.Inf",
  ".nan",
  "-",
  "- a",
  "-a",
  "?",
  "? a",
  "a: b",
  "a:b",
  "a:",
  "a :",
  "#x",
  "a #b",
  "a#b",
  "multi\nline",
  "trailing\n",
  "\nleading",
  " lead",
  "trail ",
  "tab\tinside",
  "---",
  "--- x",
  "...",
  "...x",
  "%x",
  "@x",
  "`x",
  "'q'",
  '"q"',
  "{x}",
  "[x]",
  "a,b",
  "a, b",
  "*x",
  "&x",
  "!x",
  "|x",
  ">x",
  "é",
  "naïve: yes",
  "https://vault.example.com:8200",
  "sha256:" + "ab".repeat(32),
  "x".repeat(200),
  "word ".repeat(40),
  "/run/spiffe/certs",
  "_x",
  "a=b",
  "a+b",
  "C:\\path",
  "\u0007bell",
];

/** A pod patch with one literal variable of each value, and the shapes around it. */
function patchWith(values: string[], i = 0) {
  return podPatch({
    container: `svc-${i}`,
    helperImage: DEFAULT_HELPER_IMAGE,
    paths: workloadPaths("/run/spiffe/certs"),
    configMap: `svc-${i}-spiffe`,
    env: [
      ...values.map((value, j) => ({ name: `V${j}`, value })),
      { name: "LATER", configMap: `svc-${i}-env`, key: "LATER" },
    ],
    fileMounts: [{ key: "gcp.json", path: "/etc/gcp/credentials.json" }],
    configChecksum: "sha256:" + "0".repeat(64),
  });
}

describe("the pod patch's YAML", () => {
  it("is the library's for a value of each kind, one at a time and all at once", () => {
    for (const value of TRICKY) {
      const patch = patchWith([value]);
      expect(podPatchYaml(patch), JSON.stringify(value)).toBe(library(patch));
    }
    const all = patchWith(TRICKY);
    expect(podPatchYaml(all)).toBe(library(all));
    const none = patchWith([]);
    none.spec.template.spec.containers[0].env = [];
    expect(podPatchYaml(none)).toBe(library(none));
    expect(podPatchYaml(none)).toContain("env: []");
  });

  it("is the library's for every workload of every stack in stacks/", async () => {
    let checked = 0;
    for (const stack of stackNames(ROOT)) {
      // The program's own outputs (the plan's copy went through Pulumi's serialization, which
      // sorts keys).
      const { config, secretKeys, secretPaths } = loadStackConfig(ROOT, stack);
      let files: Record<string, { podPatch: object; podPatchYaml: string }> = {};
      await runProgram(
        async () => {
          const build = await prepareProgram({ secretPaths });
          return () => {
            const out = build();
            files = (out.workloadFiles ?? {}) as typeof files;
            return out;
          };
        },
        {
          project: "spire-federation",
          stack,
          config,
          secretKeys,
          preview: true,
          stackOutputs: (name) => readStackOutputs(name, path.join(ROOT, "stacks")),
        },
      );
      for (const [name, out] of Object.entries(files)) {
        expect(out.podPatchYaml, `${stack}: ${name}`).toBe(library(out.podPatch));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  }, 300_000);
});

describe("blockYaml", () => {
  it("gives the library's output for shapes it writes and shapes it hands over", () => {
    const shapes: object[] = [
      { a: 1, b: 0, c: -0, d: -1, e: 1.5, f: 2 ** 60, g: true, h: false, i: null },
      { a: undefined, b: [undefined, null, 1], c: { d: undefined } },
      { list: [[1, 2], [], {}, { x: [] }, { y: {} }], empty: {}, none: [] },
      { "a b": 1, true: 2, "123": 3, "x:": 4, "-k": 5, "app.kubernetes.io/name": "x" },
      { nested: { deeper: { deepest: ["a", { b: "c", d: ["e", { f: "g" }] }] } } },
      { seqOfMaps: [{ a: 1 }, { b: { c: [1, "two", null] } }] },
      Object.assign(Object.create(null) as object, { a: 1 }),
      { date: new Date(0) },
      Object.fromEntries(TRICKY.map((v, i) => [`k${i}`, v])),
      Object.fromEntries(TRICKY.map((v, i) => [`k${i}`, [v, { v }]])),
    ];
    for (const shape of shapes)
      expect(blockYaml(shape), JSON.stringify(shape)).toBe(library(shape));
  });

  it("takes as surely plain only strings the library writes plain", () => {
    // Seeded random strings over the fast path's alphabet, plus every tricky value.
    const alphabet = "aZz_/09.@+=:-tTfFnNuUlLrRsSeE";
    let seed = 21;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const samples = [...TRICKY, "null", "True", "a:", "a::b", "/", "_", "a/"];
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + (next() % 8);
      samples.push(Array.from({ length: n }, () => alphabet[next() % alphabet.length]).join(""));
    }
    let plain = 0;
    for (const s of samples) {
      if (!surelyPlain(s)) continue;
      plain++;
      expect(library(s), JSON.stringify(s)).toBe(`${s}\n`);
    }
    expect(plain).toBeGreaterThan(5_000);
    expect(surelyPlain("true")).toBe(false);
    expect(surelyPlain("a:")).toBe(false);
    expect(surelyPlain("123")).toBe(false);
  });
});
