/**
 * Every planned Helm release of every stack renders with the real `helm template` from the
 * carried chart of its exact version, and every values key it sets is one the chart reads:
 * - charts with a `values.schema.json` (cert-manager, gateway, the spire-agent subchart): Helm
 *   validates the values on render, so a render that succeeds passed the schema;
 * - charts without one (Helm ignores unknown keys silently): each planned key must exist in the
 *   chart's `values.yaml` (subcharts under their name or alias), or sit under a map the chart
 *   leaves open (`{}`); istiod's free-form `meshConfig` must reach the rendered mesh config.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  CHARTS,
  chartDir,
  chartMeta,
  configData,
  one,
  plan,
  releases,
  renderRelease,
  STACKS,
  type PlannedRelease,
} from "./render";

type Tree = Record<string, unknown>;
const isMap = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The values a chart reads: its `values.yaml` (Istio's wrapper `_internal_defaults_do_not_set`,
 * which the chart merges into `.Values`, unwrapped), with each dependency's under its alias or
 * name, and the dependencies' `global` keys merged into the chart's.
 */
function chartValues(dir: string): Tree {
  const own = (parse(readFileSync(path.join(dir, "values.yaml"), "utf8")) ?? {}) as Tree;
  const { _internal_defaults_do_not_set: wrapped, ...rest } = own;
  const values: Tree = isMap(wrapped) ? { ...wrapped, ...rest } : own;
  const meta = parse(readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as {
    dependencies?: { name: string; alias?: string }[];
  };
  for (const dep of meta.dependencies ?? []) {
    const sub = path.join(dir, "charts", dep.name);
    if (!existsSync(path.join(sub, "values.yaml"))) throw new Error(`${sub} is not carried`);
    const { global, ...subValues } = chartValues(sub);
    const key = dep.alias ?? dep.name;
    values[key] = merge(subValues, isMap(values[key]) ? values[key] : {});
    if (isMap(global)) values.global = merge(global, isMap(values.global) ? values.global : {});
  }
  return values;
}

function merge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = isMap(v) && isMap(out[k]) ? merge(out[k], v) : v;
  }
  return out;
}

/** Dot paths of `planned` the chart does not read (a `{}` map in the chart takes any key). */
function unknownKeys(planned: Tree, chart: Tree, at = ""): string[] {
  return Object.entries(planned).flatMap(([k, v]) => {
    const key = at === "" ? k : `${at}.${k}`;
    if (!(k in chart)) return [key];
    const c = chart[k];
    if (isMap(v) && isMap(c) && Object.keys(c).length > 0) return unknownKeys(v, c, key);
    return [];
  });
}

/** A chart's own values.schema.json, if it has one (Helm then validates the values). */
const hasSchema = (dir: string) => existsSync(path.join(dir, "values.schema.json"));

/**
 * What helm may say while rendering, by chart. The spire chart declares the ACME solvers'
 * default as `{}` and its template takes the list the package passes (values.yaml documents the
 * list form): Helm notes that it replaced the map and renders the list (test/charts/spire.test.ts
 * checks the rendered Issuer).
 */
const KNOWN_WARNINGS: Record<string, RegExp[]> = {
  spire: [
    /^level=INFO msg="warning: cannot overwrite table with non table for spire\.spiffe-oidc-discovery-provider\.tls\.certManager\.issuer\.acme\.solvers \(map\[\]\)"$/,
  ],
};

async function all(): Promise<[string, PlannedRelease][]> {
  const out: [string, PlannedRelease][] = [];
  for (const stack of STACKS) {
    for (const r of releases(await plan(stack))) out.push([stack, r]);
  }
  return out;
}

