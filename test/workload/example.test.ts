/**
 * The example: a full Deployment for payments-api (all four relying parties), kept in sync with
 * the prod stack's patch, and merged with the real `kubectl patch --local` (kubectl 1.35, from
 * test/support/k8s-tools.ts). `UPDATE_EXAMPLES=1` rewrites the generated files.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { validate as deploymentSchema } from "kubernetes-models/_schemas/IoK8sApiAppsV1Deployment";
import { validate as configMapSchema } from "kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { ProgramRun } from "../../tools/harness";
import { computedOutputs, ROOT, runStackFile } from "../helpers";
import { kubectl } from "../support/k8s-tools";

const EXAMPLE = path.join(ROOT, "examples", "payments-api");
const UPDATE = process.env.UPDATE_EXAMPLES === "1";
const HEADER = (what: string) =>
  `# ${what}\n# Generated from stacks/Pulumi.prod.yaml by test/workload/example.test.ts (see ../README.md).\n`;
const home = mkdtempSync(path.join(os.tmpdir(), "sf-example-"));

function syncFile(name: string, text: string): void {
  const file = path.join(EXAMPLE, name);
  if (UPDATE) writeFileSync(file, text);
  expect(existsSync(file), file).toBe(true);
  expect(readFileSync(file, "utf8"), `${name} is stale: rerun with UPDATE_EXAMPLES=1`).toBe(text);
}

/** `kubectl patch --local --type strategic` of a Deployment (YAML text) with a patch (object). */
export function kubectlPatch(deploymentYaml: string, patch: unknown): string {
  const dir = mkdtempSync(path.join(home, "patch-"));
  const file = path.join(dir, "deployment.yaml");
  const patchFile = path.join(dir, "patch.yaml");
  writeFileSync(file, deploymentYaml);
  writeFileSync(patchFile, typeof patch === "string" ? patch : JSON.stringify(patch));
  return kubectl(
    [
      "patch",
      "--local",
      "-f",
      file,
      "--type",
      "strategic",
      "--patch-file",
      patchFile,
      "-o",
      "yaml",
    ],
    { home },
  );
}

/** The object as the API server decodes it: a `null` field is an absent field. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, withoutNulls(x)]),
  );
}

/** Keys the schema does not know: the validator never reads them (it reads every known one). */
function unknownFields(validate: (data: unknown) => boolean, obj: unknown): string[] {
  const seen = new Map<object, { proxy: object; reads: Set<string>; at: string }>();
  const wrap = (value: unknown, at: string): unknown => {
    if (value === null || typeof value !== "object") return value;
    const known = seen.get(value);
    if (known) return known.proxy;
    const reads = new Set<string>();
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (typeof key !== "string") return v;
        reads.add(key);
        return wrap(v, `${at}/${key}`);
      },
    });
    seen.set(value, { proxy, reads, at });
    return proxy;
  };
  expect(validate(wrap(obj, "")), JSON.stringify((validate as any).errors)).toBe(true);
  return [...seen.entries()].flatMap(([value, { reads, at }]) =>
    Array.isArray(value)
      ? []
      : Object.keys(value)
          .filter((k) => !reads.has(k))
          .map((k) => `${at}/${k}`),
  );
}

/** What the API server checks beyond the schema for the parts the patch adds. */
export function podProblems(spec: any): string[] {
  const problems: string[] = [];
  const volumes = (spec.volumes ?? []).map((v: any) => v.name);
  if (new Set(volumes).size !== volumes.length)
    problems.push(`volume names repeat: ${volumes.join(", ")}`);
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  const names = all.map((c: any) => c.name);
  if (new Set(names).size !== names.length)
    problems.push(`container names repeat: ${names.join(", ")}`);
  for (const c of all) {
    if (!c.image) problems.push(`${c.name}: no image`);
    const paths = (c.volumeMounts ?? []).map((m: any) => m.mountPath);
    if (new Set(paths).size !== paths.length) problems.push(`${c.name}: mount paths repeat`);
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.includes(m.name)) problems.push(`${c.name}: no volume ${m.name}`);
    }
    const env = (c.env ?? []).map((e: any) => e.name);
    if (new Set(env).size !== env.length) problems.push(`${c.name}: env names repeat`);
    // The API server: "may not be specified when `value` is not empty".
    for (const e of c.env ?? []) {
      if (e.value !== undefined && e.value !== null && e.value !== "" && e.valueFrom != null) {
        problems.push(`${c.name}: env ${e.name} has both value and valueFrom`);
      }
    }
  }
  return problems;
}

