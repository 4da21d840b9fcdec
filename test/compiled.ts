/**
 * The program and the plan as Pulumi and the CLI run them: the compiled CommonJS in bin/ (built
 * by `npm test` before the suite). Tests that register OpenZiti's dynamic resources need this:
 * Pulumi serializes a dynamic provider's code, which works on Node's modules but not on the
 * module objects vitest's transform substitutes for imports.
 */
import { createRequire } from "node:module";
import * as path from "node:path";

const load = createRequire(__filename);
const bin = (file: string): unknown => load(path.join(__dirname, "..", "bin", file));

export const { planStack, main } = bin("tools/plan.js") as typeof import("../tools/plan");
export const { prepareProgram } = bin("program.js") as typeof import("../program");
export const { runProgram } = bin("tools/harness.js") as typeof import("../tools/harness");
