/**
 * Writes a platform stack's outputs of the platform output contract
 * (`components/platform/contract.ts`) from its offline plan, as the fixture team stacks plan
 * against: `stacks/outputs/<org>/spire-federation/<stack>.json` (the convention of
 * `tools/stack-outputs.ts`), in the format of `pulumi stack output --json`.
 *
 *   node tools/build.cjs && node bin/tools/platform-outputs.js --stack prod --org acme
 *
 * A test holds the fixture equal to what the plan exports, so it cannot drift from the platform.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PLATFORM_OUTPUT_NAMES } from "../components/platform/contract";
import type { Json } from "./harness";
import { planStack, projectRoot } from "./plan";
import type { Plan } from "./plan-types";

/** The contract's outputs of a plan, in the contract's order; throws naming a missing one. */
export function platformOutputsOfPlan(plan: Plan): Record<string, Json> {
  const missing = PLATFORM_OUTPUT_NAMES.filter((n) => !(n in plan.outputs));
  if (missing.length > 0) {
    throw new Error(
      `stack ${plan.stack} does not export ${missing.join(", ")}: not a platform stack`,
    );
  }
  return Object.fromEntries(PLATFORM_OUTPUT_NAMES.map((n) => [n, plan.outputs[n]]));
}

/** The fixture's path for `org/spire-federation/stack` below `stacksDir`. */
export function platformFixturePath(stacksDir: string, org: string, stack: string): string {
  return path.join(stacksDir, "outputs", org, "spire-federation", `${stack}.json`);
}

/** The fixture's text: the contract's outputs as JSON, two-space indented, newline-terminated. */
export function platformFixtureText(outputs: Record<string, Json>): string {
  return JSON.stringify(outputs, null, 2) + "\n";
}

async function main(argv: readonly string[]): Promise<void> {
  const at = (flag: string) => {
    const i = argv.indexOf(flag);
    return i < 0 ? undefined : argv[i + 1];
  };
  const stack = at("--stack");
  const org = at("--org") ?? "acme";
  if (stack === undefined) {
    process.stderr.write("usage: platform-outputs --stack <platform stack> [--org <org>]\n");
    process.exitCode = 2;
    return;
  }
  const stacksDir = path.join(projectRoot(), "stacks");
  const outputs = platformOutputsOfPlan(await planStack(stack, stacksDir));
  const file = platformFixturePath(stacksDir, org, stack);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, platformFixtureText(outputs));
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message.split("\n").join("\n  ")}\n`);
    process.exitCode = 1;
  });
}
