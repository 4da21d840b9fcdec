/**
 * The spire-federation program: read and validate the stack config, build the trust domain and
 * its federation, return the stack outputs. `index.ts` hands {@link program} to Pulumi; tests and
 * the offline plan call it directly under the SDK's mocks, as often as they like.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import {
  CONFIG_NAMESPACE,
  ConfigError,
  parseStackConfig,
  type StackModel,
} from "./components/config";
import { TeamStack } from "./components/platform/component";
import { platformOutputs } from "./components/platform/outputs";
import { readPlatformOutputs } from "./components/platform/reference";
import { isTeamConfig, parseTeamConfig, teamKeyProblems } from "./components/platform/team-config";
import { CONTROLLER_CLASS_NAME, SpireFederation } from "./components/stack";
import { stackConfigFromYaml } from "./tools/stack-config";

/**
 * Reads every `spire-federation:` key, JSON-decoding structured values, and the config of other
 * namespaces as it is (with which of those keys are secure).
 */
function readRawConfig(): {
  raw: Record<string, unknown>;
  secretKeys: Set<string>;
  other: { values: Record<string, string>; secretKeys: Set<string> };
} {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  const other = { values: {} as Record<string, string>, secretKeys: new Set<string>() };
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) {
      other.values[fullKey] = value;
      continue;
    }
    const key = fullKey.slice(prefix.length);
    raw[key] = decode(value);
  }
  // Which keys Pulumi holds as secrets (a key with a nested secure value is secret as a whole).
  // The SDK exports this check at runtime but marks it internal in its typings.
  const runtime = pulumi.runtime as typeof pulumi.runtime & {
    isConfigSecret?: (key: string) => boolean;
  };
  const secret = (fullKey: string) => runtime.isConfigSecret?.(fullKey) ?? false;
  const secretKeys = new Set(Object.keys(raw).filter((key) => secret(`${prefix}${key}`)));
  other.secretKeys = new Set(Object.keys(other.values).filter(secret));
  return { raw, secretKeys, other };
}

/** A config value as the program reads it: structured values (JSON) decoded, others as is. */
export function decode(value: string): unknown {
  const t = value.trim();
  if (t.startsWith("{") || t.startsWith("[") || t === "true" || t === "false") {
    try {
      return JSON.parse(t);
    } catch {
      return value;
    }
  }
  return value;
}

/**
 * The secure values' paths from a stack's file (`<stackConfigDir>/Pulumi.<stack>.yaml` below the
 * project folder `root`), which the engine does not hand a program (it names only the top-level
 * keys that hold a secret). `undefined` when there is no such file (config from elsewhere): then
 * only top-level keys are known, and parseStackConfig checks at that grain.
 * @throws Error when the file exists but cannot be read or parsed (e.g. more YAML aliases than
 * the parser allows, which the Pulumi CLI accepts): falling back to the key grain would let a
 * plaintext password beside a secure value pass.
 */
export function stackFileSecretPaths(root: string, stack: string): string[] | undefined {
  let dir = ".";
  try {
    const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
      stackConfigDir?: unknown;
    } | null;
    if (typeof project?.stackConfigDir === "string") dir = project.stackConfigDir;
  } catch {
    dir = ".";
  }
  const file = path.join(root, dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) return undefined;
  try {
    return stackConfigFromYaml(readFileSync(file, "utf8"), file).secretPaths;
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    throw new ConfigError([
      `${CONFIG_NAMESPACE}: the stack file cannot be read to check which values are secure (${why}); without it a plaintext password beside a secure value would pass: simplify the file (e.g. fewer YAML aliases) so that it parses`,
    ]);
  }
}

/** The project folder: the nearest folder above this module that holds Pulumi.yaml. */
function projectFolder(): string | undefined {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "Pulumi.yaml"))) {
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return dir;
}

