/**
 * A model of the Pulumi engine's rules for protected resources, applied to two offline plans:
 * the old one stands for the stack's state, the new one for the program's registrations, each
 * with the resource options the harness recorded. From pulumi/pulumi v3.259.0:
 *
 * - `pkg/resource/deploy/step_generator.go` `applyReplaceOnChanges`: a change of a property under
 *   a `replaceOnChanges` path turns the provider's update into a replacement;
 * - the same file, on a replacement: `if new.Protect && old.Protect` → error "unable to replace
 *   resource %q\nas it is currently marked for protection. To unprotect the resource, remove the
 *   `protect` flag from the resource in your Pulumi program and run `pulumi up`" (in preview and
 *   in up; unprotecting and replacing in one update is allowed: it does not look at old alone);
 * - `pkg/resource/deploy/step.go` `DeleteStep.Apply`: `if s.old.Protect` → error "unable to
 *   delete resource %q\nas it is currently marked for protection. …".
 *
 * Replacements the provider alone decides (its schema's ForceNew fields) are outside the model:
 * only what the recorded options say is modelled, which is what the guard relies on.
 */
import { diffValues } from "../../tools/diff";
import type { Plan, PlanResource } from "../../tools/plan-types";

/** One step the engine would take. */
export interface ModelStep {
  /** URN, with the stack part normalised. */
  urn: string;
  /** The operation. */
  op: "create" | "same" | "update" | "replace" | "delete";
}

/** What the engine would do from `state` to `program`. */
export interface ModelResult {
  /** Every step. */
  steps: ModelStep[];
  /** The engine's errors, in its words: the update fails when there is any. */
  errors: string[];
}

const norm = (p: Plan, urn: string) => urn.replace(`urn:pulumi:${p.stack}::`, "urn:pulumi:*::");

function underReplaceOnChanges(path: string, rocs: readonly string[]): boolean {
  return rocs.some(
    (roc) =>
      roc === "*" ||
      path === roc ||
      path.startsWith(`${roc}.`) ||
      path.startsWith(`${roc}[`) ||
      roc.startsWith(`${path}.`),
  );
}

const protectedOf = (r: PlanResource) => r.options?.protect === true;

/** Runs the model. */
export function engineModel(state: Plan, program: Plan): ModelResult {
  const old = new Map(state.resources.map((r) => [norm(state, r.urn), r]));
  const steps: ModelStep[] = [];
  const errors: string[] = [];
  for (const r of program.resources) {
    const urn = norm(program, r.urn);
    const before = old.get(urn);
    if (before === undefined) {
      steps.push({ urn, op: "create" });
      continue;
    }
    const paths = diffValues(before.inputs, r.inputs).map((c) => c.path);
    if (paths.length === 0) {
      steps.push({ urn, op: "same" });
      continue;
    }
    const replace = paths.some((p) => underReplaceOnChanges(p, r.options?.replaceOnChanges ?? []));
    if (replace && protectedOf(r) && protectedOf(before)) {
      errors.push(
        `unable to replace resource "${r.urn}"\nas it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``,
      );
    }
    steps.push({ urn, op: replace ? "replace" : "update" });
  }
  const kept = new Set(program.resources.map((r) => norm(program, r.urn)));
  for (const [urn, r] of old) {
    if (kept.has(urn)) continue;
    if (protectedOf(r)) {
      errors.push(
        `unable to delete resource "${r.urn}"\nas it is currently marked for protection. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program or use the command:\n\`pulumi state unprotect ${r.urn}\``,
      );
    }
    steps.push({ urn, op: "delete" });
  }
  return { steps, errors };
}
