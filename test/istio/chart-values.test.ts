/**
 * Every values key against the pinned charts (test/contracts/istio), and the spire injection
 * template against Istio's own templates.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  baseValues,
  gatewayValues,
  istiodValues,
  spireInjectionTemplate,
  spireTemplateProblems,
  WORKLOAD_SOCKET_DIR,
} from "../../components/federation/istio/index";
import { ROOT } from "../helpers";

const CONTRACTS = path.join(ROOT, "test", "contracts");
const contract = (file: string) => readFileSync(path.join(CONTRACTS, file), "utf8");

// ---------------------------------------------------------------------------------------------
// Values keys against the pinned charts

/** Key → type of a carried values TSV (`#` comment, header row, then key<TAB>type<TAB>default). */
function valueKeys(chart: "base" | "istiod" | "gateway"): Map<string, string> {
  const keys = new Map<string, string>();
  const lines = contract(`istio/${chart}-1.30.3-values.tsv`).split("\n");
  for (const line of lines) {
    if (line.startsWith("#") || line.trim() === "" || line.startsWith("key\t")) continue;
    const [key, type] = line.split("\t");
    keys.set(key, type);
  }
  return keys;
}

/** Top-level keys of istiod's built-in mesh config, over which the chart merges `meshConfig`. */
function builtInMeshKeys(): Set<string> {
  const text = contract("istio/istiod-1.30.3-configmap.gotmpl");
  expect(text).toContain("mergeOverwrite $originalMesh .Values.meshConfig");
  const define = text.slice(text.indexOf('{{- define "mesh" }}'), text.indexOf("\n{{- end }}"));
  return new Set([...define.matchAll(/^ {4}([A-Za-z]+):/gm)].map((m) => m[1]));
}

const escapeKey = (k: string) => k.replace(/\./g, "\\.");

/**
 * Leaf key paths of a values object (arrays and empty maps are leaves), keys with dots escaped as
 * the TSVs do.
 */
function leaves(v: unknown, prefix = ""): [string, unknown][] {
  if (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    (Object.keys(v).length > 0 || prefix === "")
  ) {
    return Object.entries(v).flatMap(([k, x]) =>
      leaves(x, prefix ? `${prefix}.${escapeKey(k)}` : escapeKey(k)),
    );
  }
  return [[prefix, v]];
}

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === "string",
  boolean: (v) => typeof v === "boolean",
  integer: (v) => Number.isInteger(v),
  array: (v) => Array.isArray(v),
  object: (v) => typeof v === "object" && v !== null,
  null: () => true,
};

/** Problems of one values object against a chart's keys (free-form maps accept any sub-key). */
function checkKeys(chart: "base" | "istiod" | "gateway", values: unknown): string[] {
  const keys = valueKeys(chart);
  const mesh = builtInMeshKeys();
  const problems: string[] = [];
  for (const [key, value] of leaves(values)) {
    const type = keys.get(key);
    if (type !== undefined) {
      if (!TYPE_OF[type](value)) problems.push(`${key}: chart type ${type}, got ${typeof value}`);
      continue;
    }
    const parts = key.split(".");
    const openParent = parts
      .map((_, i) => parts.slice(0, i).join("."))
      .find((p) => keys.get(p) === "object");
    if (openParent) continue;
    if (chart === "istiod" && parts[0] === "meshConfig" && mesh.has(parts[1])) continue;
    problems.push(`${key}: not a values key of ${chart} 1.30.3`);
  }
  return problems;
}

