/**
 * The offline plan's lazy output properties (tools/lazy-properties.ts) behave as the SDK's own
 * `transferProperties` for every reader: each case runs on both and compares what a program
 * observes (values, known, secret, resources, rejections, own keys, descriptors), and checks the
 * one intended difference: an unread property holds no Output.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../helpers";

const load = createRequire(__filename);
const lazy = load(
  path.join(ROOT, "bin", "tools", "lazy-properties.js"),
) as typeof import("../../tools/lazy-properties");

type Transfer = typeof lazy.lazyTransferProperties;
const MODES: [string, Transfer][] = [
  ["the SDK's transferProperties", lazy.eagerTransferProperties],
  ["lazyTransferProperties", lazy.lazyTransferProperties],
];

/** A stand-in resource with a property of its own, as the SDK has set `urn` and `id` first. */
function target(): pulumi.Resource & Record<string, unknown> {
  return { urn: "urn", id: "id", existing: 1 } as unknown as pulumi.Resource &
    Record<string, unknown>;
}

/** An Output with the members the SDK's own code reads (marked internal in its typings). */
type OutputInternals = pulumi.Output<unknown> & {
  promise(withUnknowns?: boolean): Promise<unknown>;
  isKnown: Promise<boolean>;
  isSecret: Promise<boolean>;
  allResources(): Promise<Set<unknown>>;
};

/** What a reader sees of an Output: value, known, secret, and the resources it carries. */
async function seen(o: unknown) {
  const out = o as OutputInternals;
  return {
    value: await out.promise(),
    withUnknowns: await out.promise(true),
    known: await out.isKnown,
    secret: await out.isSecret,
    resources: [...(await out.allResources())],
  };
}

/**
 * Resolves whatever is still pending (later calls are no-ops, as for a promise), so that no
 * tracked promise is left for the SDK's leak report at exit.
 */
const made: ReturnType<Transfer>[] = [];
afterEach(() => {
  for (const r of made.splice(0).flatMap((m) => Object.values(m))) r(1, true, false, []);
});

/** A stand-in resource with lazy or eager properties, and their resolvers. */
function make(transfer: Transfer): [ReturnType<typeof target>, ReturnType<Transfer>] {
  const onto = target();
  const resolvers = transfer(onto, "res", props);
  made.push(resolvers);
  return [onto, resolvers];
}

/** Settles with "pending" unless `p` settles within a few event-loop turns. */
async function stillPending(p: Promise<unknown>): Promise<boolean> {
  const later = new Promise((r) => setTimeout(() => r("pending"), 20));
  return (
    (await Promise.race([
      p.then(
        () => "settled",
        () => "settled",
      ),
      later,
    ])) === "pending"
  );
}

const { unknown } = load("@pulumi/pulumi/output") as { unknown: unknown };
const dep = { name: "dep" } as unknown as pulumi.Resource;
const props = { name: "n", secretIn: pulumi.secret("s"), declared: undefined, urn: undefined };

