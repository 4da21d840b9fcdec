/**
 * The CrossGuard types the rules are written against, without naming `@pulumi/policy` here.
 *
 * The package root (`spire-federation`) exports the relying-party contract, whose entries carry
 * their rules. If its declarations imported `@pulumi/policy`, every consumer would need that
 * package to type-check, and `@pulumi/policy` 1.21.0's own `index.d.ts` does not type-check
 * without `skipLibCheck` (it re-exports `unknownCheckingProxy` from an empty `proxy.d.ts`).
 * So the types are looked up in {@link PolicyTypes}, which `spire-federation/policies`
 * (`policies.ts`) fills in with `@pulumi/policy`'s real types through module augmentation:
 * - this package and a policy pack compile with that module and see the real types;
 * - a program that imports the root only sees the opaque fallbacks below, and needs nothing more.
 */

/**
 * `@pulumi/policy`'s types by name, filled in by `spire-federation/policies`. Empty (and the
 * fallbacks apply) for code compiled without that module.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PolicyTypes {}

/** The real type named `K` when `spire-federation/policies` is loaded, else `Fallback`. */
type Real<K extends string, Fallback> = PolicyTypes extends Record<K, infer T> ? T : Fallback;

/** What a rule is to code that does not load `spire-federation/policies`: a named rule. */
export interface OpaquePolicy {
  /** The rule's name (unique across the pack). */
  readonly name: string;
  /** What the rule checks. */
  readonly description: string;
}

/** A CrossGuard rule: `@pulumi/policy`'s ResourceValidationPolicy or StackValidationPolicy. */
export type Policy = Real<"Policy", OpaquePolicy>;
/** `@pulumi/policy`'s ResourceValidationPolicy. */
export type ResourceValidationPolicy = Real<"ResourceValidationPolicy", OpaquePolicy>;
/** `@pulumi/policy`'s StackValidationPolicy. */
export type StackValidationPolicy = Real<"StackValidationPolicy", OpaquePolicy>;
/** `@pulumi/policy`'s ResourceValidationArgs: one planned resource as a resource rule sees it. */
export type ResourceValidationArgs = Real<"ResourceValidationArgs", unknown>;
/** `@pulumi/policy`'s StackValidationArgs: every planned resource, as a stack rule sees them. */
export type StackValidationArgs = Real<"StackValidationArgs", unknown>;
/** `@pulumi/policy`'s PolicyResource: a resource of the stack with its dependencies. */
export type PolicyResource = Real<"PolicyResource", unknown>;
/** `@pulumi/policy`'s ReportViolation: reports a violation (message, optional URN). */
export type ReportViolation = Real<"ReportViolation", unknown>;
