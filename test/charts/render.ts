/**
 * Every Helm release a stack plans, rendered by the real `helm template` from the charts carried
 * in `test/contracts/charts/` (see its README): the chart, version, release name, namespace and
 * values exactly as the offline plan (`planStack`) has them, nothing added.
 *
 * Plans and renders are memoised per test file (vitest gives each file its own module), so a file
 * plans each stack once and renders each distinct release once.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import type { Plan, PlanResource } from "../../tools/plan-types";
import { planStack } from "../compiled";
import { ROOT } from "../helpers";
import { k8sTools, toolEnv } from "../support/k8s-tools";

/** The type token of a Helm release. */
export const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Folder of the carried charts. */
export const CHARTS = path.join(ROOT, "test", "contracts", "charts");

/** Every stack of the repository (`stacks/Pulumi.<stack>.yaml`). */
export const STACKS = ["curity", "dev", "east", "edge", "mesh", "prod", "west"] as const;

/** A rendered Kubernetes object (only the fields the tests read are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** One planned Helm release, as the plan has its inputs. */
export interface PlannedRelease {
  /** The Pulumi resource's logical name. */
  resource: string;
  /** Helm's release name. */
  name: string;
  chart: string;
  version: string;
  namespace: string;
  values: Record<string, unknown>;
}

/** The carried folder of each chart the package installs, by chart name and version. */
const FOLDERS: Record<string, string> = {
  "spire@0.30.0": "spire-0.30.0",
  "spire-crds@0.6.0": "spire-crds-0.6.0",
  "cert-manager@v1.19.1": "cert-manager-v1.19.1",
  "base@1.30.3": "istio-base-1.30.3",
  "istiod@1.30.3": "istio-istiod-1.30.3",
  "gateway@1.30.3": "istio-gateway-1.30.3",
};

/** The carried folder of `chart` at `version`; throws when that version is not carried. */
export function chartDir(chart: string, version: string): string {
  const folder = FOLDERS[`${chart}@${version}`];
  if (folder === undefined) {
    throw new Error(`chart ${chart} ${version} is not carried in test/contracts/charts`);
  }
  return path.join(CHARTS, folder);
}

