/**
 * Runs a Pulumi program under the SDK's mocks and records what it registers: every resource with
 * its type, name, parent, inputs (secrets as "[secret]", unknowns as "[unknown]") and every
 * resource it waits on (explicit `dependsOn` and implicit, from inputs built on other resources'
 * outputs, as the SDK reports them to the engine). The offline plan and the tests share it.
 */
import * as pulumi from "@pulumi/pulumi";
import { installLazyProperties } from "./lazy-properties";

/** A JSON value as the plan prints it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The resource options the engine acts on when it plans a change (as registered). */
export interface ResourceOptionsRecord {
  /** The engine refuses to delete or replace it. */
  protect: boolean;
  /** Deleting it only drops it from the state. */
  retainOnDelete: boolean;
  /** A replacement deletes it before creating the new one. */
  deleteBeforeReplace: boolean;
  /** Input paths whose change replaces it. */
  replaceOnChanges: string[];
  /** Input paths whose change is ignored. */
  ignoreChanges: string[];
}

/** One registered resource. */
export interface PlannedResource {
  /** The resource's URN. */
  urn: string;
  /** Type token, e.g. `kubernetes:helm.sh/v3:Release`. */
  type: string;
  /** Logical name. */
  name: string;
  /** URN of the parent, if any. */
  parent: string | null;
  /** True for a provider-backed resource, false for a component. */
  custom: boolean;
  /** Inputs with secrets as "[secret]" and unknowns as "[unknown]". */
  inputs: { [key: string]: Json };
  /** URNs of every resource this one waits on (explicit and implicit). */
  dependencies: string[];
  /** For each input property, the URNs it was built from. */
  propertyDependencies: Record<string, string[]>;
  /** The raw inputs as the mock saw them (secrets unwrapped): for tests, never printed. */
  rawInputs: Record<string, unknown>;
  /** Its resource options. */
  options: ResourceOptionsRecord;
}

/** What a program run produced. */
export interface ProgramRun {
  /** Every registered resource, in registration order (the root stack first). */
  resources: PlannedResource[];
  /** Stack outputs, rendered like inputs. */
  outputs: { [key: string]: Json };
}

/** Options of {@link runProgram}. */
export interface RunOptions {
  /** Project name. */
  project: string;
  /** Stack name. */
  stack: string;
  /** Full config map (`ns:key` → string value). */
  config: Record<string, string>;
  /** Full keys of the config values that are secrets. */
  secretKeys?: string[];
  /** Preview (unknown computed outputs) or update (the mock's state resolves everything). */
  preview: boolean;
  /** Computed outputs the mock should return per resource, merged over its inputs. */
  computed?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
  /** Results of provider function calls. */
  call?: (args: pulumi.runtime.MockCallArgs) => Record<string, unknown>;
  /**
   * The outputs of a referenced stack (`pulumi.StackReference`), by its `org/project/stack`
   * name; throws when there are none, failing the program as a missing stack fails a deployment.
   */
  stackOutputs?: (name: string) => Record<string, unknown>;
}

/** What `prepare` returns: the builder that registers the resources and returns the outputs. */
export type Builder = () => Record<string, unknown>;

const SIG_KEY = pulumi.runtime.specialSigKey;
const STACK_REFERENCE = "pulumi:pulumi:StackReference";
const SECRET_SIG = pulumi.runtime.specialSecretSig;
const RESOURCE_SIG = pulumi.runtime.specialResourceSig;
const UNKNOWN = pulumi.runtime.unknownValue;

/** Renders a serialized property value: secrets, unknowns and resource references made readable. */
export function renderValue(v: unknown): Json {
  if (v === UNKNOWN) {
    return "[unknown]";
  }
  if (v === null || v === undefined) {
    return null;
  }
  if (Array.isArray(v)) {
    return v.map(renderValue);
  }
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) {
      return "[secret]";
    }
    if (o[SIG_KEY] === RESOURCE_SIG) {
      return String(o.urn);
    }
    if (SIG_KEY in o) {
      return "[asset]";
    }
    const out: { [key: string]: Json } = {};
    for (const [k, val] of Object.entries(o)) {
      out[k] = renderValue(val);
    }
    return out;
  }
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") {
    return v;
  }
  return typeof v === "bigint" ? v.toString() : null;
}

interface StructLike {
  toJavaScript(): Record<string, unknown>;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): StructLike | undefined;
  getDependenciesList(): string[];
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getReplaceonchangesList(): string[];
  getIgnorechangesList(): string[];
  getPropertydependenciesMap(): {
    forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
}
interface RegisterResponse {
  getUrn(): string;
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): StructLike | undefined;
}
type Callback<T> = (err: Error | null, resp?: T) => void;
interface RecordableMonitor {
  registerResource(req: RegisterRequest, cb: Callback<RegisterResponse>): Promise<void>;
  registerResourceOutputs(req: OutputsRequest, cb: Callback<unknown>): void;
}

/** The engine's own diagnostic for a URN registered twice (pulumi/pulumi `pkg/diag/errors.go`). */
export function duplicateUrnMessage(urn: string): string {
  return `Duplicate resource URN '${urn}'; try giving it a unique name`;
}

const internals = pulumi.runtime as typeof pulumi.runtime & {
  waitForRPCs?: () => Promise<void>;
};

