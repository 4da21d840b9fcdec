/**
 * The anchor guard: one small resource whose inputs are the stack's anchored values (trust
 * domain, issuer, root fingerprint, cluster name, Vault path, pool ID, identity names) and the
 * deployed spire chart version. It needs no cloud and no cluster (a dynamic resource that lives
 * in the state only), so `pulumi preview` and `pulumi up` enforce it in every stack:
 *
 * - its `diff` refuses a change of an anchored value, naming the value, why it is an anchor and
 *   the way out (`anchors.allowMigration`), and refuses a spire chart upgrade that skips a minor;
 * - behind that, it is `protect`ed with `replaceOnChanges` on every anchored value not allowed to
 *   migrate: the engine itself refuses to replace a protected resource, in preview and in up
 *   (pulumi/pulumi `pkg/resource/deploy/step_generator.go`: `if new.Protect && old.Protect`
 *   on a replace → "unable to replace resource … as it is currently marked for protection").
 *
 * With `anchors.protect` false (throwaway stacks) the guard neither refuses nor is protected: a
 * change replaces it, as an ordinary step in the preview.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { ANCHORED_VALUES, ANCHOR_GUARD_TYPE, type AnchoredValue } from "./anchors";
import { spireUpgradeProblem } from "./spire-upgrades";

/** The anchored values, as the guard records them (absent: the stack does not have that one). */
export type AnchoredValues = Partial<Record<AnchoredValue, string>>;

/** The guard's state. */
export interface AnchorGuardState {
  /** The anchored values. */
  anchors: AnchoredValues;
  /** Values whose change is let through (`anchors.allowMigration`). */
  allowMigration: AnchoredValue[];
  /** Whether the guard refuses (`anchors.protect`). */
  enforce: boolean;
  /** The spire chart version. */
  spireChart: string;
}

/**
 * Anchored values that are lists (comma-joined, sorted): adding to one is an ordinary change,
 * only a name that disappears is refused (a removed identity is also a protected delete).
 */
export const LIST_VALUED: readonly AnchoredValue[] = ["azureIdentities"];

/** The names a list-valued anchor had and no longer has. */
function dropped(was: string, now: string | undefined): string[] {
  const kept = new Set((now ?? "").split(","));
  return was.split(",").filter((n) => n !== "" && !kept.has(n));
}

/** Whether going from `was` to `now` breaks anchor `key` (a change, or a dropped list entry). */
function breaks(key: AnchoredValue, was: string | undefined, now: string | undefined): boolean {
  if (was === undefined || was === now) return false;
  return LIST_VALUED.includes(key) ? dropped(was, now).length > 0 : true;
}

/** The way out, as every refusal ends. */
const WAY_OUT =
  'a changed anchor means a new stack; to migrate on purpose list it in spire-federation:anchors.allowMigration (see the README, "Anchors")';

/** Why the guard refuses to go from `olds` to `news`, one line per reason (empty: it does not). */
export function guardProblems(olds: Partial<AnchorGuardState>, news: AnchorGuardState): string[] {
  if (!news.enforce) return [];
  const problems: string[] = [];
  const before = olds.anchors ?? {};
  for (const key of Object.keys(ANCHORED_VALUES) as AnchoredValue[]) {
    const [was, now] = [before[key] || undefined, news.anchors[key]];
    if (!breaks(key, was, now) || news.allowMigration.includes(key)) continue;
    problems.push(
      `spire-federation:anchors: ${key} changed from ${JSON.stringify(was)} to ` +
        `${now === undefined ? "nothing" : JSON.stringify(now)} on a deployed stack; ` +
        `${ANCHORED_VALUES[key]}: ${WAY_OUT}`,
    );
  }
  if (olds.spireChart !== undefined) {
    const chart = spireUpgradeProblem(olds.spireChart, news.spireChart);
    if (chart !== undefined) problems.push(`spire-federation:spire.chartVersion: ${chart}`);
  }
  return problems;
}

/** The anchored values whose change replaces the guard: those not allowed to migrate. */
export function replacedOnChange(allowMigration: readonly AnchoredValue[]): string[] {
  return (Object.keys(ANCHORED_VALUES) as AnchoredValue[])
    .filter((k) => !allowMigration.includes(k) && !LIST_VALUED.includes(k))
    .map((k) => `anchors.${k}`);
}

/** The provider: state only, no API. Exported for tests. */
export const anchorGuardProvider: pulumi.dynamic.ResourceProvider = {
  diff(_id: string, olds: Partial<AnchorGuardState>, news: AnchorGuardState) {
    const problems = guardProblems(olds, news);
    if (problems.length > 0) return Promise.reject(new Error(problems.join("\n")));
    const before = olds.anchors ?? {};
    const changed = (Object.keys(ANCHORED_VALUES) as AnchoredValue[]).filter(
      (k) => before[k] !== news.anchors[k],
    );
    const replaces = changed
      .filter((k) => breaks(k, before[k], news.anchors[k]) && !news.allowMigration.includes(k))
      .map((k) => `anchors.${k}`);
    const others =
      olds.spireChart !== news.spireChart ||
      olds.enforce !== news.enforce ||
      JSON.stringify(olds.allowMigration) !== JSON.stringify(news.allowMigration);
    return Promise.resolve({ changes: changed.length > 0 || others, replaces });
  },
  create(inputs: AnchorGuardState) {
    return Promise.resolve({ id: "anchors", outs: inputs });
  },
  update(_id: string, _olds: AnchorGuardState, news: AnchorGuardState) {
    return Promise.resolve({ outs: news });
  },
};

/**
 * The SHA-256 of a root certificate PEM (whitespace-trimmed), hex: the guard's `root`; empty
 * while there is no PEM (never after the root is created).
 */
export function rootFingerprint(pem: string | undefined): string {
  return pem === undefined ? "" : createHash("sha256").update(pem.trim()).digest("hex");
}

/** Arguments of {@link AnchorGuard}. */
export interface AnchorGuardArgs {
  /** The anchored values; each may be an Output (the generated root's PEM fingerprint). */
  anchors: { [K in AnchoredValue]?: pulumi.Input<string> };
  /** Values whose change is let through (`anchors.allowMigration`). Default: none. */
  allowMigration?: AnchoredValue[];
  /** Refuse changes and be protected (`anchors.protect`). Default: true. */
  protect?: boolean;
  /** The spire chart version being deployed. */
  spireChart: string;
}

/** The anchor guard (type {@link ANCHOR_GUARD_TYPE}). */
export class AnchorGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: AnchorGuardArgs, opts: pulumi.CustomResourceOptions = {}) {
    const allowMigration = args.allowMigration ?? [];
    const protect = args.protect ?? true;
    super(
      anchorGuardProvider,
      name,
      { anchors: args.anchors, allowMigration, enforce: protect, spireChart: args.spireChart },
      { ...opts, protect, replaceOnChanges: replacedOnChange(allowMigration) },
      ANCHOR_GUARD_TYPE.split("/")[1].split(":")[0],
      ANCHOR_GUARD_TYPE.split(":").pop(),
    );
  }
}
