/** Helpers to run the real program under the SDK's mocks. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PlannedResource, ProgramRun } from "../tools/harness";
import { prepareProgram, runProgram } from "./compiled";
import { loadStackConfig } from "../tools/stack-config";
import { ConfigError, parseStackConfig } from "../components/config";

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
      case "azure-native:managedidentity:UserAssignedIdentity":
        return { name: args.inputs.resourceName, ...fakeIdentity(args.name) };
      default:
        return {};
    }
  };
}

/** Deterministic IDs a managed identity would get from Azure. */
export function fakeIdentity(name: string) {
  const hex = Buffer.from(name).toString("hex").padEnd(12, "0").slice(0, 12);
  return {
    clientId: `00000000-0000-4000-8000-${hex}`,
    principalId: `11111111-1111-4111-8111-${hex}`,
    tenantId: "22222222-2222-4222-8222-222222222222",
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

/** Previews the program for a stack file of this repository, its config changed by `edit`. */
export function previewStackFile(
  stack: string,
  edit: (config: Record<string, string>) => void = () => {},
): Promise<ProgramRun> {
  const { config, secretKeys } = loadStackConfig(ROOT, stack);
  edit(config);
  return runProgram(prepareProgram, {
    project: "spire-federation",
    stack,
    config,
    secretKeys,
    preview: true,
  });
}

/** Runs the program for a raw config object. */
export function runRaw(
  raw: Record<string, unknown>,
  opts: {
    secretKeys?: string[];
    preview?: boolean;
    computed?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
    /** Config outside the namespace, e.g. `azure-native:subscriptionId`. */
    extraConfig?: Record<string, string>;
  } = {},
): Promise<ProgramRun> {
  return runProgram(prepareProgram, {
    project: "spire-federation",
    stack: "test",
    config: { ...toConfigMap(raw), ...opts.extraConfig },
    secretKeys: (opts.secretKeys ?? []).map((k) => `spire-federation:${k}`),
    preview: opts.preview ?? false,
    computed: opts.computed,
  });
}

/** URNs a resource waits on, directly or through other resources. */
export function transitiveDependencies(run: ProgramRun, urn: string): Set<string> {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...(byUrn.get(urn)?.dependencies ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(byUrn.get(next)?.dependencies ?? []));
  }
  return seen;
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

/** The resource with this logical name (fails the test when there is none). */
export function byName(run: ProgramRun, name: string): PlannedResource {
  const r = run.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
}

/** Every resource of a type. */
export function all(run: ProgramRun, type: string): PlannedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** Folder of the SPIRE chart contracts carried in the repository (see its README.md). */
export const SPIRE_CONTRACTS = path.join(ROOT, "test", "contracts", "spire");

/** The chart's key list in test/contracts/spire: key, type, default (as the file prints it). */
function chartRows(): [string, string, string][] {
  const file = path.join(SPIRE_CONTRACTS, "spire-chart-0.30.0-values.tsv");
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => !line.startsWith("#") && line.trim() !== "")
    .map((line) => {
      const [key, type, ...rest] = line.split("\t");
      return [key, type, rest.join("\t")];
    });
}

/** The chart's values keys: key → type, from the chart's key list in test/contracts/spire. */
export function chartValueKeys(): Map<string, string> {
  return new Map(chartRows().map(([key, type]) => [key, type]));
}

/** The chart's defaults: key → default as printed (Python literals, long ones cut with `...`). */
export function chartDefaults(): Map<string, string> {
  return new Map(chartRows().map(([key, , value]) => [key, value]));
}

/** The problems parseStackConfig reports for `raw`; throws if it accepts it. */
export function configProblems(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("config was accepted");
}
