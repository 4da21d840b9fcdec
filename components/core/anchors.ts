/**
 * `spire-federation:anchors`: how the stack protects its anchors (see `../anchors.ts`).
 *
 * ```yaml
 * anchors:
 *   protect: true                  # default; false for throwaway stacks
 *   allowMigration: [clusterName]  # anchored values this update may change, on purpose
 *   deployedSpireChart: 0.30.0     # the spire chart version running now
 * ```
 */
import { z } from "zod";
import { ANCHORED_VALUE_NAMES, type AnchoredValue } from "../anchors";
import { chartVersion } from "../config-fields";
import { spireUpgradeProblem } from "../spire-upgrades";
import type { Report } from "./problems";

/** The schema of `anchors`. */
export const anchorsSchema = z.strictObject({
  protect: z.boolean({ error: "must be true or false" }).optional(),
  allowMigration: z
    .array(
      z.enum(ANCHORED_VALUE_NAMES as [AnchoredValue, ...AnchoredValue[]], {
        error: `must be one of ${ANCHORED_VALUE_NAMES.join(", ")}`,
      }),
      { error: "must be a list" },
    )
    .optional(),
  deployedSpireChart: chartVersion("0.30.0").optional(),
});

/** The anchors' model, with defaults. */
export interface AnchorsModel {
  /** Protect every anchor and let the guard refuse changes. Default: true. */
  protect: boolean;
  /** Anchored values this update may change. Default: none. */
  allowMigration: AnchoredValue[];
  /** The spire chart version running now, when the stack says so. */
  deployedSpireChart?: string;
}

/** The model of a valid `anchors` (or of none). */
export function anchorsModel(a: z.output<typeof anchorsSchema> | undefined): AnchorsModel {
  return {
    protect: a?.protect ?? true,
    allowMigration: [...new Set(a?.allowMigration ?? [])],
    ...(a?.deployedSpireChart === undefined ? {} : { deployedSpireChart: a.deployedSpireChart }),
  };
}

/**
 * A spire chart upgrade that skips a minor version, from `anchors.deployedSpireChart` to
 * `spire.chartVersion` (with its default applied), reported at `spire.chartVersion`.
 */
export function checkSpireUpgrade(
  deployed: string | undefined,
  next: string | undefined,
  report: Report,
): void {
  if (deployed === undefined || next === undefined) return;
  const problem = spireUpgradeProblem(deployed, next);
  if (problem !== undefined) {
    report(["spire", "chartVersion"], `${problem} (anchors.deployedSpireChart is ${deployed})`);
  }
}