/** A chart's Chart.yaml. */
export function chartMeta(dir: string): { name: string; version: string; appVersion?: string } {
  return parse(readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as {
    name: string;
    version: string;
  };
}

const plans = new Map<string, Promise<Plan>>();

/** The offline plan of a stack (memoised); `stacksDir` for fixture stacks. */
export function plan(stack: string, stacksDir?: string): Promise<Plan> {
  const key = `${stacksDir ?? ""}|${stack}`;
  let p = plans.get(key);
  if (!p) {
    p = planStack(stack, stacksDir);
    plans.set(key, p);
  }
  return p;
}

/** The Helm releases of a plan, with their inputs as planned. */
export function releases(p: Plan): PlannedRelease[] {
  return p.resources
    .filter((r: PlanResource) => r.type === RELEASE)
    .map((r) => {
      const i = r.inputs as Record<string, unknown>;
      return {
        resource: r.name,
        name: i.name as string,
        chart: i.chart as string,
        version: i.version as string,
        namespace: i.namespace as string,
        values: (i.values ?? {}) as Record<string, unknown>,
      };
    });
}

/** The one release of chart `chart` in a plan. */
export function releaseOf(p: Plan, chart: string): PlannedRelease {
  const hits = releases(p).filter((r) => r.chart === chart);
  if (hits.length !== 1) throw new Error(`expected one ${chart} release, found ${hits.length}`);
  return hits[0];
}

let home: string | undefined;
const renders = new Map<string, { objects: Rendered[]; warnings: string[] }>();

/**
 * One rendered document: its kind and name read from its top-level lines, the object parsed on
 * first use (Istio's `base` renders 900 kB of CRDs that no test reads field by field).
 */
export class Rendered {
  private parsed?: K8sObject;
  constructor(
    /** Kind of the object. */
    readonly kind: string,
    /** `metadata.name` of the object. */
    readonly name: string,
    /** The document's YAML. */
    readonly text: string,
  ) {}
  /** The object. */
  get object(): K8sObject {
    this.parsed ??= parse(this.text) as K8sObject;
    return this.parsed;
  }
}

/** Splits helm's output into documents, skipping empty ones. */
function documents(out: string): Rendered[] {
  const docs: Rendered[] = [];
  for (const text of out.split(/^---$/m)) {
    const kind = /^kind: *(.+)$/m.exec(text)?.[1];
    const name = /^metadata:\n(?:[ #].*\n)*?  name: *(.+)$/m.exec(text)?.[1];
    if (kind === undefined || name === undefined) {
      if (parse(text) !== null)
        throw new Error(`a rendered document without kind or name: ${text}`);
      continue;
    }
    docs.push(new Rendered(parse(kind) as string, String(parse(name)), text));
  }
  return docs;
}

/**
 * `helm template` of a planned release: the carried chart of its name and version, its release
 * name and namespace, its values as a values file. Throws with helm's message when the chart
 * refuses the values (`values.schema.json`, `fail` in a template); keeps what helm warns about.
 */
export function renderRelease(r: PlannedRelease): { objects: Rendered[]; warnings: string[] } {
  const key = JSON.stringify([r.name, r.chart, r.version, r.namespace, r.values]);
  const hit = renders.get(key);
  if (hit) return hit;
  home ??= mkdtempSync(path.join(os.tmpdir(), "sf-charts-"));
  mkdirSync(home, { recursive: true });
  const valuesFile = path.join(home, `values-${renders.size}.json`);
  writeFileSync(valuesFile, JSON.stringify(r.values));
  const args = ["template", r.name, chartDir(r.chart, r.version)];
  const run = spawnSync(k8sTools().helm, [...args, "-n", r.namespace, "-f", valuesFile], {
    env: toolEnv(home),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  const stderr = run.stderr.toString("utf8").trim();
  if (run.status !== 0) throw new Error(`helm template ${r.chart} ${r.version}: ${stderr}`);
  const objects = documents(run.stdout.toString("utf8"));
  const result = { objects, warnings: stderr === "" ? [] : stderr.split("\n") };
  renders.set(key, result);
  return result;
}

/** The documents `helm template` renders for a planned release (see {@link renderRelease}). */
export function render(r: PlannedRelease): Rendered[] {
  return renderRelease(r).objects;
}

/** Exactly one rendered object of `kind` named `name`. */
export function one(objects: Rendered[], kind: string, name: string): K8sObject {
  const hits = objects.filter((o) => o.kind === kind && o.name === name);
  if (hits.length !== 1) {
    const names = objects.filter((o) => o.kind === kind).map((o) => o.name);
    throw new Error(`expected one ${kind} ${name}, found ${hits.length} (${names.join(", ")})`);
  }
  return hits[0].object;
}

/** Every rendered object of `kind`. */
export function kinds(objects: Rendered[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind).map((o) => o.object);
}

/** A ConfigMap's data entry. */
export function configData(cm: K8sObject, key: string): string {
  const data = (cm as { data?: Record<string, string> }).data ?? {};
  if (!(key in data)) throw new Error(`ConfigMap ${cm.metadata.name} has no ${key}`);
  return data[key];
}

/**
 * A stack file: trust domain `<domain>.spiffe.example.com`, its OIDC host on ingress class nginx
 * with `tls` (YAML under `tls:`), a generated root, and `rest` (more `spire-federation:` keys).
 */
export function stackFile(domain: string, tls: string, rest: string): string {
  return `config:
  spire-federation:trustDomain: ${domain}.spiffe.example.com
  spire-federation:clusterName: ${domain}-cluster
  spire-federation:oidc:
    host: oidc.${domain}.spiffe.example.com
    ingressClassName: nginx
    tls:
      ${tls}
  spire-federation:ca:
    mode: generated
${rest}`;
}

/** Writes a stack file into a fresh folder, for plans of shapes no repository stack has. */
export function fixtureStacks(stacks: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sf-chart-stacks-"));
  for (const [name, text] of Object.entries(stacks)) {
    writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
  }
  return dir;
}
