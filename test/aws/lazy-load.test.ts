/**
 * `@pulumi/aws` stays off the plan of stacks without an `aws` block: importing the package and
 * planning such a stack loads none of it; planning the aws stack loads only the two submodules
 * the component uses, not the root module. Each case in a fresh node process (the module cache
 * is the evidence).
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers";

/** The `@pulumi/aws` files a fresh process has loaded after `body` (run from the repo root). */
function loadedAwsModules(body: string): string[] {
  const script = `
(async () => {
  ${body}
  const aws = Object.keys(require.cache)
    .filter((f) => f.includes(${JSON.stringify(`${path.sep}@pulumi${path.sep}aws${path.sep}`)}))
    .map((f) => f.slice(f.indexOf("@pulumi")).split(${JSON.stringify(path.sep)}).join("/"));
  console.log(JSON.stringify(aws.sort()));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
`;
  const out = execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!) as string[];
}

const planOf = (stack: string) =>
  `const { planStack } = require("./bin/tools/plan.js"); await planStack(${JSON.stringify(stack)});`;

describe("loading @pulumi/aws", () => {
  it("importing the package root and the policies loads none of it", () => {
    expect(
      loadedAwsModules(
        'require("./bin/components/index.js"); require("./bin/components/policies.js");',
      ),
    ).toEqual([]);
  });

  it("planning a stack without an aws block loads none of it", () => {
    expect(loadedAwsModules(planOf("dev"))).toEqual([]);
  });

  it("planning the aws stack loads the iam and rolesanywhere modules, not the root", () => {
    const loaded = loadedAwsModules(planOf("aws"));
    expect(loaded).toContain("@pulumi/aws/iam/index.js");
    expect(loaded).toContain("@pulumi/aws/rolesanywhere/index.js");
    expect(loaded).not.toContain("@pulumi/aws/index.js");
    expect(loaded.filter((f) => f.startsWith("@pulumi/aws/ec2/"))).toEqual([]);
  });
});
