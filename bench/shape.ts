/**
 * The shape of a plan, for the floor program (bench/floor.ts): every resource the package
 * registers with its type, name, parent, kind (component or custom), the inputs that carry data
 * edges (and from which resources), its secret inputs and its explicit `dependsOn` edges, by index.
 * Nothing of the inputs' values: the floor registers the same resources with trivial classes.
 *
 *   node bin/bench/shape.js --stack <name> --stacks-dir <dir> --out <shape.json>
 *
 * This module loads the package (program, harness); the floor never imports it.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { prepareProgram } from "../program";
import { runProgram, type Json, type PlannedResource } from "../tools/harness";
import { loadStackConfig } from "../tools/stack-config";

/** One resource of a {@link Shape}. */
export interface ShapeResource {
  /** Type token. */
  type: string;
  /** Logical name. */
  name: string;
  /** Index of the parent in {@link Shape.resources}; `null` for a child of the root stack. */
  parent: number | null;
  /** A custom (provider) resource, or a component. */
  custom: boolean;
  /** Input keys built from other resources' outputs → indices of those resources. */
  edges: Record<string, number[]>;
  /** Top-level input keys that are (or contain) secrets. */
  secrets: string[];
  /** Resources waited on without an input carrying the edge (`dependsOn`), by index. */
  dependsOn: number[];
}

/** What the package registers below the root stack, in registration order. */
export interface Shape {
  /** Project name. */
  project: string;
  /** Stack name. */
  stack: string;
  /** Resources; each refers only to earlier ones. */
  resources: ShapeResource[];
}

/** True when a rendered input value is, or contains, a secret. */
export function holdsSecret(v: Json): boolean {
  if (v === "[secret]") return true;
  if (Array.isArray(v)) return v.some(holdsSecret);
  if (v !== null && typeof v === "object") return Object.values(v).some(holdsSecret);
  return false;
}

/** The shape of a program run (the root stack left out: every program has one). */
export function shapeOf(project: string, stack: string, run: PlannedResource[]): Shape {
  const rootType = "pulumi:pulumi:Stack";
  const kept = run.filter((r) => r.type !== rootType);
  const index = new Map(kept.map((r, i) => [r.urn, i]));
  const at = (urn: string, of: PlannedResource): number => {
    const i = index.get(urn);
    if (i === undefined) throw new Error(`${of.name} refers to ${urn}, which is not in the plan`);
    return i;
  };
  const resources = kept.map((r, i): ShapeResource => {
    const edges: Record<string, number[]> = {};
    const viaInputs = new Set<string>();
    for (const [key, urns] of Object.entries(r.propertyDependencies)) {
      if (urns.length === 0) continue;
      edges[key] = urns.map((u) => at(u, r));
      urns.forEach((u) => viaInputs.add(u));
    }
    const shaped: ShapeResource = {
      type: r.type,
      name: r.name,
      parent: r.parent === null || !index.has(r.parent) ? null : at(r.parent, r),
      custom: r.custom,
      edges,
      secrets: Object.keys(r.inputs).filter((k) => holdsSecret(r.inputs[k])),
      dependsOn: r.dependencies.filter((u) => !viaInputs.has(u)).map((u) => at(u, r)),
    };
    const refs = [shaped.parent ?? -1, ...shaped.dependsOn, ...Object.values(edges).flat()];
    if (refs.some((j) => j >= i)) throw new Error(`${r.name} refers to a later resource`);
    return shaped;
  });
  return { project, stack, resources };
}

/** Plans a stack of this project under the harness and returns its shape. */
export async function planShape(stack: string, stacksDir: string): Promise<Shape> {
  const root = path.resolve(__dirname, "..", "..");
  const { config, secretKeys } = loadStackConfig(root, stack, stacksDir);
  Error.stackTraceLimit = 0;
  const run = await runProgram(prepareProgram, {
    project: "spire-federation",
    stack,
    config,
    secretKeys,
    preview: true,
  });
  return shapeOf("spire-federation", stack, run.resources);
}

function flag(argv: string[], name: string): string {
  const i = argv.indexOf(name);
  const v = i === -1 ? undefined : argv[i + 1];
  if (v === undefined) {
    throw new Error(`usage: shape.js --stack <name> --stacks-dir <dir> --out <file> (${name})`);
  }
  return v;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  planShape(flag(argv, "--stack"), flag(argv, "--stacks-dir")).then(
    (shape) => writeFileSync(flag(argv, "--out"), JSON.stringify(shape)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