/** Validates the config, or fails the update with every problem and no stack trace. */
function loadModel(options: PrepareOptions): StackModel {
  const { raw, secretKeys, other } = readRawConfig();
  const prefix = `${CONFIG_NAMESPACE}:`;
  const root = projectFolder();
  try {
    const secretPaths = (
      options.secretPaths ??
      (root === undefined ? undefined : stackFileSecretPaths(root, pulumi.getStack()))
    )
      ?.filter((p) => p.startsWith(prefix))
      .map((p) => p.slice(prefix.length));
    return parseStackConfig(raw, {
      secretKeys,
      secretPaths: secretPaths === undefined ? undefined : new Set(secretPaths),
      otherConfig: other,
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new pulumi.RunError(e.message);
    }
    throw e;
  }
}

/** Options of {@link prepareProgram}. */
export interface PrepareOptions {
  /**
   * Full paths of the secure values (`spire-federation:spire.datastore.password`), as
   * `tools/stack-config.ts` reads them from a stack file. Default: read from this stack's file.
   */
  secretPaths?: readonly string[];
}

/** The stack outputs. */
export interface ProgramOutputs {
  [key: string]: pulumi.Input<unknown>;
}

/**
 * Validates the config (throwing a RunError that lists every problem) and returns the builder
 * that registers the resources; for a team stack, a promise of it (it awaits its platform's
 * outputs first, see {@link prepareTeamProgram}). Splitting the two lets the offline plan and the tests validate
 * before the root stack exists; Pulumi itself calls {@link program}.
 */
export function prepareProgram(
  options: PrepareOptions = {},
): (() => ProgramOutputs) | Promise<() => ProgramOutputs> {
  // A team stack (`platform: org/project/stack`) builds on a platform stack: components/platform.
  const { raw } = readRawConfig();
  if (isTeamConfig(raw)) return prepareTeamProgram(raw);
  const model = loadModel(options);
  return () => {
    const stack = new SpireFederation("spire-federation", { model });
    return {
      // The platform output contract (components/platform/contract.ts), first.
      ...platformOutputs(model, {
        trustDomain: stack.trustDomain,
        issuerUrl: stack.issuerUrl,
        jwksUri: stack.jwksUri,
        rootCaPem: stack.rootCaPem,
        controllerClassName: CONTROLLER_CLASS_NAME,
      }),
      workloads: stack.workloads,
      federation: stack.federation,
      ...(stack.nodes === undefined ? {} : { nodes: stack.nodes.agents }),
      ...(stack.workloadFiles ? { workloadFiles: stack.workloadFiles.outputs } : {}),
      ...stack.extraOutputs,
    };
  };
}

/**
 * A team stack: refuses the keys the platform owns before anything is registered, then reads the
 * platform's outputs through a StackReference and awaits them, and checks the workloads against
 * them; only the builder it resolves to registers the team's resources.
 */
async function prepareTeamProgram(raw: Record<string, unknown>): Promise<() => ProgramOutputs> {
  const early = teamKeyProblems(raw);
  if (early.length > 0) throw new pulumi.RunError(new ConfigError(early).message);
  const platform = raw.platform as string;
  const outputs = await readPlatformOutputs(platform);
  let team;
  try {
    team = parseTeamConfig(raw, outputs, pulumi.getStack());
  } catch (e) {
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
  return () => {
    const stack = new TeamStack("spire-federation", {
      teamStack: team.teamStack,
      platform: team.outputs,
      workloads: team.workloads,
      workloadFiles: team.workloadFiles,
      vault: team.vault,
    });
    return {
      platform,
      trustDomain: team.outputs.trustDomain,
      workloads: stack.workloads,
      federation: stack.federation,
      ...(stack.workloadFiles ? { workloadFiles: stack.workloadFiles.outputs } : {}),
    };
  };
}

/** The program: validates config (failing with every problem, no stack trace), builds the stack. */
export function program(): ProgramOutputs | Promise<ProgramOutputs> {
  const prepared = prepareProgram();
  return prepared instanceof Promise ? prepared.then((build) => build()) : prepared();
}
