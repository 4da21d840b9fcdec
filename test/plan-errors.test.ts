/**
 * How the offline plan fails: `--diff` and `--json` files checked before planning, a duplicate
 * URN failing the plan in the engine's words, and long error lists cut after 100 problems.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { formatError, readBasePlan } from "../tools/plan";
import { loadStackConfig } from "../tools/stack-config";
import { prepareProgram, runProgram } from "./compiled";
import { ROOT } from "./helpers";

const PLAN_JS = path.join(ROOT, "bin", "tools", "plan.js");
const plan = (...args: string[]) =>
  spawnSync(process.execPath, [PLAN_JS, ...args], { encoding: "utf8" });

describe("--diff and --json files are checked before planning", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "plan-files-"));
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  // "no-such-stack": had the plan run first, the error would be about the stack file.
  const expectError = (args: string[], message: string) => {
    const r = plan("--stack", "no-such-stack", ...args);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`error: ${message}\n`);
    expect(r.status).toBe(1);
  };

  it("--diff: missing, a directory, not JSON, not a plan", () => {
    const missing = path.join(dir, "missing.json");
    expectError(["--diff", missing], `--diff ${missing}: no such file`);
    expectError(["--diff", dir], `--diff ${dir}: is a directory`);
    const notJson = file("not.json", "{ resources: [] }");
    const r = plan("--stack", "no-such-stack", "--diff", notJson);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: --diff ${notJson}: not JSON \\(.+\\)\\n$`));
    const cases: [unknown, string][] = [
      [[], "not a JSON object"],
      [{ "root-key-in-state": "mandatory" }, "stack is not a string"],
      [{ stack: "prod", resources: {}, outputs: {} }, "resources is not a list"],
      [{ stack: "prod", resources: [] }, "outputs is not an object"],
      [
        { stack: "prod", resources: [{ urn: "u", type: "t" }], outputs: {} },
        "resources[0].name is not a string",
      ],
      [
        {
          stack: "prod",
          resources: [
            { urn: "u", type: "t", name: "n", parent: null, inputs: {}, dependencies: [1] },
          ],
          outputs: {},
        },
        "resources[0].dependencies is not a list of URNs",
      ],
    ];
    for (const [i, [content, why]] of cases.entries()) {
      const f = file(`bad-${i}.json`, JSON.stringify(content));
      expect(() => readBasePlan(f)).toThrow(`not a plan (a --json output of npm run plan): ${why}`);
    }
    // and on the command line
    const f = file("bad.json", JSON.stringify(cases[1][0]));
    expectError(
      ["--diff", f],
      `--diff ${f}: not a plan (a --json output of npm run plan): ${cases[1][1]}`,
    );
  });

  it("--json: a missing folder, a file as a folder, a directory, an unwritable place", () => {
    const inMissing = path.join(dir, "no", "such", "plan.json");
    expectError(
      ["--json", inMissing],
      `--json ${inMissing}: directory ${path.dirname(inMissing)} does not exist`,
    );
    const underFile = path.join(file("a-file", "x"), "plan.json");
    expectError(["--json", underFile], `--json ${underFile}: a folder on its path is a file`);
    expectError(["--json", dir], `--json ${dir}: is a directory`);
    // sysfs refuses new files even to root (a chmod would not stop root)
    expectError(
      ["--json", "/sys/plan.json"],
      "--json /sys/plan.json: cannot be written (permission denied)",
    );
  });

  it("the check leaves no file behind, and keeps an existing one", () => {
    const fresh = path.join(dir, "fresh.json");
    expectError(
      ["--json", fresh, "--diff", path.join(dir, "missing.json")],
      `--diff ${path.join(dir, "missing.json")}: no such file`,
    );
    expect(existsSync(fresh)).toBe(false);
    const r = plan("--stack", "no-such-stack", "--json", fresh);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: no stack file");
    expect(existsSync(fresh)).toBe(false);
    const old = file("old.json", "kept");
    expect(plan("--stack", "no-such-stack", "--json", old).status).toBe(1);
    expect(readFileSync(old, "utf8")).toBe("kept");
  });
});

describe("a duplicate URN fails the plan as the engine does", () => {
  // The program's own copy of the SDK: the one the compiled harness mocks.
  const pulumi = createRequire(path.join(ROOT, "bin", "tools", "harness.js"))(
    "@pulumi/pulumi",
  ) as typeof import("@pulumi/pulumi");
  // A custom resource of any type (the SDK's class is abstract in its typings, not at run time).
  const Custom = pulumi.CustomResource as unknown as new (
    type: string,
    name: string,
    props: object,
    opts?: import("@pulumi/pulumi").CustomResourceOptions,
  ) => import("@pulumi/pulumi").CustomResource;
  const run = (build: () => void) =>
    runProgram(
      () => () => {
        build();
        return {};
      },
      { project: "tiny", stack: "test", config: {}, preview: true },
    );
  const thing = (name: string, opts: import("@pulumi/pulumi").CustomResourceOptions = {}) =>
    new Custom("test:index:Thing", name, {}, opts);

  it("two resources of the same type and name", async () => {
    const error = await run(() => {
      thing("a");
      thing("a");
    }).catch((e: unknown) => e);
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      "Duplicate resource URN 'urn:pulumi:test::tiny::test:index:Thing::a'; try giving it a unique name",
    );
  });

  it("one line per duplicated URN", async () => {
    const error = await run(() => {
      for (const n of ["a", "b", "a", "b", "a"]) thing(n);
    }).catch((e: unknown) => e as Error);
    expect((error as Error).message.split("\n")).toEqual([
      "Duplicate resource URN 'urn:pulumi:test::tiny::test:index:Thing::a'; try giving it a unique name",
      "Duplicate resource URN 'urn:pulumi:test::tiny::test:index:Thing::b'; try giving it a unique name",
      "Duplicate resource URN 'urn:pulumi:test::tiny::test:index:Thing::a'; try giving it a unique name",
    ]);
    expect(formatError((error as Error).message).split("\n")[1]).toMatch(
      /^error: Duplicate resource URN /,
    );
  });

  it("the same name is fine under another type or another parent", async () => {
    const result = await run(() => {
      thing("a");
      new Custom("test:index:Other", "a", {});
      const parent = new pulumi.ComponentResource("test:index:Group", "g");
      thing("a", { parent });
    });
    expect(result.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "pulumi:pulumi:Stack tiny-test",
      "test:index:Group g",
      "test:index:Other a",
      "test:index:Thing a",
      "test:index:Thing a",
    ]);
  });

  it("compares the engine's URNs (whole parent type chain), not the mock's", async () => {
    // Two groups of one type under parents of different types: the engine's URNs of their
    // children differ (A$Group$Thing, B$Group$Thing), though the mock's (Group$Thing) coincide.
    const result = await run(() => {
      for (const outer of ["test:index:A", "test:index:B"]) {
        const top = new pulumi.ComponentResource(outer, "top");
        const group = new pulumi.ComponentResource("test:index:Group", "g", {}, { parent: top });
        thing("a", { parent: group });
      }
    });
    expect(result.resources).toHaveLength(7);
    // ...while the same chain twice is a duplicate, named by the engine's URN.
    const error = await run(() => {
      for (const name of ["g1", "g2"]) {
        const top = new pulumi.ComponentResource("test:index:A", name);
        const group = new pulumi.ComponentResource("test:index:Group", "g", {}, { parent: top });
        thing("a", { parent: group });
      }
    }).catch((e: unknown) => e as Error);
    expect((error as Error).message.split("\n")).toEqual([
      "Duplicate resource URN 'urn:pulumi:test::tiny::test:index:A$test:index:Group::g'; try giving it a unique name",
      "Duplicate resource URN 'urn:pulumi:test::tiny::test:index:A$test:index:Group$test:index:Thing::a'; try giving it a unique name",
    ]);
  });
});

describe("long error lists are cut after 100 problems", () => {
  it("formatError keeps 100 lines, then counts the rest; a list already cut stays", () => {
    const items = Array.from({ length: 130 }, (_, i) => `  problem ${i}`);
    const out = formatError(["invalid stack config:", ...items].join("\n")).split("\n");
    expect(out).toEqual([
      "error: invalid stack config:",
      ...items.slice(0, 100),
      "  … and 30 more",
    ]);
    const exactly = Array.from({ length: 100 }, (_, i) => `  p${i}`);
    expect(formatError(["h:", ...exactly].join("\n"))).toBe(["error: h:", ...exactly].join("\n"));
    const cut = ["h:", ...exactly, "  … and 7 more"].join("\n");
    expect(formatError(cut)).toBe(`error: ${cut}`);
  });

  it("the plan prints the first 100 config problems and the count of the rest", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "many-problems-"));
    const workloads = Array.from({ length: 130 }, (_, i) => ({
      name: `w${i}`,
      namespace: "Not_A_Label",
      serviceAccount: "sa",
    }));
    writeFileSync(
      path.join(dir, "Pulumi.many.yaml"),
      stringify({
        config: {
          "spire-federation:trustDomain": "many.example.com",
          "spire-federation:clusterName": "many",
          "spire-federation:workloads": workloads,
        },
      }),
    );
    // The whole list, as the program reports it.
    const { config, secretKeys } = loadStackConfig(ROOT, "many", dir);
    const full = await runProgram(prepareProgram, {
      project: "spire-federation",
      stack: "many",
      config,
      secretKeys,
      preview: true,
    }).catch((e: Error) => e.message.split("\n"));
    if (!Array.isArray(full)) throw new Error("the stack planned");
    // (the program may cut the list itself: then it ends in "… and K more")
    const problems = full.slice(1);
    const cut = /^ {2}… and (\d+) more$/.exec(problems[problems.length - 1]);
    const total = cut ? 100 + Number(cut[1]) : problems.length;
    expect(total).toBeGreaterThan(130);

    const r = plan("--stack", "many", "--stacks-dir", dir);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toEqual([
      "error: invalid stack config:",
      ...problems.slice(0, 100),
      `  … and ${total - 100} more`,
    ]);
  });
});
