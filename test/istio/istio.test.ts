/**
 * Istio on SPIRE: config rules (exact messages), every values key against the pinned charts
 * (test/contracts/istio), the injection template against Istio's own templates, the program's
 * releases, ordering and identities under mocks, and the custom resources against their schemas.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  baseValues,
  chartVersionProblem,
  gatewayValues,
  istioArgsProblems,
  istiodValues,
  meshPodMetadata,
  revisionProblem,
  spireInjectionTemplate,
  spireTemplateProblems,
  WORKLOAD_SOCKET_DIR,
  type IstioFederationArgs,
} from "../../components/federation/istio/index";
import { criticalPaths } from "../../tools/bench";
import type { PlannedResource, ProgramRun } from "../../tools/harness";
import { planStack } from "../compiled";
import { crdValidator } from "../crd";
import { meshConfig, problemsOf } from "../support/stack-fixtures";
import { all, ROOT, runRaw, runStackFile } from "../helpers";

const CONTRACTS = path.join(ROOT, "test", "contracts");
const contract = (file: string) => readFileSync(path.join(CONTRACTS, file), "utf8");

// ---------------------------------------------------------------------------------------------
// Config

const P = "spire-federation:";
const badConfigs: [string, (c: Record<string, any>) => void, string[]][] = [
  [
    "a trust-domain override that differs",
    (c) => (c.istio.trustDomain = "other.example.com"),
    [
      `${P}istio.trustDomain: must equal trustDomain "test.example.com" (it is "other.example.com"); Istio's proxies accept only peers of meshConfig.trustDomain, and SPIRE issues every SVID in test.example.com: remove istio.trustDomain or set it to test.example.com`,
    ],
  ],
  [
    "a revision with dots",
    (c) => (c.istio.revision = "1.30.3"),
    [
      `${P}istio.revision: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. 1-30-3, not 1.30.3)`,
    ],
  ],
  [
    "a revision in uppercase",
    (c) => (c.istio.revision = "Canary"),
    [
      `${P}istio.revision: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit`,
    ],
  ],
  [
    "a revision ending in a dash",
    (c) => (c.istio.revision = "canary-"),
    [
      `${P}istio.revision: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit`,
    ],
  ],
  [
    "a revision too long for istiod's Service name",
    (c) => (c.istio.revision = "r".repeat(57)),
    [
      `${P}istio.revision: must be at most 56 characters: istiod's Service is named istiod-<revision>, a DNS-1123 label`,
    ],
  ],
  [
    "the revision named default",
    (c) => (c.istio.revision = "default"),
    [
      `${P}istio.revision: default is what Istio calls the unnamed revision (istio.io/rev=default); leave revision unset for it`,
    ],
  ],
  [
    "a chart version that is not semver",
    (c) => (c.istio.chartVersion = "1.30"),
    [
      `${P}istio.chartVersion: must be a semantic version such as 1.30.3 (Istio's chart versions are its release versions)`,
    ],
  ],
  [
    "a chart version with a leading v",
    (c) => (c.istio.chartVersion = "v1.30.3"),
    [
      `${P}istio.chartVersion: must be a semantic version such as 1.30.3, without the leading v (Istio's chart versions are its release versions)`,
    ],
  ],
  [
    "a chart version older than the fixed gateway template",
    (c) => (c.istio.chartVersion = "1.26.4"),
    [
      `${P}istio.chartVersion: must be 1.27.0 or later: older gateway injection templates keep the workload-socket emptyDir beside the spire template's CSI volume, which Kubernetes rejects (istio/istio#56217)`,
    ],
  ],
  [
    "a chart version without install",
    (c) => Object.assign(c.istio, { install: false, chartVersion: "1.30.3" }),
    [
      `${P}istio.chartVersion: is only used with install: true; remove it or install Istio with this stack`,
    ],
  ],
  [
    "ingressGateway neither boolean nor object",
    (c) => (c.istio.ingressGateway = "yes"),
    [`${P}istio.ingressGateway: must be true, false or { namespace?, name?, serviceType? }`],
  ],
  [
    "an ingress gateway namespace that is no DNS label",
    (c) => (c.istio.ingressGateway = { namespace: "Istio_Ingress" }),
    [`${P}istio.ingressGateway.namespace: must be a DNS-1123 label`],
  ],
  [
    "an unknown mTLS mode",
    (c) => (c.istio.mtls = "strict"),
    [`${P}istio.mtls: must be STRICT or PERMISSIVE`],
  ],
  ["an unknown key", (c) => (c.istio.gateway = true), [`${P}istio.gateway: unknown key`]],
  [
    "install not a boolean",
    (c) => (c.istio.install = "yes"),
    [`${P}istio.install: must be true or false`],
  ],
  [
    "a mesh workload with a custom SPIFFE ID path",
    (c) => (c.workloads[1].spiffeIdPath = "/shop/worker"),
    [
      `${P}workloads[1].spiffeIdPath: must be unset or /ns/shop/sa/worker for a mesh workload: Istio accepts only SPIFFE IDs of the form /ns/<namespace>/sa/<service account>`,
    ],
  ],
  [
    "workloads in the gateway's namespace, in the mesh or not",
    (c) => {
      c.istio.ingressGateway = { namespace: "shop" };
      delete c.workloads[1].istio;
    },
    [
      `${P}workloads[0].namespace: shop is the ingress gateway's namespace; give the workload its own, so that no ClusterSPIFFEID but the gateway's selects the gateway's pods`,
      `${P}workloads[1].namespace: shop is the ingress gateway's namespace; give the workload its own, so that no ClusterSPIFFEID but the gateway's selects the gateway's pods`,
    ],
  ],
  [
    "a grant with an unknown key",
    (c) => (c.workloads[0].istio = { inject: true }),
    [`${P}workloads[0].istio.inject: unknown key`],
  ],
  [
    "a grant without the istio block",
    (c) => delete c.istio,
    [
      `${P}workloads[0].istio: needs the spire-federation:istio block`,
      `${P}workloads[1].istio: needs the spire-federation:istio block`,
    ],
  ],
];

describe("istio config", () => {
  it.each(badConfigs)("%s", (_name, mutate, expected) => {
    const c = meshConfig();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("defaults: install, the pinned chart, no gateway, no revision, no PeerAuthentication", () => {
    const m = parseStackConfig(meshConfig());
    expect(m.istio).toEqual({
      install: true,
      chartVersion: "1.30.3",
      revision: undefined,
      ingressGateway: undefined,
      mtls: undefined,
    });
    expect(m.workloads.map((w) => w.istio)).toEqual([{ mesh: true }, { mesh: true }]);
  });

  it.each([
    [true, { namespace: "istio-ingress", name: "istio-ingressgateway" }],
    [false, undefined],
    [{ name: "edge" }, { namespace: "istio-ingress", name: "edge" }],
    [
      { namespace: "edge", name: "gw" },
      { namespace: "edge", name: "gw" },
    ],
  ])("ingressGateway %j → %j", (ingressGateway, expected) => {
    expect(parseStackConfig(meshConfig({ ingressGateway })).istio?.ingressGateway).toEqual(
      expected,
    );
  });

  it("accepts an equal trust-domain override, a prerelease chart, a revision, mesh: false with a custom path", () => {
    const c = meshConfig({
      trustDomain: "test.example.com",
      chartVersion: "1.31.0-rc.0",
      revision: "1-31",
      mtls: "PERMISSIVE",
    });
    c.workloads[1] = { ...c.workloads[1], istio: { mesh: false }, spiffeIdPath: "/w" };
    const m = parseStackConfig(c);
    expect(m.istio).toMatchObject({ chartVersion: "1.31.0-rc.0", revision: "1-31" });
    expect(m.workloads[1].istio).toEqual({ mesh: false });
  });

  it("an explicit /ns/<ns>/sa/<sa> path is a mesh path", () => {
    const c = meshConfig();
    c.workloads[1].spiffeIdPath = "/ns/shop/sa/worker";
    expect(parseStackConfig(c).workloads[1].spiffeId).toBe(
      "spiffe://test.example.com/ns/shop/sa/worker",
    );
  });

  it.each([
    ["1.27.0", undefined],
    ["1.30.3+build.7", undefined],
    ["2.0.0", undefined],
    ["1.26.99", "must be 1.27.0 or later"],
    ["01.30.3", "must be a semantic version"],
    ["1.30.3-", "must be a semantic version"],
    ["latest", "must be a semantic version"],
  ])("chart version %s", (v, problem) => {
    const p = chartVersionProblem(v);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(new RegExp(`^${problem}`));
  });

  it.each([
    ["canary", undefined],
    ["1-30-3", undefined],
    ["a".repeat(56), undefined],
    ["-canary", "must be a DNS-1123 label"],
    ["", "must be a DNS-1123 label"],
  ])("revision %j", (rev, problem) => {
    const p = revisionProblem(rev);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(new RegExp(`^${problem}`));
  });
});

describe("IstioFederation args", () => {
  const args = (over: Partial<IstioFederationArgs> = {}): IstioFederationArgs => ({
    trustDomain: "t.example.com",
    className: "c",
    install: true,
    chartVersion: "1.30.3",
    grants: [
      {
        workload: "api",
        namespace: "shop",
        serviceAccount: "api",
        spiffeId: "spiffe://t.example.com/ns/shop/sa/api",
      },
    ],
    waitFor: [],
    ...over,
  });
  it("refuses what the config would have refused", () => {
    expect(istioArgsProblems(args())).toEqual([]);
    expect(
      istioArgsProblems(
        args({
          chartVersion: "v1",
          revision: "A",
          ingressGateway: { namespace: "shop", name: "gw" },
          grants: [
            {
              workload: "api",
              namespace: "shop",
              serviceAccount: "api",
              spiffeId: "spiffe://t.example.com/api",
            },
          ],
        }),
      ),
    ).toEqual([
      `chart version "v1" must be a semantic version such as 1.30.3, without the leading v (Istio's chart versions are its release versions)`,
      `revision "A" must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit`,
      "SPIFFE ID of api is spiffe://t.example.com/api; Istio requires spiffe://t.example.com/ns/shop/sa/api",
      "api is in the ingress gateway's namespace shop",
    ]);
    expect(istioArgsProblems(args({ trustDomain: "spiffe://t" }))).toHaveLength(1);
  });
});

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

// ---------------------------------------------------------------------------------------------
// The program under mocks

const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";

function byName(run: ProgramRun, name: string): PlannedResource {
  const r = run.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
}

describe("mesh stack", () => {
  let run: ProgramRun;
  const TD = "mesh.spiffe.example.com";
  beforeAll(async () => {
    run = await runStackFile("mesh");
  });

  it("installs base, istiod and the gateway from Istio's repository, pinned", () => {
    const common = {
      version: "1.30.3",
      repositoryOpts: { repo: ISTIO_REPO },
      createNamespace: true,
    };
    expect(byName(run, "spire-federation-istio-base").rawInputs).toMatchObject({
      ...common,
      name: "istio-base",
      chart: "base",
      namespace: "istio-system",
      values: {},
    });
    expect(byName(run, "spire-federation-istio-istiod").rawInputs).toMatchObject({
      ...common,
      name: "istiod",
      chart: "istiod",
      namespace: "istio-system",
      values: istiodValues({ trustDomain: TD }),
    });
    expect(byName(run, "spire-federation-istio-gateway").rawInputs).toMatchObject({
      ...common,
      name: "istio-ingressgateway",
      chart: "gateway",
      namespace: "istio-ingress",
      values: {
        name: "istio-ingressgateway",
        podAnnotations: { "inject.istio.io/templates": "gateway,spire" },
      },
    });
  });

  it("orders Istio after SPIRE, istiod after base, the gateway after istiod and its identity", () => {
    const urn = (n: string) => byName(run, `spire-federation-${n}`).urn;
    const deps = (n: string) => [...byName(run, `spire-federation-${n}`).dependencies].sort();
    expect(deps("istio-base")).toEqual([urn("spire-release")]);
    expect(deps("istio-istiod")).toEqual([urn("spire-release"), urn("istio-base")].sort());
    expect(deps("istio-gateway-id")).toEqual([urn("spire-release")]);
    expect(deps("istio-gateway")).toEqual(
      [urn("spire-release"), urn("istio-istiod"), urn("istio-gateway-id")].sort(),
    );
    expect(deps("istio-mtls")).toEqual([urn("istio-istiod")]);
    expect(byName(run, "spire-federation-istio").type).toBe("spire-federation:federation:Istio");
  });

  it("the gateway's ClusterSPIFFEID: exactly its pods, the Istio form, the controller's class", () => {
    const id = byName(run, "spire-federation-istio-gateway-id");
    expect(id.rawInputs).toEqual({
      apiVersion: "spire.spiffe.io/v1alpha1",
      kind: "ClusterSPIFFEID",
      metadata: { name: "spire-federation.istio.istio-ingress.istio-ingressgateway" },
      spec: {
        className: "spire-federation",
        hint: "istio-ingressgateway",
        spiffeIDTemplate: `spiffe://${TD}/ns/istio-ingress/sa/istio-ingressgateway`,
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-ingress" } },
        podSelector: { matchLabels: { app: "istio-ingressgateway", istio: "ingressgateway" } },
        workloadSelectorTemplates: ["k8s:ns:istio-ingress", "k8s:sa:istio-ingressgateway"],
      },
    });
  });

  it("every ClusterSPIFFEID of the stack satisfies the CRD", () => {
    const validate = crdValidator("spire/spire-crds-0.6.0-clusterspiffeids.yaml", "v1alpha1");
    const ids = all(run, "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID");
    expect(ids.map((r) => r.name)).toContain("spire-federation-istio-gateway-id");
    for (const r of ids) {
      const ok = validate(r.rawInputs);
      expect(validate.errors ?? [], r.name).toEqual([]);
      expect(ok).toBe(true);
    }
    const gatewayId = byName(run, "spire-federation-istio-gateway-id").rawInputs as any;
    expect(validate({ ...gatewayId, spec: { ...gatewayId.spec, workloadSelectors: [] } })).toBe(
      false,
    );
  });

  it("the mesh-wide PeerAuthentication is STRICT and valid for Istio's CRD", () => {
    const pa = byName(run, "spire-federation-istio-mtls");
    expect(pa.type).toBe("kubernetes:security.istio.io/v1:PeerAuthentication");
    expect(pa.rawInputs).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system" },
      spec: { mtls: { mode: "STRICT" } },
    });
    const model = new PeerAuthentication(pa.rawInputs as any);
    expect(() => model.validate()).not.toThrow();
    const bad = new PeerAuthentication({
      ...(pa.rawInputs as any),
      spec: { mtls: { mode: "ON" } },
    });
    expect(() => bad.validate()).toThrow(/mode/);
  });

  it("outputs each mesh workload's pod annotations and labels, none for the others", () => {
    const federation = run.outputs.federation as Record<string, Record<string, unknown>>;
    for (const w of ["storefront", "cart", "payments"]) {
      expect(federation[w].istio).toEqual({
        podAnnotations: { "inject.istio.io/templates": "sidecar,spire" },
        podLabels: { "sidecar.istio.io/inject": "true" },
      });
    }
    expect(federation["nightly-report"]).toEqual({});
    expect(run.outputs.istioValues).toBeUndefined();
  });

  it("the deploy's critical path has no unneeded edge", async () => {
    const p = criticalPaths(await planStack("mesh"));
    expect(p.unjustifiedEdges).toEqual([]);
    // SPIRE, then base → istiod, then the gateway (or the PeerAuthentication, as long)
    expect(p.longest.slice(-4, -1)).toEqual([
      "spire-federation-spire-release",
      "spire-federation-istio-base",
      "spire-federation-istio-istiod",
    ]);
    expect(["spire-federation-istio-gateway", "spire-federation-istio-mtls"]).toContain(
      p.longest[p.longest.length - 1],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Identities: which ClusterSPIFFEID gives each pod its SVID

type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};

/** Kubernetes label-selector semantics (an absent selector selects everything). */
function matches(sel: Selector | undefined, labels: Record<string, string>): boolean {
  if (sel === undefined) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok =
      e.operator === "In"
        ? has && (e.values ?? []).includes(labels[e.key])
        : e.operator === "NotIn"
          ? !has || !(e.values ?? []).includes(labels[e.key])
          : e.operator === "Exists"
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

interface Pod {
  what: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
}

/** The chart's default ClusterSPIFFEID: a fallback for every namespace but SPIRE's own. */
const CHART_DEFAULT = {
  spiffeIDTemplate:
    "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
  namespaceSelector: {
    matchExpressions: [
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["spire-mgmt", "spire-server", "spire-system"],
      },
    ],
  },
};