describe("every planned release, rendered from the carried chart", () => {
  it("each release names a carried chart of its version, and every stack plans one of each", async () => {
    const seen = new Set<string>();
    for (const [, r] of await all()) {
      const meta = chartMeta(chartDir(r.chart, r.version));
      expect([meta.name, meta.version]).toEqual([r.chart, r.version]);
      seen.add(r.chart);
    }
    expect([...seen].sort()).toEqual([
      "base",
      "cert-manager",
      "gateway",
      "istiod",
      "spire",
      "spire-crds",
    ]);
  });

  it.each(STACKS)("%s: renders, with no warning but the known ones", async (stack) => {
    for (const r of releases(await plan(stack))) {
      const { objects, warnings } = renderRelease(r);
      expect(objects.length, r.chart).toBeGreaterThan(0);
      const known = KNOWN_WARNINGS[r.chart] ?? [];
      expect(
        warnings.filter((w) => !known.some((k) => k.test(w))),
        r.chart,
      ).toEqual([]);
    }
  });

  it.each(STACKS)("%s: every values key is one the chart reads", async (stack) => {
    for (const r of releases(await plan(stack))) {
      const dir = chartDir(r.chart, r.version);
      const { meshConfig, ...values } = r.values;
      expect(unknownKeys(values, chartValues(dir)), `${r.chart} ${r.version}`).toEqual([]);
      if (meshConfig === undefined) continue;
      // Free-form in values.yaml (Istio's MeshConfig): it must reach the mesh config istiod reads.
      const mesh = parse(configData(one(renderRelease(r).objects, "ConfigMap", "istio"), "mesh"));
      expect(mesh).toMatchObject(meshConfig as Tree);
    }
  });

  it("the key check catches what Helm would ignore, where no schema would", async () => {
    const spire = releases(await plan("dev")).find((r) => r.chart === "spire")!;
    const dir = chartDir(spire.chart, spire.version);
    expect(hasSchema(dir)).toBe(false);
    const typo = merge(spire.values, {
      "spire-server": { service: { loadBalancerIp: "203.0.113.1" } },
      global: { spire: { jwtIsuer: "x" } },
    });
    expect(unknownKeys(typo, chartValues(dir)).sort()).toEqual([
      "global.spire.jwtIsuer",
      "spire-server.service.loadBalancerIp",
    ]);
    // Helm itself renders it without a word: the typos are simply dropped.
    const { warnings } = renderRelease({ ...spire, values: typo });
    expect(warnings.filter((w) => /jwtIsuer|loadBalancerIp/.test(w))).toEqual([]);
    // Open maps take any key: the chart's `{}` annotations.
    const open = merge(spire.values, { "spire-server": { service: { annotations: { a: "b" } } } });
    expect(unknownKeys(open, chartValues(dir))).toEqual([]);
  });

  it("the schema-checked charts are the ones that carry a values.schema.json", () => {
    const schema = (chart: string, version: string) => hasSchema(chartDir(chart, version));
    expect(schema("cert-manager", "v1.19.1")).toBe(true);
    expect(schema("gateway", "1.30.3")).toBe(true);
    expect(hasSchema(path.join(chartDir("spire", "0.30.0"), "charts", "spire-agent"))).toBe(true);
    for (const [chart, version] of [
      ["spire", "0.30.0"],
      ["spire-crds", "0.6.0"],
      ["base", "1.30.3"],
      ["istiod", "1.30.3"],
    ]) {
      expect(schema(chart, version), chart).toBe(false);
    }
  });
});

describe("the carried charts", () => {
  it("the README names every folder with its chart, version, source and licence", () => {
    const readme = readFileSync(path.join(CHARTS, "README.md"), "utf8");
    const folders = readdirSync(CHARTS, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.sort()).toEqual([
      "cert-manager-v1.19.1",
      "istio-base-1.30.3",
      "istio-gateway-1.30.3",
      "istio-istiod-1.30.3",
      "spire-0.30.0",
      "spire-crds-0.6.0",
    ]);
    for (const f of folders) {
      expect(readme).toContain(`\`${f}/\``);
      const meta = chartMeta(path.join(CHARTS, f));
      expect(f.endsWith(`-${meta.version}`), f).toBe(true);
      expect(readFileSync(path.join(CHARTS, f, "LICENSE"), "utf8")).toContain("Apache License");
    }
    expect(readme.match(/Apache-2\.0/g)).toHaveLength(6);
  });
});
