/**
 * Lazy output properties for the offline plan (and the benchmark's floor): a cost of the Pulumi
 * Node.js SDK, cut where the plan runs it, not in `pulumi up`.
 *
 * For every property of a custom resource (each input, and each output its class declares: about
 * 30 for a Vault role) the SDK's `transferProperties` (`@pulumi/pulumi/runtime/rpc.js`) puts an
 * `Output` on the resource at construction: four tracked promises (`debuggablePromise`, each two
 * more promises and a leak-candidate entry) and about eight more promises, closures and a Proxy
 * in the `Output` constructor. A program constructs every resource before the first registration
 * completes, so all of them are pending at once, and nearly none is ever read.
 *
 * {@link lazyTransferProperties} gives each property an own, enumerable accessor instead, in the
 * same order. Its resolver keeps the first result (value, known, secret, dependencies). The first
 * read builds the very `Output` the SDK would have built (same promises, same labels, same
 * resource), settles it with the kept result if there is one, and replaces the accessor with a
 * plain data property holding it, as the SDK leaves it; an assignment replaces it likewise. A
 * property read before its resource registers gets a pending `Output`, settled when it does. A
 * failed registration builds the `Output` at once, so its rejection surfaces as it did (a gRPC
 * error, the engine gone, leaves it pending, as the SDK does). Unread
 * properties cost a closure and the kept result, not an `Output`.
 *
 * {@link installLazyProperties} swaps the SDK's export: `runtime/resource.js` calls
 * `rpc_1.transferProperties(...)`, reading the module's export at each call. It does nothing when
 * `PULUMI_DEBUG_PROMISE_LEAKS` is set (the SDK's leak report lists pending property promises) or
 * `PLAN_EAGER_OUTPUTS=1` (to compare). The real fix belongs in the SDK: see bench/README.md.
 */
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";

/** A property's resolver, as `transferProperties` returns them (rpc.d.ts `OutputResolvers`). */
type Resolver = (
  value: unknown,
  isKnown: boolean,
  isSecret: boolean,
  deps?: pulumi.Resource[],
  err?: Error,
) => void;
type Resolvers = Record<string, Resolver>;
type Transfer = (onto: pulumi.Resource, label: string, props: pulumi.Inputs) => Resolvers;

// The SDK's internal modules (no public types): the same instances `runtime/resource.js` uses.
const load = createRequire(__filename);
const rpc = load("@pulumi/pulumi/runtime/rpc") as { transferProperties: Transfer };
const debuggable = load("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise<T>(p: Promise<T>, ctx: string): Promise<T>;
  debugPromiseLeaks: boolean;
};
const sdkOutput = load("@pulumi/pulumi/output") as {
  Output: new (
    resources: pulumi.Resource,
    promise: Promise<unknown>,
    isKnown: Promise<boolean>,
    isSecret: Promise<boolean>,
    allResources: Promise<pulumi.Resource[]>,
  ) => pulumi.Output<unknown>;
  OutputToStringError: { isInstance(e: unknown): boolean };
};
const errors = load("@pulumi/pulumi/errors") as { isGrpcError(e: Error): boolean };

/** The SDK's own `transferProperties`, kept when {@link installLazyProperties} swaps it. */
export const eagerTransferProperties: Transfer = rpc.transferProperties;

/** `${v}` as the SDK labels a property's promises (an Output inside prints "Output<T>"). */
function label(v: unknown): string {
  if (pulumi.Output.isInstance(v)) return "Output<T>";
  try {
    return `${v as string}`;
  } catch (e) {
    if (sdkOutput.OutputToStringError.isInstance(e)) return "Output<T>";
    throw e;
  }
}

interface Settle<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

/** A tracked promise as the SDK makes it, and its settle functions. */
function tracked<T>(ctx: string): [Promise<T>, Settle<T>] {
  let settle!: Settle<T>;
  const p = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  return [debuggable.debuggablePromise(p, ctx), settle];
}

/** The `Output` the SDK's `transferProperties` puts on `onto` for `key`, and its resolver. */
export function propertyOutput(
  onto: pulumi.Resource,
  resourceLabel: string,
  key: string,
  input: unknown,
): [pulumi.Output<unknown>, Resolver] {
  const what = `${resourceLabel}, ${key}, ${label(input)}`;
  const [value, v] = tracked<unknown>(`transferProperty(${what})`);
  const [known, k] = tracked<boolean>(`transferIsStable(${what})`);
  const [secret, s] = tracked<boolean>(`transferIsSecret(${what})`);
  const [deps, d] = tracked<pulumi.Resource[]>(`transferDeps(${what})`);
  const resolve: Resolver = (val, isKnown, isSecret, dependencies = [], err) => {
    if (err) {
      // As the SDK: a gRPC error (the engine went away) leaves the property pending.
      if (errors.isGrpcError(err)) return;
      [v, k, s, d].forEach((x) => x.reject(err));
    } else {
      v.resolve(val);
      k.resolve(isKnown);
      s.resolve(isSecret);
      d.resolve(dependencies);
    }
  };
  return [new sdkOutput.Output(onto, value, known, secret, deps), resolve];
}

/** Defines `key` on `onto` as a plain property, as the SDK's assignment leaves it. */
function plain(onto: object, key: string, value: unknown): void {
  Object.defineProperty(onto, key, { value, writable: true, enumerable: true, configurable: true });
}

/** One lazy property: an accessor on `onto` until first read or written; returns its resolver. */
function lazyProperty(
  onto: pulumi.Resource,
  resourceLabel: string,
  props: pulumi.Inputs,
  key: string,
): Resolver {
  let kept: Parameters<Resolver> | undefined;
  let built: Resolver | undefined;
  let replaced = false;
  const build = (): pulumi.Output<unknown> => {
    const [output, resolve] = propertyOutput(onto, resourceLabel, key, props[key]);
    built = resolve;
    if (kept) resolve(...kept);
    if (!replaced) plain(onto, key, output);
    return output;
  };
  Object.defineProperty(onto, key, {
    enumerable: true,
    configurable: true,
    get: build,
    set: (value: unknown) => {
      replaced = true;
      plain(onto, key, value);
    },
  });
  return (...args) => {
    if (built) return built(...args);
    const err = args[4];
    // As the SDK's: a gRPC error (the engine went away) changes nothing; else the first result
    // counts, as the first settling of a promise does.
    if ((err && errors.isGrpcError(err)) || kept) return;
    kept = args;
    if (err) build();
  };
}

/**
 * `transferProperties` with lazy `Output`s (see the module's comment): the same checks, the same
 * properties in the same order, the same resolvers' contract.
 */
export function lazyTransferProperties(
  onto: pulumi.Resource,
  resourceLabel: string,
  props: pulumi.Inputs,
): Resolvers {
  const resolvers: Resolvers = {};
  for (const key of Object.keys(props)) {
    if (key === "id" || key === "urn") continue;
    if (Object.prototype.hasOwnProperty.call(onto, key)) {
      throw new Error(`Property '${key}' is already initialized on target '${resourceLabel}`);
    }
    resolvers[key] = lazyProperty(onto, resourceLabel, props, key);
  }
  return resolvers;
}

/** Makes the SDK's resources lazy (unless disabled, see above); returns the undo. */
export function installLazyProperties(): () => void {
  if (debuggable.debugPromiseLeaks || process.env.PLAN_EAGER_OUTPUTS === "1") return () => {};
  const before = rpc.transferProperties;
  rpc.transferProperties = lazyTransferProperties;
  return () => {
    rpc.transferProperties = before;
  };
}