function render(template: string, td: string, pod: Pod): string {
  return template
    .replace("{{ .TrustDomain }}", td)
    .replace("{{ .PodMeta.Namespace }}", pod.namespace)
    .replace("{{ .PodSpec.ServiceAccountName }}", pod.serviceAccount);
}

/** For each pod: the non-fallback ClusterSPIFFEIDs that select it, and the SPIFFE ID it gets. */
function identities(run: ProgramRun, td: string, pods: Pod[]) {
  const ids = all(run, "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID").map(
    (r) => [r.name, (r.rawInputs as any).spec] as const,
  );
  return pods.map((pod) => {
    const nsLabels = { "kubernetes.io/metadata.name": pod.namespace };
    const selecting = ids.filter(
      ([, spec]) =>
        matches(spec.namespaceSelector, nsLabels) && matches(spec.podSelector, pod.labels),
    );
    const attestable = selecting.every(([, spec]) =>
      (spec.workloadSelectorTemplates ?? []).every(
        (s: string) =>
          s === `k8s:ns:${pod.namespace}` ||
          s === `k8s:sa:${pod.serviceAccount}` ||
          !/^k8s:(ns|sa):/.test(s),
      ),
    );
    const spec =
      selecting.length > 0
        ? selecting[0][1]
        : matches(CHART_DEFAULT.namespaceSelector, nsLabels)
          ? CHART_DEFAULT
          : undefined;
    return {
      pod: pod.what,
      selectedBy: selecting.map(([name]) => name),
      attestable,
      spiffeId: spec && render(spec.spiffeIDTemplate, td, pod),
    };
  });
}

