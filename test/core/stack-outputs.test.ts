import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runProgram } from "../../tools/harness";
import { parseArgs } from "../../tools/plan";
import {
  parseStackOutputsFlag,
  readStackOutputs,
  stackOutputsFile,
} from "../../tools/stack-outputs";

const dir = mkdtempSync(path.join(tmpdir(), "stack-outputs-"));
mkdirSync(path.join(dir, "outputs", "acme", "spire-federation"), { recursive: true });
writeFileSync(
  path.join(dir, "outputs", "acme", "spire-federation", "east.json"),
  JSON.stringify({ trustDomain: "east.example.com", issuerUrl: "https://oidc.east.example.com" }),
);
const given = path.join(dir, "west.json");
writeFileSync(given, JSON.stringify({ trustDomain: "west.example.com" }));
writeFileSync(path.join(dir, "array.json"), "[1]");

function referencing(name: string, key: string) {
  return runProgram(
    () => () => {
      const ref = new pulumi.StackReference(name);
      return { value: ref.getOutput(key) };
    },
    {
      project: "p",
      stack: "s",
      config: {},
      preview: false,
      stackOutputs: (n) => readStackOutputs(n, dir, { "acme/spire-federation/west": given }),
    },
  );
}

describe("referenced stacks' outputs, offline", () => {
  it("reads a StackReference's outputs by the stacks folder's convention", async () => {
    const run = await referencing("acme/spire-federation/east", "issuerUrl");
    expect(run.outputs.value).toBe("https://oidc.east.example.com");
  });

  it("reads the file --stack-outputs names before the convention", async () => {
    const run = await referencing("acme/spire-federation/west", "trustDomain");
    expect(run.outputs.value).toBe("west.example.com");
  });

  it("fails the run naming the stack, the file looked for and the flag", async () => {
    await expect(referencing("acme/spire-federation/north", "x")).rejects.toThrow(
      `stack reference acme/spire-federation/north: no outputs at ${path.join(dir, "outputs", "acme", "spire-federation", "north.json")}; give its outputs with --stack-outputs acme/spire-federation/north=FILE`,
    );
  });

  it("refuses a file that is not one JSON object", () => {
    expect(() => readStackOutputs("a/b/c", dir, { "a/b/c": path.join(dir, "array.json") })).toThrow(
      `stack reference a/b/c: ${path.join(dir, "array.json")} must hold one JSON object of outputs`,
    );
  });

  it("parses --stack-outputs, repeatable, and refuses a malformed one", () => {
    const args = parseArgs([
      "--stack",
      "dev",
      "--stack-outputs",
      "a/b/c=one.json",
      "--stack-outputs",
      "d/e/f=two.json",
    ]);
    expect(args.stackOutputs).toEqual({ "a/b/c": "one.json", "d/e/f": "two.json" });
    expect(() => parseStackOutputsFlag("b/c=x.json")).toThrow(
      "--stack-outputs b/c=x.json: must be org/project/stack=FILE",
    );
    expect(stackOutputsFile("a/b/c", "/s")).toBe(path.join("/s", "outputs", "a", "b", "c.json"));
  });
});
