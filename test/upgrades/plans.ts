/** Plans of the example stacks with one edit to their stack file: the "new" side of a plan pair. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../tools/plan";
import { planStack } from "../compiled";
import type { Plan } from "../../tools/plan-types";

const cache = new Map<string, Promise<Plan>>();
// The SDK's mock runtime is global: plans run one after another.
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(run: () => Promise<T>): Promise<T> {
  const next = queue.then(run, run);
  queue = next.catch(() => undefined);
  return next;
}

/** The plan of an example stack as it is (cached: plans are deterministic). */
export function planOf(stack: string): Promise<Plan> {
  let p = cache.get(stack);
  if (p === undefined) {
    p = serial(() => planStack(stack));
    cache.set(stack, p);
  }
  return p;
}

/** The plan of an example stack after `edit` rewrote its stack file (which must change). */
export async function planEdited(stack: string, edit: (yaml: string) => string): Promise<Plan> {
  const dir = mkdtempSync(path.join(tmpdir(), "anchors-"));
  cpSync(path.join(projectRoot(), "stacks"), dir, { recursive: true });
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  const before = readFileSync(file, "utf8");
  const after = edit(before);
  if (after === before) throw new Error(`the edit changed nothing in ${stack}'s stack file`);
  writeFileSync(file, after);
  return serial(() => planStack(stack, dir));
}

/** Sets `spire-federation:anchors` (as YAML lines) in a stack file's config. */
export function withAnchors(yaml: string, lines: string[]): string {
  return yaml.replace(
    /^config:\n/m,
    `config:\n  spire-federation:anchors:\n${lines.map((l) => `    ${l}`).join("\n")}\n`,
  );
}
