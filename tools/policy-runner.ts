/**
 * Runs CrossGuard policies on planned resources, the way `pulumi preview --policy-pack` would:
 * resource policies on every resource, stack policies on the whole set with dependencies and
 * parents resolved, policy config (enforcement levels and properties, with the schema's defaults)
 * from a `--policy-pack-config`-style JSON file.
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { Json } from "./harness";
import type { PlanResource } from "./plan-types";

/** One reported violation. */
export interface Violation {
  /** Policy name. */
  policy: string;
  /** Its effective enforcement level. */
  enforcementLevel: EnforcementLevel;
  /** Its severity. */
  severity: string;
  /** The resource it concerns, when known. */
  resource?: { urn: string; name: string; type: string };
  /** What is wrong. */
  message: string;
}

/** Policy config: per policy an enforcement level, or an object with one and properties. */
export type PolicyConfig = Record<string, EnforcementLevel | Record<string, unknown>>;

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

class NotApplicable extends Error {}

/** Unknowns ("[unknown]") become undefined, as in a real preview. */
function toProps(v: Json): unknown {
  if (v === "[unknown]") return undefined;
  if (Array.isArray(v)) return v.map(toProps);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = toProps(x);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return v;
}

/** The effective enforcement level and properties of one policy under `config`. */
export function effectiveConfig(
  policy: AnyPolicy,
  config: PolicyConfig,
): { level: EnforcementLevel; props: Record<string, unknown> } {
  const props: Record<string, unknown> = {};
  for (const [k, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
    if ("default" in schema) props[k] = schema.default;
  }
  let level: EnforcementLevel = policy.enforcementLevel ?? "advisory";
  const c = config[policy.name];
  if (typeof c === "string") {
    level = c;
  } else if (c !== undefined) {
    const { enforcementLevel, ...rest } = c;
    if (typeof enforcementLevel === "string") level = enforcementLevel as EnforcementLevel;
    Object.assign(props, rest);
  }
  return { level, props };
}

/** Problems with a policy config file: unknown policies, unknown properties, bad levels. */
export function policyConfigProblems(policies: AnyPolicy[], config: PolicyConfig): string[] {
  const problems: string[] = [];
  const levels = ["advisory", "mandatory", "remediate", "disabled"];
  for (const [name, c] of Object.entries(config)) {
    const policy = policies.find((p) => p.name === name);
    if (!policy) {
      problems.push(`${name}: no such policy`);
      continue;
    }
    const level = typeof c === "string" ? c : c.enforcementLevel;
    if (level !== undefined && (typeof level !== "string" || !levels.includes(level))) {
      problems.push(`${name}: enforcement level must be one of ${levels.join(", ")}`);
    }
    if (typeof c === "object") {
      for (const key of Object.keys(c)) {
        if (key !== "enforcementLevel" && !(key in (policy.configSchema?.properties ?? {}))) {
          problems.push(`${name}.${key}: no such property`);
        }
      }
    }
  }
  return problems;
}

/** Runs every policy on the planned resources and returns the violations. */
export async function runPolicies(
  policies: AnyPolicy[],
  planned: PlanResource[],
  config: PolicyConfig = {},
): Promise<Violation[]> {
  const resources = new Map<string, PolicyResource>();
  for (const r of planned) {
    resources.set(r.urn, {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: toProps(r.inputs) as Record<string, unknown>,
      opts: {},
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    } as unknown as PolicyResource);
  }
  for (const r of planned) {
    const res = resources.get(r.urn) as PolicyResource;
    res.dependencies = r.dependencies.flatMap((d) => resources.get(d) ?? []);
    res.parent = r.parent ? resources.get(r.parent) : undefined;
  }

  const violations: Violation[] = [];
  const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
  };
  for (const policy of policies) {
    const { level, props } = effectiveConfig(policy, config);
    if (level === "disabled") continue;
    const report =
      (resource?: PolicyResource) =>
      (message: string, urn?: string): void => {
        const target = (urn && resources.get(urn)) || resource;
        violations.push({
          policy: policy.name,
          enforcementLevel: level,
          severity: policy.severity ?? "medium",
          resource: target && { urn: target.urn, name: target.name, type: target.type },
          message,
        });
      };
    try {
      if ("validateResource" in policy) {
        const validators = policy.validateResource ? [policy.validateResource].flat() : [];
        for (const res of resources.values()) {
          const args = {
            type: res.type,
            props: res.props,
            urn: res.urn,
            name: res.name,
            opts: res.opts,
            stackTags: new Map<string, string>(),
            getConfig: () => props,
            notApplicable,
            isType: () => false,
            asType: () => undefined,
          } as unknown as ResourceValidationArgs;
          for (const validate of validators) {
            try {
              await validate(args, report(res));
            } catch (e) {
              if (!(e instanceof NotApplicable)) throw e;
            }
          }
        }
      } else if ("validateStack" in policy) {
        const args: StackValidationArgs = {
          resources: [...resources.values()],
          stackTags: new Map<string, string>(),
          getConfig: <T extends object>() => props as T,
          notApplicable,
        };
        await policy.validateStack(args, report());
      }
    } catch (e) {
      if (!(e instanceof NotApplicable)) throw e;
    }
  }
  return violations;
}

/** Readable lines, one per violation, mandatory first. */
export function formatViolations(violations: Violation[]): string {
  if (violations.length === 0) return "Policies: no violations";
  const order = (v: Violation) => (v.enforcementLevel === "mandatory" ? 0 : 1);
  const lines = [...violations]
    .sort((a, b) => order(a) - order(b))
    .map(
      (v) =>
        `  [${v.enforcementLevel}] ${v.policy}: ${v.resource ? `${v.resource.name} (${v.resource.type}): ` : ""}${v.message}`,
    );
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  const count = `${violations.length} violation${violations.length === 1 ? "" : "s"}`;
  return [`Policies: ${count}, ${mandatory} mandatory`, ...lines].join("\n");
}