describe.each(MODES)("%s", (_, transfer) => {
  it("puts every property but urn and id on the resource, after its own, enumerable", () => {
    const [onto, resolvers] = make(transfer);
    expect(Object.keys(resolvers)).toEqual(["name", "secretIn", "declared"]);
    expect(Object.keys(onto)).toEqual(["urn", "id", "existing", "name", "secretIn", "declared"]);
    expect(Object.prototype.hasOwnProperty.call(onto, "declared")).toBe(true);
    expect(pulumi.Output.isInstance(onto.name)).toBe(true);
    expect(onto.name).toBe(onto.name);
    expect(Object.getOwnPropertyDescriptor(onto, "name")).toEqual({
      value: onto.name,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  });

  it("refuses a property the resource already has, with the SDK's message", () => {
    expect(() => transfer(target(), "res", { existing: 2 })).toThrow(
      "Property 'existing' is already initialized on target 'res",
    );
  });

  it("gives a property read before registration the registered result", async () => {
    const [onto, resolvers] = make(transfer);
    const before = onto.declared;
    resolvers.declared("out", true, false, [dep]);
    expect(await seen(before)).toEqual({
      value: "out",
      withUnknowns: "out",
      known: true,
      secret: false,
      resources: [dep, onto],
    });
  });

  it("gives a property read after registration the same result, first result winning", async () => {
    const [onto, resolvers] = make(transfer);
    resolvers.declared("out", true, false, [dep]);
    resolvers.declared("second", true, true, []);
    expect(await seen(onto.declared)).toEqual({
      value: "out",
      withUnknowns: "out",
      known: true,
      secret: false,
      resources: [dep, onto],
    });
  });

  it("keeps a secret secret, read before or after", async () => {
    const [onto, resolvers] = make(transfer);
    const before = onto.name;
    resolvers.name("n", true, true, []);
    resolvers.secretIn("s", true, true, []);
    expect(await seen(before)).toMatchObject({ value: "n", secret: true });
    expect(await seen(onto.secretIn)).toMatchObject({ value: "s", secret: true });
  });

  it("keeps an unknown unknown (a preview's computed output), read before or after", async () => {
    const [onto, resolvers] = make(transfer);
    const before = onto.name;
    resolvers.name(undefined, false, false, []);
    resolvers.declared({ a: unknown }, true, false, []);
    expect(await seen(before)).toMatchObject({ value: undefined, known: false });
    const applied = (onto.declared as pulumi.Output<unknown>).apply(
      () => "ran",
    ) as unknown as OutputInternals;
    expect(await seen(onto.declared)).toMatchObject({ value: undefined, known: false });
    expect(await applied.isKnown).toBe(false);
  });

  it("rejects a property of a failed registration, read before or after", async () => {
    const [onto, resolvers] = make(transfer);
    const before = onto.name as OutputInternals;
    const err = new Error("registration failed");
    resolvers.name(undefined, true, false, [], err);
    resolvers.declared(undefined, true, false, [], err);
    const after = onto.declared as OutputInternals;
    for (const o of [before, after]) {
      // the Output's own derived promises reject too (unhandled in a real run, as in the SDK's)
      o.isKnown.catch(() => undefined);
      o.isSecret.catch(() => undefined);
      await expect(o.promise()).rejects.toBe(err);
    }
  });

  it("leaves a property pending when the engine went away (gRPC unavailable)", async () => {
    const [onto, resolvers] = make(transfer);
    const before = onto.name as OutputInternals;
    const gone = Object.assign(new Error("unavailable"), { code: 14 });
    resolvers.name(undefined, true, false, [], gone);
    resolvers.declared(undefined, true, false, [], gone);
    const after = onto.declared as OutputInternals;
    expect(await stillPending(before.promise())).toBe(true);
    expect(await stillPending(after.promise())).toBe(true);
    // as in the SDK, the error changed nothing: a later result still settles them
    resolvers.name("n", true, false, []);
    resolvers.declared("out", true, false, []);
    expect([await before.promise(), await after.promise()]).toEqual(["n", "out"]);
  });

  it("lets the program replace a property, before or after reading it", () => {
    const [onto, resolvers] = make(transfer);
    expect(pulumi.Output.isInstance(onto.name)).toBe(true);
    onto.name = "mine";
    onto.declared = "also mine";
    resolvers.name("n", true, false, []);
    resolvers.declared("out", true, false, []);
    expect([onto.name, onto.declared]).toEqual(["mine", "also mine"]);
    expect(Object.keys(onto)).toEqual(["urn", "id", "existing", "name", "secretIn", "declared"]);
  });
});

describe("lazyTransferProperties, where it differs", () => {
  it("builds no Output for a property nobody reads, and one on first read", () => {
    const [onto, resolvers] = make(lazy.lazyTransferProperties);
    resolvers.declared("out", true, false, []);
    expect(Object.getOwnPropertyDescriptor(onto, "declared")).toHaveProperty("get");
    const o = onto.declared;
    expect(Object.getOwnPropertyDescriptor(onto, "declared")).toMatchObject({ value: o });
  });

  it("builds the Output of a failed registration at once, so its rejection surfaces unread", () => {
    const [onto, resolvers] = make(lazy.lazyTransferProperties);
    resolvers.name(undefined, true, false, [], new Error("failed"));
    const built = Object.getOwnPropertyDescriptor(onto, "name");
    expect(built).toHaveProperty("value");
    const o = built?.value as OutputInternals;
    o.isKnown.catch(() => undefined);
    o.isSecret.catch(() => undefined);
    return expect(o.promise()).rejects.toThrow("failed");
  });

  it("is what the harness installs, and the SDK's own comes back after", () => {
    const rpc = load("@pulumi/pulumi/runtime/rpc") as { transferProperties: Transfer };
    const undo = lazy.installLazyProperties();
    expect(rpc.transferProperties).toBe(lazy.lazyTransferProperties);
    undo();
    expect(rpc.transferProperties).toBe(lazy.eagerTransferProperties);
  });
});
