/**
 * The spire-federation program: read and validate the stack config, build the trust domain and
 * its federation, return the stack outputs. `index.ts` hands {@link program} to Pulumi; tests and
 * the offline plan call it directly under the SDK's mocks, as often as they like.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  CONFIG_NAMESPACE,
  ConfigError,
  parseStackConfig,
  type StackModel,
} from "./components/config";
import { SpireFederation } from "./components/stack";

/** Reads every `spire-federation:` key, JSON-decoding structured values. */
function readRawConfig(): { raw: Record<string, unknown>; secretKeys: Set<string> } {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) {
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
  const secretKeys = new Set(
    Object.keys(raw).filter((key) => runtime.isConfigSecret?.(`${prefix}${key}`) ?? false),
  );
  return { raw, secretKeys };
}

function decode(value: string): unknown {
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

/** Validates the config, or fails the update with every problem and no stack trace. */
function loadModel(): StackModel {
  const { raw, secretKeys } = readRawConfig();
  try {
    return parseStackConfig(raw, {
      secretKeys,
      azureSubscriptionId: new pulumi.Config("azure-native").get("subscriptionId"),
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new pulumi.RunError(e.message);
    }
    throw e;
  }
}

/** The stack outputs. */
export interface ProgramOutputs {
  [key: string]: pulumi.Input<unknown>;
}

/**
 * Validates the config (throwing a RunError that lists every problem) and returns the builder
 * that registers the resources. Splitting the two lets the offline plan and the tests validate
 * before the root stack exists; Pulumi itself calls {@link program}.
 */
export function prepareProgram(): () => ProgramOutputs {
  const model = loadModel();
  return () => {
    const stack = new SpireFederation("spire-federation", { model });
    return {
      trustDomain: stack.trustDomain,
      issuerUrl: stack.issuerUrl,
      jwksUri: stack.jwksUri,
      rootCaPem: stack.rootCaPem,
      workloads: stack.workloads,
      federation: stack.federation,
      ...(stack.nodes === undefined ? {} : { nodes: stack.nodes.agents }),
      ...stack.extraOutputs,
    };
  };
}

/** The program: validates config (failing with every problem, no stack trace), builds the stack. */
export function program(): ProgramOutputs {
  return prepareProgram()();
}
