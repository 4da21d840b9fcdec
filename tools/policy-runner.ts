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

/** A JSON-schema fragment as a policy's `configSchema` holds it. */
type Schema = Record<string, unknown>;

/** The JSON-schema keywords {@link schemaProblems} understands; anything else is refused. */
const KEYWORDS = new Set([
  "type",
  "enum",
  "items",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minLength",
  "maxLength",
  "pattern",
  "properties",
  "required",
  "additionalProperties",
  // annotations
  "default",
  "description",
  "title",
  "examples",
]);

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "number" && Number.isInteger(v) ? "integer" : typeof v;
}

/** A value as a message shows it: its JSON type and (short) JSON text. */
function describe(v: unknown): string {
  if (v === null) return "null";
  const text = JSON.stringify(v) ?? "undefined";
  const shown = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  const type = jsonType(v) === "integer" ? "number" : jsonType(v);
  return `${type === "array" || type === "object" ? "an" : "a"} ${type} ${shown}`;
}

/**
 * Checks a value against the subset of JSON Schema (draft 7) that policy config schemas use, the
 * way the Pulumi engine checks `--policy-pack-config` (gojsonschema): no type coercion, so "48"
 * is not a number. Throws on a keyword outside the subset, so that no schema is half-checked.
 * Returns one `<path>: <what is wrong>` per problem.
 */
export function schemaProblems(schema: Schema, value: unknown, at: string): string[] {
  for (const k of Object.keys(schema)) {
    if (!KEYWORDS.has(k)) {
      throw new Error(`${at}: the offline policy runner does not support the schema keyword ${k}`);
    }
  }
  const types = schema.type === undefined ? [] : [schema.type].flat().map(String);
  const actual = jsonType(value);
  if (
    types.length > 0 &&
    !types.some((t) => t === actual || (t === "number" && actual === "integer"))
  ) {
    return [`${at}: must be ${types.join(" or ")}, not ${describe(value)}`];
  }
  const problems: string[] = [];
  const fail = (what: string) => problems.push(`${at}: ${what}, not ${describe(value)}`);
  if (
    Array.isArray(schema.enum) &&
    !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))
  ) {
    fail(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  if (typeof value === "number") {
    const n = (k: string) => (typeof schema[k] === "number" ? schema[k] : undefined);
    const [min, max, xmin, xmax] = [
      n("minimum"),
      n("maximum"),
      n("exclusiveMinimum"),
      n("exclusiveMaximum"),
    ];
    if (min !== undefined && value < min) fail(`must be at least ${min}`);
    if (max !== undefined && value > max) fail(`must be at most ${max}`);
    if (xmin !== undefined && value <= xmin) fail(`must be more than ${xmin}`);
    if (xmax !== undefined && value >= xmax) fail(`must be less than ${xmax}`);
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength)
      fail(`must have at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength)
      fail(`must have at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value))
      fail(`must match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems)
      fail(`must have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
      fail(`must have at most ${schema.maxItems} items`);
    if (
      schema.uniqueItems === true &&
      new Set(value.map((x) => JSON.stringify(x))).size < value.length
    )
      fail("must not repeat an item");
    const items = schema.items;
    if (
      items !== undefined &&
      (typeof items !== "object" || items === null || Array.isArray(items))
    ) {
      throw new Error(`${at}: the offline policy runner supports a single schema under items`);
    }
    if (items)
      value.forEach((x, i) => problems.push(...schemaProblems(items as Schema, x, `${at}[${i}]`)));
  }
  if (actual === "object") {
    problems.push(...objectProblems(schema, value as Record<string, unknown>, at));
  }
  return problems;
}

function objectProblems(schema: Schema, value: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const key of (schema.required ?? []) as string[]) {
    if (!(key in value)) problems.push(`${at}.${key}: required`);
  }
  for (const [key, v] of Object.entries(value)) {
    const sub = properties[key];
    if (sub) problems.push(...schemaProblems(sub, v, `${at}.${key}`));
    else if (schema.additionalProperties === false) problems.push(`${at}.${key}: no such property`);
    else if (
      typeof schema.additionalProperties === "object" &&
      schema.additionalProperties !== null
    )
      problems.push(...schemaProblems(schema.additionalProperties as Schema, v, `${at}.${key}`));
  }
  return problems;
}

const LEVELS: readonly string[] = ["advisory", "mandatory", "remediate", "disabled"];

/**
 * Problems with a policy config (the JSON of `--policy-config`, as for `pulumi preview
 * --policy-pack-config`): not an object, unknown policies, bad enforcement levels, and each
 * policy's properties checked against its `configSchema` (unknown properties included), with
 * the schema's defaults filled in as the engine does. One `<policy>[.<property>]: <what>` each.
 */
export function policyConfigProblems(policies: AnyPolicy[], config: unknown): string[] {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    return [
      `must be a JSON object of policy names, each with an enforcement level or an object of enforcementLevel and properties, not ${describe(config)}`,
    ];
  }
  const problems: string[] = [];
  const badLevel = (name: string) =>
    `${name}: enforcement level must be one of ${LEVELS.join(", ")}`;
  for (const [name, c] of Object.entries(config as Record<string, unknown>)) {
    const policy = policies.find((p) => p.name === name);
    if (!policy) {
      problems.push(`${name}: no such policy`);
      continue;
    }
    if (typeof c === "string") {
      if (!LEVELS.includes(c)) problems.push(badLevel(name));
      continue;
    }
    if (c === null || typeof c !== "object" || Array.isArray(c)) {
      problems.push(
        `${name}: must be an enforcement level or an object of enforcementLevel and properties, not ${describe(c)}`,
      );
      continue;
    }
    const { enforcementLevel, ...props } = c as Record<string, unknown>;
    if (enforcementLevel !== undefined && !LEVELS.includes(enforcementLevel as string)) {
      problems.push(badLevel(name));
    }
    const withDefaults = { ...effectiveConfig(policy, {}).props, ...props };
    const schema = policy.configSchema ?? { properties: {} };
    problems.push(
      ...objectProblems(
        { properties: schema.properties, required: schema.required, additionalProperties: false },
        withDefaults,
        name,
      ),
    );
  }
  return problems;
}

/** Runs every policy on the planned resources and returns the violations; refuses a bad config. */
export async function runPolicies(
  policies: AnyPolicy[],
  planned: PlanResource[],
  config: PolicyConfig = {},
): Promise<Violation[]> {
  // A value of the wrong type would reach a rule as is ("48" > 24 is false): refuse it.
  const problems = policyConfigProblems(policies, config);
  if (problems.length > 0) throw new Error(`invalid policy config:\n  ${problems.join("\n  ")}`);
  const resources = new Map<string, PolicyResource>();
  for (const r of planned) {
    resources.set(r.urn, {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: toProps(r.inputs) as Record<string, unknown>,
      // As @pulumi/policy's PolicyResourceOptions: the options the plan recorded.
      opts: {
        protect: r.options?.protect ?? false,
        ignoreChanges: r.options?.ignoreChanges ?? [],
        deleteBeforeReplace: r.options?.deleteBeforeReplace ?? false,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: r.parent ?? undefined,
      },
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    });
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