describe("mesh identities", () => {
  it("every pod is selected by at most one ClusterSPIFFEID and mesh pods get the Istio form", async () => {
    const run = await runStackFile("mesh");
    const td = "mesh.spiffe.example.com";
    const meta = meshPodMetadata();
    const mesh = (what: string, namespace: string, sa: string, labels: Record<string, string>) => ({
      what,
      namespace,
      serviceAccount: sa,
      labels: { ...labels, ...meta.podLabels },
    });
    const pods: Pod[] = [
      mesh("storefront", "shop", "storefront", { app: "storefront" }),
      mesh("cart", "shop", "cart", { app: "cart" }),
      mesh("payments", "payments", "payments", {}),
      {
        what: "nightly-report",
        namespace: "reports",
        serviceAccount: "reporter",
        labels: { app: "nightly-report" },
      },
      {
        what: "gateway",
        namespace: "istio-ingress",
        serviceAccount: "istio-ingressgateway",
        labels: {
          app: "istio-ingressgateway",
          istio: "ingressgateway",
          "sidecar.istio.io/inject": "true",
        },
      },
      // a pod nobody listed, injected in a mesh namespace: the chart's fallback
      mesh("unlisted", "shop", "other", { app: "other" }),
    ];
    const got = identities(run, td, pods);
    for (const g of got) {
      expect(g.selectedBy.length, `${g.pod}: ${g.selectedBy.join(", ")}`).toBeLessThanOrEqual(1);
      expect(g.attestable, g.pod).toBe(true);
    }
    const idOf = (p: string) => got.find((g) => g.pod === p)?.spiffeId;
    expect(idOf("storefront")).toBe(`spiffe://${td}/ns/shop/sa/storefront`);
    expect(idOf("cart")).toBe(`spiffe://${td}/ns/shop/sa/cart`);
    expect(idOf("payments")).toBe(`spiffe://${td}/ns/payments/sa/payments`);
    expect(idOf("unlisted")).toBe(`spiffe://${td}/ns/shop/sa/other`);
    expect(idOf("nightly-report")).toBe(`spiffe://${td}/batch/nightly-report`);
    const gateway = got.find((g) => g.pod === "gateway");
    expect(gateway).toEqual({
      pod: "gateway",
      selectedBy: ["spire-federation-istio-gateway-id"],
      attestable: true,
      spiffeId: `spiffe://${td}/ns/istio-ingress/sa/istio-ingressgateway`,
    });
  });

  it("the selection model sees two ClusterSPIFFEIDs on one pod", () => {
    const fake = {
      resources: ["a", "b"].map((name) => ({
        name,
        type: "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID",
        rawInputs: { spec: { spiffeIDTemplate: `spiffe://t/${name}`, podSelector: {} } },
      })),
      outputs: {},
    } as unknown as ProgramRun;
    const [g] = identities(fake, "t", [
      { what: "p", namespace: "n", serviceAccount: "s", labels: {} },
    ]);
    expect(g.selectedBy).toEqual(["a", "b"]);
  });
});