describe("values against the pinned charts (test/contracts/istio)", () => {
  const gw = { namespace: "istio-ingress", name: "istio-ingressgateway" };
  it.each([undefined, "canary"])("revision %s: every key exists with its type", (revision) => {
    expect(checkKeys("istiod", istiodValues({ trustDomain: "t.example.com", revision }))).toEqual(
      [],
    );
    expect(checkKeys("base", baseValues())).toEqual([]);
    expect(checkKeys("gateway", gatewayValues({ gateway: gw, revision }))).toEqual([]);
  });

  it("meshConfig.trustDomain is a key of istiod's built-in mesh (default cluster.local)", () => {
    expect([...builtInMeshKeys()].sort()).toEqual([
      "defaultConfig",
      "defaultProviders",
      "rootNamespace",
      "trustDomain",
    ]);
    expect(contract("istio/istiod-1.30.3-configmap.gotmpl")).toContain(
      'trustDomain: "cluster.local"',
    );
  });

  it("the key check catches a misspelt key and a wrong type", () => {
    expect(
      checkKeys("istiod", {
        meshConfig: { trustdomain: "x" },
        sidecarInjectorWebhook: { defaultTemplates: "sidecar" },
        pilot: { env: {} },
      }),
    ).toEqual([
      "meshConfig.trustdomain: not a values key of istiod 1.30.3",
      "sidecarInjectorWebhook.defaultTemplates: chart type array, got string",
      "pilot.env: not a values key of istiod 1.30.3",
    ]);
    expect(checkKeys("gateway", { podAnnotation: { a: "b" } })).toEqual([
      "podAnnotation.a: not a values key of gateway 1.30.3",
    ]);
  });

  it("the gateway values pass the chart's values.schema.json (unknown top-level keys fail)", () => {
    const schema = JSON.parse(contract("istio/gateway-1.30.3-values.schema.json"));
    delete schema.$schema;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    for (const revision of [undefined, "canary"]) {
      const ok = validate(gatewayValues({ gateway: gw, revision }));
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
    expect(validate({ ...gatewayValues({ gateway: gw }), podAnotations: {} })).toBe(false);
    expect(validate({ podAnnotations: { "inject.istio.io/templates": ["gateway"] } })).toBe(false);
  });

  it("istiod's values: SPIRE's trust domain, the spire template, default templates", () => {
    expect(istiodValues({ trustDomain: "t.example.com", revision: "canary" })).toEqual({
      revision: "canary",
      meshConfig: { trustDomain: "t.example.com" },
      sidecarInjectorWebhook: {
        templates: { spire: spireInjectionTemplate() },
        defaultTemplates: ["sidecar", "spire"],
      },
    });
    expect(gatewayValues({ gateway: gw })).toEqual({
      name: "istio-ingressgateway",
      podAnnotations: { "inject.istio.io/templates": "gateway,spire" },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The injection template against Istio's own templates

describe("the spire injection template", () => {
  it("gives the workload-socket volume the SPIFFE CSI driver, read-only, and nothing else", () => {
    expect(parse(spireInjectionTemplate())).toEqual({
      spec: {
        volumes: [{ name: "workload-socket", csi: { driver: "csi.spiffe.io", readOnly: true } }],
      },
    });
    expect(spireInjectionTemplate()).not.toContain("{{");
    expect(spireTemplateProblems(spireInjectionTemplate())).toEqual([]);
  });

  it.each([
    ["sidecar", "istiod-1.30.3-injection-template.gotmpl"],
    ["gateway", "istiod-1.30.3-gateway-injection-template.gotmpl"],
  ])(
    "Istio's %s template mounts workload-socket where istio-agent looks and leaves its source open",
    (_name, file) => {
      const text = contract(`istio/${file}`);
      // istio-proxy mounts the volume at the agent's socket directory ...
      expect(text).toMatch(
        new RegExp(`- name: workload-socket\\n\\s+mountPath: ${WORKLOAD_SOCKET_DIR}\\n`),
      );
      // ... and declares it with a null emptyDir, which a later template's csi replaces
      // (an `emptyDir: {}` here, as in 1.26, would leave both sources on the volume).
      expect(text).toMatch(/- emptyDir:\n\s+name: workload-socket\n/);
      expect(text).not.toMatch(/- emptyDir: \{\}\n\s+name: workload-socket\n/);
    },
  );
});
