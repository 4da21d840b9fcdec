/**
 * Stack files as the Pulumi CLI reads them: anchors, aliases and `<<` merge keys work; syntax
 * errors, duplicate keys and empty files stop the plan with the file, line and column, one line,
 * exit 1, no stack trace.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { isMap, parseDocument, YAMLMap } from "yaml";
import { StackFileError, stackConfigFromYaml } from "../tools/stack-config";
import { ROOT } from "./helpers";

const PLAN_JS = path.join(ROOT, "bin", "tools", "plan.js");

function problem(text: string): string {
  try {
    stackConfigFromYaml(text, "Pulumi.x.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(StackFileError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("stack file syntax", () => {
  it.each([
    [
      "a duplicate top-level key",
      "config:\n  a:x: 1\n  a:x: 2\n",
      'Pulumi.x.yaml:3:3: duplicate key "a:x" (first at line 2)',
    ],
    [
      "a duplicate nested key",
      "config:\n  a:db:\n    host: a\n    port: 1\n    host: b\n",
      'Pulumi.x.yaml:5:5: duplicate key "host" (first at line 3)',
    ],
    [
      "the same key quoted differently",
      "config:\n  \"a:x\": 1\n  'a:x': 2\n",
      'Pulumi.x.yaml:3:3: duplicate key "a:x" (first at line 2)',
    ],
    [
      "an unclosed flow sequence",
      "config:\n  a:x: [1, 2\n  a:y: 3\n",
      "Pulumi.x.yaml:3:3: flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
    ["an unclosed quote", 'config:\n  a:x: "abc\n', 'Pulumi.x.yaml:3:1: missing closing "quote'],
    [
      "a tab as indentation",
      "config:\n\ta:x: 1\n",
      "Pulumi.x.yaml:2:1: tabs are not allowed as indentation",
    ],
    [
      "two documents",
      "config:\n  a:x: 1\n---\nconfig: {}\n",
      "Pulumi.x.yaml:3:1: a stack file holds one YAML document; remove the second ---",
    ],
    ["an empty file", "", "Pulumi.x.yaml:1:1: the stack file is empty; it needs a config: mapping"],
    [
      "a file of comments",
      "# nothing yet\n\n",
      "Pulumi.x.yaml:1:1: the stack file is empty; it needs a config: mapping",
    ],
    [
      "a list at the top",
      "- config\n",
      "Pulumi.x.yaml:1:1: a stack file must be a mapping with a config: key",
    ],
    [
      "config as a list",
      "config:\n  - a:x\n",
      "Pulumi.x.yaml:2:3: config must be a mapping of keys to values",
    ],
    [
      "a merge of a scalar",
      "config:\n  a:k:\n    <<: 3\n",
      "Pulumi.x.yaml:3:9: a << merge key needs a mapping, an alias of one, or a list of them",
    ],
    [
      "a merge of an alias to a scalar",
      "config:\n  a:s: &s hello\n  a:k:\n    <<: *s\n",
      "Pulumi.x.yaml:4:9: a << merge key needs a mapping, an alias of one, or a list of them",
    ],
    [
      "an alias bomb",
      "config:\n  a:a: &a [x, x, x, x, x, x, x, x, x, x]\n  a:b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  a:c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n  a:d: [*c, *c]\n",
      "Pulumi.x.yaml: excessive alias count indicates a resource exhaustion attack",
    ],
  ])("%s: one line with file, line and column", (_, text, message) => {
    expect(problem(text)).toBe(message);
    expect(message).not.toContain("\n");
  });

  it("an empty config mapping is no error (the program reports the missing keys)", () => {
    expect(stackConfigFromYaml("config:\n")).toEqual({
      config: {},
      secretKeys: [],
      secretPaths: [],
    });
  });
});

describe("anchors, aliases and << merge keys, as the Pulumi CLI reads them", () => {
  it("merge a mapping, an alias and a list of them; explicit keys win", () => {
    const merged = stackConfigFromYaml(`config:
  a:base: &base
    port: 5432
    host: db
  a:db:
    <<: *base
    host: other
  a:list:
    <<: [{ x: 1 }, { x: 2, y: 2 }]
  a:secret:
    <<: *base
    password: { secure: v1:abc }
  a:quoted:
    "<<": literal
`);
    expect(merged.config).toEqual({
      "a:base": JSON.stringify({ port: 5432, host: "db" }),
      "a:db": JSON.stringify({ port: 5432, host: "other" }),
      // the first source wins over later ones (YAML merge key semantics)
      "a:list": JSON.stringify({ x: 1, y: 2 }),
      "a:secret": JSON.stringify({
        port: 5432,
        host: "db",
        password: "offline-plan-placeholder-secret",
      }),
      // a quoted "<<" is an ordinary key
      "a:quoted": JSON.stringify({ "<<": "literal" }),
    });
    expect(merged.secretKeys).toEqual(["a:secret"]);
  });

  it("a stack file written with merge keys plans exactly as the file it stands for", () => {
    // The prod stack with its spire block split into a merged base and overrides.
    const text = readFileSync(path.join(ROOT, "stacks", "Pulumi.prod.yaml"), "utf8");
    const doc = parseDocument(text, { merge: true });
    const spire = doc.getIn(["config", "spire-federation:spire"], true);
    if (!isMap(spire)) throw new Error("prod has no spire-federation:spire mapping");
    const base = new YAMLMap();
    for (const pair of spire.items.splice(0, 3)) base.items.push(pair);
    // a base value the explicit one overrides
    const overridden = spire.items[0];
    base.set(overridden.key, "overridden-by-the-explicit-value");
    spire.items.unshift(doc.createPair("<<", base));
    const merged = doc.toString();
    expect(merged).toContain("<<:");

    const dir = mkdtempSync(path.join(tmpdir(), "merge-"));
    writeFileSync(path.join(dir, "Pulumi.prod.yaml"), merged);
    const plan = (args: string[]) => {
      const out = path.join(dir, `${args.length}.json`);
      const r = spawnSync(process.execPath, [PLAN_JS, "--stack", "prod", "--json", out, ...args], {
        encoding: "utf8",
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      return readFileSync(out, "utf8");
    };
    expect(plan(["--stacks-dir", dir])).toBe(plan([]));
  });
});

describe("the plan command on a broken stack file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "stackfile-"));
  const run = (stack: string, text: string) => {
    writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return spawnSync(process.execPath, [PLAN_JS, "--stack", stack, "--stacks-dir", dir], {
      encoding: "utf8",
    });
  };

  it.each([
    [
      "dup",
      "config:\n  spire-federation:trustDomain: a.example.com\n  spire-federation:trustDomain: b.example.com\n",
      ':3:3: duplicate key "spire-federation:trustDomain" (first at line 2)',
    ],
    ["syntax", "config:\n  spire-federation:oidc: {host: a\n", ":3:1: "],
    ["empty", "", ":1:1: the stack file is empty; it needs a config: mapping"],
  ])("%s: exit 1, one line naming the file and line, no stack trace", (stack, text, where) => {
    const r = run(stack, text);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0].startsWith(`error: ${path.join(dir, `Pulumi.${stack}.yaml`)}${where}`)).toBe(
      true,
    );
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});
