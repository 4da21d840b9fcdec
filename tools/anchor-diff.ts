/**
 * Anchor changes between two offline plans: every change to an anchor (see
 * `components/anchors.ts`) that `pulumi up` would refuse, or that replaces or deletes one.
 *
 * The engine's rules this follows (pulumi/pulumi `pkg/resource/deploy/step_generator.go` and
 * `step.go`, v3.259.0): a replacement of a resource protected in the old state and in the new
 * program is refused ("unable to replace resource … as it is currently marked for protection");
 * a delete of a resource protected in the old state is refused ("unable to delete resource …");
 * a change of a `replaceOnChanges` path replaces the resource. Offline, the provider's own
 * replacement rules are unknown: any other change to an anchor's inputs is named as one that may
 * replace it. A plan written before options were recorded counts its anchors as protected.
 */
import { ANCHOR_GUARD_TYPE, anchorOf } from "../components/anchors";
import type { PlanDiff } from "./diff";
import type { Plan, PlanResource } from "./plan-types";

/** What a change does to an anchor. */
export type AnchorEffect =
  | "refused" // pulumi up refuses it (a protected anchor replaced or deleted)
  | "replaces" // it replaces or deletes an unprotected anchor
  | "changes" // it changes an anchor's inputs (the provider may replace it)
  | "unprotects"; // it drops an anchor's protection

/** One change to an anchor. */
export interface AnchorChange {
  /** URN (as in the plan that has it). */
  urn: string;
  /** Type token. */
  type: string;
  /** Logical name. */
  name: string;
  /** What the change does. */
  effect: AnchorEffect;
  /** The reason, as the user reads it. */
  reason: string;
}

/** The exit code of `npm run plan -- --diff` when an anchor changes. */
export const ANCHOR_EXIT_CODE = 5;

const summary = (r: PlanResource) => ({ urn: r.urn, type: r.type, name: r.name });

function isAnchor(r: PlanResource): boolean {
  return anchorOf(r.type, r.name) !== undefined || r.options?.protect === true;
}

/** Protected in a plan; a plan without recorded options counts an anchor as protected. */
function wasProtected(r: PlanResource): boolean {
  return r.options === undefined ? isAnchor(r) : r.options.protect;
}

/** Whether property path `path` falls under (or contains) the `replaceOnChanges` path `roc`. */
function under(path: string, roc: string): boolean {
  const within = (a: string, b: string) =>
    a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return within(path, roc) || within(roc, path) || roc === "*";
}

/**
 * Whether a changed path counts: on an anchor that names its inputs, only those; on the guard
 * only its anchored values count (`anchors.<name>`), and not those its
 * `allowMigration` lets through; a chart version or a setting of its own is no anchor change.
 */
function counts(r: PlanResource, path: string): boolean {
  const inputs = anchorOf(r.type, r.name)?.inputs;
  if (inputs !== undefined) return inputs.some((i) => under(path, i));
  if (r.type !== ANCHOR_GUARD_TYPE) return true;
  const m = /^anchors\.([A-Za-z]+)/.exec(path);
  const allowed = r.inputs.allowMigration;
  return m !== null && !(Array.isArray(allowed) && allowed.includes(m[1]));
}

/** Every change to an anchor from `base` to `plan` (given their diff). */
export function anchorChanges(base: Plan, plan: Plan, diff: PlanDiff): AnchorChange[] {
  const norm = (p: Plan, urn: string) => urn.replace(`urn:pulumi:${p.stack}::`, "urn:pulumi:*::");
  const before = new Map(base.resources.map((r) => [norm(base, r.urn), r]));
  const after = new Map(plan.resources.map((r) => [norm(plan, r.urn), r]));
  const out: AnchorChange[] = [];
  const what = (r: PlanResource) => anchorOf(r.type, r.name)?.what ?? "a protected resource";
  for (const removed of diff.removed) {
    const r = before.get(norm(base, removed.urn));
    if (r === undefined || !isAnchor(r)) continue;
    const refused = wasProtected(r);
    out.push({
      ...removed,
      effect: refused ? "refused" : "replaces",
      reason: refused
        ? `deletes ${what(r)}, protected: pulumi up refuses ("unable to delete resource … as it is currently marked for protection"); a new name or parent is a new URN`
        : `deletes ${what(r)} (a new name or parent is a new URN)`,
    });
  }
  for (const changed of diff.changed) {
    const r = after.get(norm(plan, changed.urn));
    const old = before.get(norm(plan, changed.urn));
    if (r === undefined || old === undefined || !(isAnchor(r) || isAnchor(old))) continue;
    const paths = changed.changes
      .map((c) => c.path)
      .filter((p) => !p.startsWith("(") && counts(r, p));
    const nowProtected = r.options?.protect ?? true;
    if (paths.length === 0) continue;
    const rocs = r.options?.replaceOnChanges ?? [];
    const replacing = paths.filter((p) => rocs.some((roc) => under(p, roc)));
    if (replacing.length > 0) {
      const refused = nowProtected && wasProtected(old);
      out.push({
        ...changed,
        effect: refused ? "refused" : "replaces",
        reason:
          `${replacing.join(", ")} changed (replaceOnChanges): replaces ${what(r)}` +
          (refused
            ? `, protected: pulumi up refuses ("unable to replace resource … as it is currently marked for protection")`
            : ""),
      });
      continue;
    }
    out.push({
      ...changed,
      effect: "changes",
      reason: `${paths.join(", ")} changed on ${what(r)}: the provider may replace it${nowProtected ? " (protected: pulumi up then refuses)" : ""}`,
    });
  }
  // Protection dropped (resources in both plans, changed or not).
  for (const [k, r] of after) {
    const old = before.get(k);
    if (old === undefined || !isAnchor(old) || r.options === undefined || r.options.protect) {
      continue;
    }
    if (!wasProtected(old)) continue;
    out.push({ ...summary(r), effect: "unprotects", reason: `drops the protection of ${what(r)}` });
  }
  return out;
}

/** The anchor changes in a readable form (Markdown-safe, like the diff). */
export function formatAnchorChanges(changes: readonly AnchorChange[]): string {
  if (changes.length === 0) return "Anchors: no change";
  return [
    `Anchors: ${changes.length} change${changes.length === 1 ? "" : "s"} to anchors (exit ${ANCHOR_EXIT_CODE})`,
    ...changes.map((c) => `! ${c.effect}  ${c.type}  ${c.name}: ${c.reason}`),
  ].join("\n");
}