describe("other shapes", () => {
  it("without install: no release, the values to merge as an output, the gateway's identity still", async () => {
    const c = meshConfig({ install: false, ingressGateway: { name: "edge" }, mtls: "STRICT" });
    const run = await runRaw(c);
    const releases = all(run, "kubernetes:helm.sh/v3:Release").map((r) => r.name);
    expect(releases.filter((n) => n.includes("istio"))).toEqual([]);
    expect(run.outputs.istioValues).toEqual({
      istiod: istiodValues({ trustDomain: "test.example.com" }),
      gateway: gatewayValues({ gateway: { namespace: "istio-ingress", name: "edge" } }),
    });
    const id = byName(run, "spire-federation-istio-gateway-id");
    expect((id.rawInputs as any).spec.spiffeIDTemplate).toBe(
      "spiffe://test.example.com/ns/istio-ingress/sa/edge",
    );
    expect(id.dependencies).toEqual([byName(run, "spire-federation-spire-release").urn]);
    expect(byName(run, "spire-federation-istio-mtls").dependencies).toEqual([]);
  });

  it("a revision names istiod, labels the gateway and the workloads' pods", async () => {
    const run = await runRaw(meshConfig({ revision: "canary", ingressGateway: true }));
    expect(byName(run, "spire-federation-istio-istiod").rawInputs).toMatchObject({
      name: "istiod-canary",
      values: { revision: "canary" },
    });
    expect(byName(run, "spire-federation-istio-gateway").rawInputs).toMatchObject({
      values: { revision: "canary" },
    });
    const federation = run.outputs.federation as Record<string, any>;
    expect(federation.api.istio.podLabels).toEqual({
      "sidecar.istio.io/inject": "true",
      "istio.io/rev": "canary",
    });
  });

  it("no gateway, no mtls: base and istiod only; mesh: false gets no login", async () => {
    const c = meshConfig();
    c.workloads[1].istio = { mesh: false };
    const run = await runRaw(c);
    expect(
      run.resources.filter((r) => r.name.startsWith("spire-federation-istio-")).map((r) => r.name),
    ).toEqual(["spire-federation-istio-base", "spire-federation-istio-istiod"]);
    const federation = run.outputs.federation as Record<string, any>;
    expect(Object.keys(federation.api)).toEqual(["istio"]);
    expect(federation.worker).toEqual({});
  });
});