describe("examples/payments-api: a Deployment using all four relying parties", () => {
  let run: ProgramRun;
  let out: any;
  const deploymentYaml = readFileSync(path.join(EXAMPLE, "deployment.yaml"), "utf8");
  beforeAll(async () => {
    run = await runStackFile("prod", computedOutputs("", ""));
    out = (run.outputs.workloadFiles as any)["payments-api"];
  });

  it("payments-api has grants in all four relying parties", () => {
    expect(Object.keys((run.outputs.federation as any)["payments-api"]).sort()).toEqual([
      "azure",
      "gcp",
      "openziti",
      "vault",
    ]);
  });

  it("pod-patch.yaml is the stack's patch, byte for byte", () => {
    syncFile(
      "pod-patch.yaml",
      HEADER(
        "The pod patch of payments-api: the stack output workloadFiles.payments-api.podPatchYaml.",
      ) + out.podPatchYaml,
    );
  });

  it("configmap.yaml is the ConfigMap the stack creates, valid against the Kubernetes schema", () => {
    const cm = run.resources.find(
      (r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name.endsWith("-payments-api"),
    )!;
    const manifest = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: cm.rawInputs.metadata,
      data: cm.rawInputs.data,
    };
    expect(Object.keys(cm.rawInputs).sort()).toEqual(["apiVersion", "data", "kind", "metadata"]);
    new ConfigMap(manifest as any).validate();
    expect(unknownFields(configMapSchema, manifest)).toEqual([]);
    syncFile(
      "configmap.yaml",
      HEADER("The files ConfigMap of payments-api, as the stack creates it.") +
        stringify(manifest, { lineWidth: 0 }),
    );
  });

  it("deployment.patched.yaml is exactly what kubectl patch --local makes of the two files", () => {
    const patchYaml = readFileSync(path.join(EXAMPLE, "pod-patch.yaml"), "utf8");
    expect(parse(patchYaml)).toEqual(out.podPatch);
    const merged = kubectlPatch(deploymentYaml, patchYaml);
    syncFile("deployment.patched.yaml", merged);
    const decoded = withoutNulls(parse(merged)) as any;
    new Deployment(decoded).validate();
    expect(unknownFields(deploymentSchema, decoded)).toEqual([]);
    expect(podProblems(decoded.spec.template.spec)).toEqual([]);
    // The team's own settings survive the merge.
    const base = parse(deploymentYaml);
    const app = decoded.spec.template.spec.containers[0];
    // kubectl puts the patch's new variables first, then the container's own.
    expect(app.env.at(-1)).toEqual({ name: "LOG_LEVEL", value: "info" });
    expect(app.env.slice(0, -1)).toEqual(
      withoutNulls(out.podPatch.spec.template.spec.containers[0].env),
    );
    expect(app.ports).toEqual(base.spec.template.spec.containers[0].ports);
    expect(decoded.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual([
      "spiffe-helper",
    ]);
    expect(decoded.spec.template.metadata).toEqual({
      labels: base.spec.template.metadata.labels,
      annotations: out.podPatch.spec.template.metadata.annotations,
    });
  });

  it("the patch's form of each variable wins over the container's other form", () => {
    // The team's Deployment already sets every variable the patch sets, in the other form.
    const base = parse(deploymentYaml);
    const patchEnv = out.podPatch.spec.template.spec.containers[0].env as any[];
    base.spec.template.spec.containers[0].env.push(
      ...patchEnv.map((e) =>
        e.valueFrom === null
          ? { name: e.name, valueFrom: { secretKeyRef: { name: "old", key: e.name } } }
          : { name: e.name, value: "old" },
      ),
    );
    const merged = parse(kubectlPatch(stringify(base), out.podPatch));
    const env = merged.spec.template.spec.containers[0].env as any[];
    expect(env.map((e) => e.name)).toEqual(["LOG_LEVEL", ...patchEnv.map((e) => e.name)]);
    expect(withoutNulls(env.slice(1))).toEqual(withoutNulls(patchEnv));
    expect(podProblems(merged.spec.template.spec)).toEqual([]);

    // Without the nulls, kubectl keeps both forms, which the API server rejects.
    const bare = structuredClone(out.podPatch);
    bare.spec.template.spec.containers[0].env = withoutNulls(patchEnv);
    const kept = parse(kubectlPatch(stringify(base), bare));
    expect(podProblems(kept.spec.template.spec)).toEqual(
      patchEnv.map((e) => `payments-api: env ${e.name} has both value and valueFrom`),
    );
  });

  it("the schema check catches what a broken patch would add", () => {
    const broken = structuredClone(out.podPatch);
    broken.spec.template.spec.initContainers[0].startupProbe.periodSeconds = "2";
    const withString = withoutNulls(parse(kubectlPatch(deploymentYaml, broken)));
    expect(() => new Deployment(withString as any).validate()).toThrow(
      /periodSeconds must be integer/,
    );
    broken.spec.template.spec.initContainers[0].startupProbe.periodSeconds = 2;
    broken.spec.template.spec.initContainers[0].volumeMount = [];
    const typo = withoutNulls(parse(kubectlPatch(deploymentYaml, broken)));
    expect(unknownFields(deploymentSchema, typo)).toEqual([
      "/spec/template/spec/initContainers/0/volumeMount",
    ]);
    const renamed = structuredClone(out.podPatch);
    renamed.spec.template.spec.containers[0].name = "app";
    const merged = parse(kubectlPatch(deploymentYaml, renamed));
    expect(podProblems(merged.spec.template.spec)).toEqual(["app: no image"]);
  });
});
