/** Helpers to run the real program under the SDK's mocks. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { prepareProgram } from "../program";
import { runProgram, type PlannedResource, type ProgramRun } from "../tools/harness";
import { loadStackConfig } from "../tools/stack-config";

export const ROOT = path.resolve(__dirname, "..");

/** Config map (`spire-federation:key` → string) from a raw config object. */
export function toConfigMap(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [
      `spire-federation:${k}`,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

/** Computed outputs for an update under mocks: a real root certificate for the tls resources. */
export function computedOutputs(rootPem: string, rootKeyPem: string) {
  return (args: pulumi.runtime.MockResourceArgs): Record<string, unknown> => {
    switch (args.type) {
      case "tls:index/privateKey:PrivateKey":
        return { privateKeyPem: rootKeyPem, publicKeyPem: "", algorithm: args.inputs.algorithm };
      case "tls:index/selfSignedCert:SelfSignedCert":
        return { certPem: rootPem };
      default:
        return {};
    }
  };
}

/** Runs the program for a stack file of this repository (update mode, everything resolves). */
export function runStackFile(
  stack: string,
  computed?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>,
): Promise<ProgramRun> {
  const { config, secretKeys } = loadStackConfig(ROOT, stack);
  return runProgram(prepareProgram, {
    project: "spire-federation",
    stack,
    config,
    secretKeys,
    preview: false,
    computed,
  });
}

/** Runs the program for a raw config object. */
export function runRaw(
  raw: Record<string, unknown>,
  opts: {
    secretKeys?: string[];
    preview?: boolean;
    computed?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
  } = {},
): Promise<ProgramRun> {
  return runProgram(prepareProgram, {
    project: "spire-federation",
    stack: "test",
    config: toConfigMap(raw),
    secretKeys: (opts.secretKeys ?? []).map((k) => `spire-federation:${k}`),
    preview: opts.preview ?? false,
    computed: opts.computed,
  });
}

/** Finds exactly one resource by type and name suffix. */
export function find(run: ProgramRun, type: string, nameSuffix = ""): PlannedResource {
  const hits = run.resources.filter((r) => r.type === type && r.name.endsWith(nameSuffix));
  if (hits.length !== 1) {
    throw new Error(
      `expected one ${type} *${nameSuffix}, found ${hits.map((h) => h.name).join(", ") || "none"}`,
    );
  }
  return hits[0];
}

/** Every resource of a type. */
export function all(run: ProgramRun, type: string): PlannedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The chart's values keys: key → type, from the reference list in ../shared/reference. */
export function chartValueKeys(): Map<string, string> {
  const file = path.resolve(ROOT, "..", "shared", "reference", "spire-chart-0.30.0-values.tsv");
  const keys = new Map<string, string>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const [key, type] = line.split("\t");
    keys.set(key, type);
  }
  return keys;
}
