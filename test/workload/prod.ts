/** The prod stack file, edited, planned as an update (everything resolves) under mocks. */
import type { ProgramRun } from "../../tools/harness";
import { loadStackConfig } from "../../tools/stack-config";
import { prepareProgram, runProgram } from "../compiled";
import { computedOutputs, ROOT } from "../helpers";

/** Plans prod after `edit` changed its config (`spire-federation:<key>` → JSON text). */
export async function runProdWith(
  edit: (config: Record<string, string>) => void,
): Promise<ProgramRun> {
  const { config, secretKeys } = loadStackConfig(ROOT, "prod");
  edit(config);
  return runProgram(prepareProgram, {
    project: "spire-federation",
    stack: "prod",
    config,
    secretKeys,
    preview: false,
    computed: computedOutputs("", ""),
  });
}

/** Merges `fields` into the JSON block `spire-federation:<key>` of a config. */
export function mergeBlock(config: Record<string, string>, key: string, fields: object): void {
  const block = JSON.parse(config[`spire-federation:${key}`]);
  config[`spire-federation:${key}`] = JSON.stringify({ ...block, ...fields });
}
