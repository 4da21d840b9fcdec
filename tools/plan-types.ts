/** The shape of an offline plan, as `--json` writes it. */
import type { Json, ResourceOptionsRecord } from "./harness";
import type { Violation } from "./policy-runner";

/** One resource of the plan. */
export interface PlanResource {
  /** URN. */
  urn: string;
  /** Type token. */
  type: string;
  /** Logical name. */
  name: string;
  /** Parent URN (null for the root stack). */
  parent: string | null;
  /** Inputs; secrets "[secret]", values known only after deployment "[unknown]". */
  inputs: { [key: string]: Json };
  /** URNs of every resource this one waits on, explicit and implicit. */
  dependencies: string[];
  /** For each input built from other resources' outputs, the URNs it came from (data edges). */
  propertyDependencies?: Record<string, string[]>;
  /** Its resource options (absent in plans written before they were recorded). */
  options?: ResourceOptionsRecord;
}

/** The plan as `--json` writes it. */
export interface Plan {
  /** Stack name. */
  stack: string;
  /** Every resource, in registration order. */
  resources: PlanResource[];
  /** Stack outputs. */
  outputs: { [key: string]: Json };
  /** Differences from a base plan, with `--diff`. */
  diff?: import("./diff").PlanDiff;
  /** Policy violations, when the rules were run. */
  policyViolations?: Violation[];
}
