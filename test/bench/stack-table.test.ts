/**
 * The stack table of bench/README.md (its `stacks` region: resources and critical paths) is the
 * one the plans of stacks/ give today, and the benchmark rewrites tracked files only when asked.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  formatted,
  readRegion,
  replaceRegion,
  stackTable,
  UPDATE_STACKS,
} from "../../tools/bench/readme";
import { parseBenchArgs, resultsFile, stackNames } from "../../tools/bench";
import type { Plan } from "../../tools/plan-types";
import { planStack } from "../compiled";
import { ROOT } from "../helpers";

const README = path.join(ROOT, "bench", "README.md");

describe("bench/README.md's stack table", () => {
  it(`is current (regenerate with ${UPDATE_STACKS})`, async () => {
    const plans: Plan[] = [];
    for (const stack of stackNames(ROOT)) plans.push(await planStack(stack));
    const text = readFileSync(README, "utf8");
    const expected = await formatted(replaceRegion(text, "stacks", stackTable(plans)), README);
    expect(
      readRegion(text, "stacks"),
      `bench/README.md's stack table is stale: run ${UPDATE_STACKS}`,
    ).toBe(readRegion(expected, "stacks"));
    // every stack, with the resource count of its plan
    for (const plan of plans) {
      expect(readRegion(text, "stacks")).toMatch(
        new RegExp(`\\| ${plan.stack} +\\| ${plan.resources.length} +\\|`),
      );
    }
  }, 300_000);

  it("is told apart from a table with another resource count", () => {
    const plan = (stack: string, n: number): Plan => ({
      stack,
      outputs: {},
      resources: Array.from({ length: n }, (_, i) => ({
        urn: `urn:${i}`,
        type: "x:y:Z",
        name: `r${i}`,
        parent: null,
        custom: true,
        inputs: {},
        dependencies: i ? [`urn:${i - 1}`] : [],
        propertyDependencies: {},
      })),
    });
    expect(stackTable([plan("dev", 2)])).toContain(
      "| dev | 2 | 2: r0 → r1 | 1 (1 unneeded edges) |",
    );
    expect(stackTable([plan("dev", 3)])).not.toEqual(stackTable([plan("dev", 2)]));
  });

  it("has its markers, and a region without them is refused", () => {
    expect(readRegion(readFileSync(README, "utf8"), "bench")).toBeDefined();
    expect(() => replaceRegion("# nothing here\n", "stacks", "x")).toThrow(
      "bench/README.md lacks the markers <!-- stacks:start --> … <!-- stacks:end -->",
    );
    expect(replaceRegion("a\n<!-- s:start -->\nold\n<!-- s:end -->\nb\n", "s", "new")).toBe(
      "a\n<!-- s:start -->\n\nnew\n\n<!-- s:end -->\nb\n",
    );
  });
});

describe("npm run bench", () => {
  it("writes its results outside the repository unless asked", () => {
    const file = resultsFile(parseBenchArgs([]), ROOT);
    expect(path.relative(ROOT, file).startsWith("..")).toBe(true);
    expect(resultsFile(parseBenchArgs(["--update-readme"]), ROOT)).toBe(
      path.join(ROOT, "bench", "results.json"),
    );
  });

  it("takes --update-stacks alone, not with --update-readme", () => {
    expect(parseBenchArgs(["--update-stacks"])).toMatchObject({
      updateStacks: true,
      updateReadme: false,
    });
    expect(() => parseBenchArgs(["--update-stacks", "--update-readme"])).toThrow(
      "--update-readme already updates the stacks region",
    );
  });
});