/**
 * Runs a Pulumi program under mocks. `prepare` runs first, outside any resource (config
 * validation belongs there; it may be async, as a team stack's is: it awaits its platform's
 * outputs before it registers anything else); the builder it returns runs inside the root stack. Rejects with
 * `prepare`'s own error (e.g. a RunError listing config problems) before anything is registered.
 * Rejects with a RunError, one line per URN in the engine's words, when the program registers a
 * URN twice: the engine fails the deployment there, while the SDK's mock monitor would let the
 * second registration silently replace the first.
 */
export async function runProgram(
  prepare: () => Builder | Promise<Builder>,
  options: RunOptions,
): Promise<ProgramRun> {
  // Unread output properties cost no Output (tools/lazy-properties.ts; `pulumi up` builds them all).
  const eager = installLazyProperties();
  try {
    return await runUnderMocks(prepare, options);
  } finally {
    eager();
  }
}

async function runUnderMocks(
  prepare: () => Builder | Promise<Builder>,
  options: RunOptions,
): Promise<ProgramRun> {
  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
  const referenceErrors: string[] = [];
  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => {
      if (args.type === STACK_REFERENCE) {
        // A missing stack fails the run with its own reason (below), not as an unhandled read.
        const name = String((args.inputs as { name?: unknown }).name);
        let outputs: Record<string, unknown> = {};
        try {
          if (options.stackOutputs === undefined) {
            throw new Error(`stack reference ${name}: this run has no referenced stacks' outputs`);
          }
          outputs = options.stackOutputs(name);
        } catch (e) {
          referenceErrors.push((e as Error).message);
        }
        return { id: name, state: { name, outputs, secretOutputNames: [] } };
      }
      const inputs = args.inputs as Record<string, unknown>;
      const state: Record<string, unknown> = { ...inputs, ...(options.computed?.(args) ?? {}) };
      return { id: args.custom ? `${args.name}-id` : undefined, state };
    },
    call: (args) => options.call?.(args) ?? {},
  };
  await pulumi.runtime.setMocks(mocks, options.project, options.stack, options.preview);
  let build: Builder;
  try {
    build = await prepare();
  } catch (e) {
    // A referenced stack without outputs: its own reason, not the checks that found them missing.
    if (referenceErrors.length > 0)
      throw new pulumi.RunError([...new Set(referenceErrors)].join("\n"));
    throw e;
  }
  const monitor = pulumi.runtime.getMonitor() as unknown as RecordableMonitor;
  const resources: PlannedResource[] = [];
  const outputsByUrn = new Map<string, Record<string, unknown>>();
  // The URN the engine would give each resource, to fail on duplicates as it does. The mock's
  // URNs (which the plan keeps) differ: they qualify a type with its parent's type only, where
  // the engine uses the parent's whole type chain and leaves the root stack out.
  const engineUrns = new Map<string, string>();
  const seen = new Set<string>();
  const duplicates: string[] = [];

  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const engineUrn = engineUrnOf(req, engineUrns, options);
    if (seen.has(engineUrn)) duplicates.push(engineUrn);
    else seen.add(engineUrn);
    const raw = req.getObject()?.toJavaScript() ?? {};
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => {
      propertyDependencies[key] = value.getUrnsList();
    });
    if (req.getType().startsWith("pulumi-nodejs:dynamic")) {
      // The serialized provider code: noise in a plan, and identical for every resource.
      raw.__provider = "[dynamic provider]";
    }
    const entry: Omit<PlannedResource, "urn"> = {
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent() || null,
      custom: req.getCustom(),
      inputs: renderValue(raw) as { [key: string]: Json },
      dependencies: [...new Set(req.getDependenciesList())],
      propertyDependencies,
      rawInputs: unwrapSecrets(raw) as Record<string, unknown>,
      options: {
        protect: req.getProtect(),
        retainOnDelete: req.getRetainondelete(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        replaceOnChanges: req.getReplaceonchangesList(),
        ignoreChanges: req.getIgnorechangesList(),
      },
    };
    return register(req, (err, resp) => {
      if (!err && resp) {
        engineUrns.set(resp.getUrn(), engineUrn);
        resources.push({ urn: resp.getUrn(), ...entry });
      }
      cb(err, resp);
    });
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    outputsByUrn.set(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
    registerOutputs(req, cb);
  };

  try {
    await pulumi.runtime.runInPulumiStack(() => Promise.resolve(build()));
    await internals.waitForRPCs?.();
  } finally {
    if (referenceErrors.length > 0) {
      throw new pulumi.RunError([...new Set(referenceErrors)].join("\n"));
    }
  }
  if (duplicates.length > 0) {
    throw new pulumi.RunError(duplicates.map(duplicateUrnMessage).join("\n"));
  }
  const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
  const outputs = renderValue(stackUrn ? (outputsByUrn.get(stackUrn) ?? {}) : {}) as {
    [key: string]: Json;
  };
  return { resources, outputs };
}

/** The engine's URN for a registration (pulumi/pulumi `resource.NewURN`). */
function engineUrnOf(
  req: RegisterRequest,
  engineUrns: Map<string, string>,
  options: RunOptions,
): string {
  const parent = req.getParent();
  const parentType = parent ? (engineUrns.get(parent) ?? parent).split("::")[2] : "";
  const type =
    parentType && parentType !== "pulumi:pulumi:Stack"
      ? `${parentType}$${req.getType()}`
      : req.getType();
  return `urn:pulumi:${options.stack}::${options.project}::${type}::${req.getName()}`;
}

function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.map(unwrapSecrets);
  }
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) {
      return unwrapSecrets(o.value);
    }
    return Object.fromEntries(Object.entries(o).map(([k, val]) => [k, unwrapSecrets(val)]));
  }
  return v;
}
