/**
 * Compares two offline plans (the JSON `--json` writes): resources added, removed and changed,
 * and for each change the property paths with old and new values. Plans already hold secrets as
 * "[secret]", so a diff never shows one.
 */
import type { Json } from "./harness";
import type { Plan, PlanResource } from "./plan-types";

/** One changed property. */
export interface PropertyChange {
  /** Path such as `values["spire-server"].replicaCount` or `audiences[0]`. */
  path: string;
  /** Value in the base plan (absent: undefined). */
  old?: Json;
  /** Value in this plan (absent: undefined). */
  new?: Json;
}

/** One changed resource. */
export interface ResourceChange {
  /** URN. */
  urn: string;
  /** Type token. */
  type: string;
  /** Logical name. */
  name: string;
  /** Changed inputs (and `dependencies` / `parent`, when those changed). */
  changes: PropertyChange[];
}

/** The difference between two plans. */
export interface PlanDiff {
  /** Resources only in this plan. */
  added: { urn: string; type: string; name: string }[];
  /** Resources only in the base plan. */
  removed: { urn: string; type: string; name: string }[];
  /** Resources in both whose inputs, dependencies or parent differ. */
  changed: ResourceChange[];
  /** Stack outputs that differ. */
  outputs: PropertyChange[];
  /** Changes to anchors (set by the plan's `--diff`; see `anchor-diff.ts`). */
  anchors?: import("./anchor-diff").AnchorChange[];
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function child(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (IDENT.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The property-level differences between two JSON values. */
export function diffValues(
  oldValue: Json | undefined,
  newValue: Json | undefined,
  path = "",
): PropertyChange[] {
  if (isObject(oldValue) && isObject(newValue)) {
    const keys = [...new Set([...Object.keys(oldValue), ...Object.keys(newValue)])].sort();
    return keys.flatMap((k) => diffValues(oldValue[k], newValue[k], child(path, k)));
  }
  if (Array.isArray(oldValue) && Array.isArray(newValue)) {
    const n = Math.max(oldValue.length, newValue.length);
    const out: PropertyChange[] = [];
    for (let i = 0; i < n; i++) out.push(...diffValues(oldValue[i], newValue[i], child(path, i)));
    return out;
  }
  if (JSON.stringify(oldValue) === JSON.stringify(newValue)) return [];
  const change: PropertyChange = { path };
  if (oldValue !== undefined) change.old = oldValue;
  if (newValue !== undefined) change.new = newValue;
  return [change];
}

const summary = (r: PlanResource) => ({ urn: r.urn, type: r.type, name: r.name });

/** Compares `plan` with `base`. */
export function diffPlans(base: Plan, plan: Plan): PlanDiff {
  // Stack URNs embed the stack name; compare resources by URN with the stack part normalised.
  const key = (p: Plan, urn: string) => urn.replace(`urn:pulumi:${p.stack}::`, "urn:pulumi:*::");
  const before = new Map(base.resources.map((r) => [key(base, r.urn), r]));
  const after = new Map(plan.resources.map((r) => [key(plan, r.urn), r]));
  const diff: PlanDiff = { added: [], removed: [], changed: [], outputs: [] };
  for (const [k, r] of after) {
    const old = before.get(k);
    if (!old) {
      diff.added.push(summary(r));
      continue;
    }
    const changes = diffValues(old.inputs, r.inputs);
    const deps = (p: Plan, x: PlanResource) => x.dependencies.map((d) => key(p, d)).sort();
    const oldDeps = deps(base, old);
    const newDeps = deps(plan, r);
    if (JSON.stringify(oldDeps) !== JSON.stringify(newDeps)) {
      changes.push({ path: "(dependencies)", old: oldDeps, new: newDeps });
    }
    const parent = (p: Plan, x: PlanResource) => (x.parent ? key(p, x.parent) : null);
    if (parent(base, old) !== parent(plan, r)) {
      changes.push({ path: "(parent)", old: parent(base, old), new: parent(plan, r) });
    }
    if (changes.length > 0) diff.changed.push({ ...summary(r), changes });
  }
  for (const [k, r] of before) {
    if (!after.has(k)) diff.removed.push(summary(r));
  }
  diff.outputs = diffValues(base.outputs, plan.outputs);
  return diff;
}

/** True when the plans are the same. */
export function isEmptyDiff(d: PlanDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length + d.outputs.length === 0;
}

/** A value for the readable form: long values are cut (the JSON diff keeps them whole). */
function show(v: Json | undefined): string {
  if (v === undefined) return "(absent)";
  const text = JSON.stringify(v);
  return text.length > 160 ? `${text.slice(0, 120)}… (${text.length} characters)` : text;
}

/** The diff in a readable form (also valid Markdown for a PR comment or job summary). */
export function formatDiff(d: PlanDiff, title = "Plan diff"): string {
  if (isEmptyDiff(d)) return `${title}: no changes`;
  const lines = [
    `${title}: ${d.added.length} to add, ${d.changed.length} to change, ${d.removed.length} to remove` +
      (d.outputs.length > 0 ? `, ${d.outputs.length} output changes` : ""),
  ];
  for (const r of d.added) lines.push(`+ ${r.type}  ${r.name}`);
  for (const r of d.removed) lines.push(`- ${r.type}  ${r.name}`);
  for (const r of d.changed) {
    lines.push(`~ ${r.type}  ${r.name}`);
    for (const c of r.changes) lines.push(`    ${c.path}: ${show(c.old)} => ${show(c.new)}`);
  }
  for (const c of d.outputs) lines.push(`~ output ${c.path}: ${show(c.old)} => ${show(c.new)}`);
  return lines.join("\n");
}
