/**
 * The floor: what registering the package's resources costs the Pulumi SDK alone. It replays a
 * {@link Shape} (bench/shape.ts) with trivial resource classes under the same mocks as the
 * offline plan: the same resources (type, name, parent, component or custom), the same data edges
 * (an input built from the outputs of the same resources), the same secret inputs and the same
 * `dependsOn` edges, in the same order, and nothing else: no provider SDK classes, no config
 * parsing, no recording, no policies. `npm run bench` reports the package's cost over this floor.
 *
 *   node bin/bench/floor.js <shape.json>
 *
 * It imports only `@pulumi/pulumi` and the plan's lazy output properties
 * (tools/lazy-properties.ts), so that its process loads nothing else of the package and the SDK
 * costs it what it costs the plan.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { installLazyProperties } from "../tools/lazy-properties";
import type { Shape } from "./shape";

/** A provider resource with no declared outputs beyond `urn` and `id`. */
class FloorResource extends pulumi.CustomResource {
  constructor(
    type: string,
    name: string,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions,
  ) {
    super(type, name, props, opts);
  }
}

/** A component that registers no outputs. */
class FloorComponent extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
  }

  /** Registers its (empty) outputs, as every component of the package does once built. */
  done(): void {
    this.registerOutputs({});
  }
}

/** Registers every resource of the shape; returns them (components last registered their outputs). */
export function registerShape(shape: Shape): pulumi.Resource[] {
  const made: pulumi.Resource[] = [];
  const components: FloorComponent[] = [];
  for (const r of shape.resources) {
    const parent = r.parent === null ? undefined : made[r.parent];
    const dependsOn = r.dependsOn.map((i) => made[i]);
    if (!r.custom) {
      const c = new FloorComponent(r.type, r.name, { parent, dependsOn });
      components.push(c);
      made.push(c);
      continue;
    }
    const props: pulumi.Inputs = {};
    for (const [key, from] of Object.entries(r.edges)) {
      props[key] = pulumi.all(from.map((i) => made[i].urn));
    }
    for (const key of r.secrets) {
      props[key] = pulumi.secret(props[key] ?? "secret");
    }
    made.push(new FloorResource(r.type, r.name, props, { parent, dependsOn }));
  }
  for (const c of components) c.done();
  return made;
}

const internals = pulumi.runtime as typeof pulumi.runtime & {
  waitForRPCs?: () => Promise<void>;
};

/**
 * Runs the shape under the SDK's mocks (preview, as the offline plan): every custom resource's
 * state is its inputs. Resolves with the number of resources registered, root stack included.
 */
export async function runFloor(shape: Shape): Promise<number> {
  // As the offline plan does: no stack trace captured for every promise the SDK tracks, and no
  // Output built for a property nobody reads.
  Error.stackTraceLimit = 0;
  installLazyProperties();
  let registered = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered++;
        const state: Record<string, unknown> = { ...(args.inputs as Record<string, unknown>) };
        return { id: args.custom ? `${args.name}-id` : undefined, state };
      },
      call: () => ({}),
    },
    shape.project,
    shape.stack,
    true,
  );
  await pulumi.runtime.runInPulumiStack(() => {
    registerShape(shape);
    return Promise.resolve({});
  });
  await internals.waitForRPCs?.();
  return registered;
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node bin/bench/floor.js <shape.json>");
    process.exitCode = 2;
  } else {
    runFloor(JSON.parse(readFileSync(file, "utf8")) as Shape).then(
      (n) => console.log(`floor: ${n} resources registered`),
      (e: unknown) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
  }
}
