/**
 * Every values key this package sets must exist in the pinned spire chart (Helm ignores unknown
 * keys silently), with the chart's type; every object emitted must satisfy its CRD's schema.
 */
import { ClusterIssuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, type StackModel } from "../components/config";
import {
  clusterSpiffeIdSpec,
  DEFAULT_SPIFFE_ID_TEMPLATE,
  spireValues,
  type SpireValuesArgs,
} from "../components/spire";
import { spireValuesArgs } from "../components/stack";
import { loadStackConfig } from "../tools/stack-config";
import { all, chartDefaults, chartValueKeys, find, ROOT, runStackFile } from "./helpers";
import { crdValidator } from "./crd";

function modelOf(stack: string): StackModel {
  const { config, secretKeys } = loadStackConfig(ROOT, stack);
  const raw = Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("spire-federation:"))
      .map(([k, v]) => [
        k.slice("spire-federation:".length),
        v.startsWith("{") || v.startsWith("[") ? JSON.parse(v) : v,
      ]),
  );
  return parseStackConfig(raw, {
    secretKeys: new Set(secretKeys.map((k) => k.split(":")[1])),
    azureSubscriptionId: config["azure-native:subscriptionId"],
  });
}

const ENTRY = "kubernetes:spire.spiffe.io/v1alpha1:ClusterStaticEntry";

function valuesArgs(m: StackModel): SpireValuesArgs {
  return spireValuesArgs(m, "root");
}

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  str: (v) => typeof v === "string" || pulumi.Output.isInstance(v),
  bool: (v) => typeof v === "boolean",
  int: (v) => Number.isInteger(v),
  list: (v) => Array.isArray(v),
  map: (v) => typeof v === "object" && v !== null,
  NoneType: () => true,
};

/** Leaf key paths of a values object (arrays and Outputs are leaves), with their values. */
function leaves(v: unknown, prefix = ""): [string, unknown][] {
  if (typeof v === "object" && v !== null && !Array.isArray(v) && !pulumi.Output.isInstance(v)) {
    return Object.entries(v).flatMap(([k, x]) => leaves(x, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, v]];
}

/** Problems of one values object against the chart's key list. */
function checkKeys(values: Record<string, unknown>): string[] {
  const chart = chartValueKeys();
  const problems: string[] = [];
  for (const [key, value] of leaves(values)) {
    const type = chart.get(key);
    if (type === undefined) {
      const parts = key.split(".");
      const mapParent = parts
        .map((_, i) => parts.slice(0, i).join("."))
        .find((p) => chart.get(p) === "map");
      if (!mapParent) problems.push(`${key}: not a values key of spire 0.30.0`);
      continue;
    }
    // cert-manager's ACME solvers are a list; the chart declares the default as {} and
    // mergeOverwrites it onto its own list (values.yaml shows the list form).
    const ok = key.endsWith("acme.solvers") ? Array.isArray(value) : TYPE_OF[type]?.(value);
    if (!ok) problems.push(`${key}: chart type ${type}, got ${JSON.stringify(value)}`);
  }
  return problems;
}

describe("spire chart values", () => {
  const variants: [string, () => SpireValuesArgs][] = [
    ["dev stack", () => valuesArgs(modelOf("dev"))],
    ["prod stack", () => valuesArgs(modelOf("prod"))],
    ["edge stack (nodes, the server behind an ingress)", () => valuesArgs(modelOf("edge"))],
    [
      "the server behind a LoadBalancer",
      () => ({
        ...valuesArgs(modelOf("edge")),
        nodes: {
          hostnames: ["vm.example.com"],
          exposure: { mode: "loadBalancer", address: "spire.example.com" },
        },
      }),
    ],
    [
      "ingress TLS from a Secret",
      () => ({
        ...valuesArgs(modelOf("dev")),
        oidc: { ...modelOf("dev").oidc, tls: { kind: "secret", secretName: "oidc-tls" } },
      }),
    ],
    [
      "SPIRE's own TLS",
      () => ({
        ...valuesArgs(modelOf("dev")),
        oidc: { ...modelOf("dev").oidc, tls: { kind: "spire" } },
      }),
    ],
  ];

  it.each(variants)("%s: every key exists in the chart with its type", (_n, args) => {
    expect(checkKeys(spireValues(args()))).toEqual([]);
  });

  it("the chart's default ClusterSPIFFEID is on, a fallback, with the template we pin", () => {
    const chart = chartDefaults();
    const id = "spire-server.controllerManager.identities.clusterSPIFFEIDs.default";
    // The chart's own defaults (pinned 0.30.0): enabled, fallback, /ns/<ns>/sa/<sa>.
    expect(chart.get(`${id}.enabled`)).toBe("True");
    expect(chart.get(`${id}.fallback`)).toBe("True");
    const template = chart.get(`${id}.spiffeIDTemplate`)!;
    expect(template.endsWith("...")).toBe(true);
    expect(DEFAULT_SPIFFE_ID_TEMPLATE.startsWith(template.slice(0, -3))).toBe(true);
    // Its className is controllerManager.className (controller-manager-cluster-ids.yaml).
    expect(chart.get("spire-server.controllerManager.className")).toBe("");
    // Our values set all three explicitly, and our class.
    for (const stack of ["dev", "prod"]) {
      const v = spireValues(valuesArgs(modelOf(stack))) as any;
      expect(v["spire-server"].controllerManager).toEqual({
        enabled: true,
        className: "spire-federation",
        identities: {
          clusterSPIFFEIDs: {
            default: {
              enabled: true,
              fallback: true,
              spiffeIDTemplate:
                "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
            },
          },
        },
      });
    }
  });

  it("the key check catches a misspelt key and a wrong type", () => {
    const values = spireValues(valuesArgs(modelOf("dev")));
    (values["spire-server"] as Record<string, unknown>).caTtl = "24h";
    (values["spire-server"] as Record<string, unknown>).replicaCount = "3";
    expect(checkKeys(values)).toEqual([
      'spire-server.replicaCount: chart type int, got "3"',
      "spire-server.caTtl: not a values key of spire 0.30.0",
    ]);
  });

  it("sets what the chart leaves at example values", () => {
    const v = spireValues(valuesArgs(modelOf("prod"))) as any;
    expect(v.global.spire).toMatchObject({
      trustDomain: "prod.spiffe.example.com",
      clusterName: "prod-eu-west-1",
      jwtIssuer: "https://oidc.prod.spiffe.example.com",
      caSubject: { country: "US", organization: "SPIFFE", commonName: "prod.spiffe.example.com" },
      recommendations: { enabled: true },
      strictMode: true,
    });
    expect(v["spire-server"]).toMatchObject({
      replicaCount: 3,
      caKeyType: "rsa-2048",
      caTTL: "48h",
      defaultX509SvidTTL: "1h",
      defaultJwtSvidTTL: "1h",
      upstreamAuthority: {
        certManager: { enabled: true, issuerKind: "ClusterIssuer", issuerName: "root" },
      },
      controllerManager: { className: "spire-federation" },
      dataStore: {
        sql: {
          databaseType: "postgres",
          host: "spire-db.prod.internal.example.com",
          port: 5432,
          databaseName: "spire",
          username: "spire",
        },
      },
    });
    expect(pulumi.Output.isInstance(v["spire-server"].dataStore.sql.password)).toBe(true);
    expect(v["spiffe-oidc-discovery-provider"]).toMatchObject({
      config: { setKeyUse: true },
      ingress: { enabled: true, className: "nginx", host: "oidc.prod.spiffe.example.com" },
      tls: { spire: { enabled: false }, certManager: { enabled: true } },
    });
  });

  it("the ACME issuer block the chart renders is a valid cert-manager Issuer", () => {
    const v = spireValues(valuesArgs(modelOf("dev"))) as any;
    const acme = v["spiffe-oidc-discovery-provider"].tls.certManager.issuer.acme;
    const issuer = new Issuer({
      metadata: { name: "spire-spiffe-oidc-discovery-provider", namespace: "spire-server" },
      spec: {
        acme: {
          ...acme,
          privateKeySecretRef: { name: "spire-spiffe-oidc-discovery-provider-issuer" },
        },
      },
    });
    expect(() => issuer.validate()).not.toThrow();
    expect(acme.server).toBe("https://acme-v02.api.letsencrypt.org/directory");
    const broken = new Issuer({
      ...(issuer.toJSON() as object),
      spec: { acme: { ...acme, solvers: [{ http01: { ingress: { ingressClassName: 42 } } }] } },
    });
    expect(() => broken.validate()).toThrow();
  });
});

describe("emitted objects against their schemas", () => {
  const validate = crdValidator("spire/spire-crds-0.6.0-clusterspiffeids.yaml", "v1alpha1");

  it("every ClusterSPIFFEID of both stacks satisfies the CRD", async () => {
    for (const stack of ["dev", "prod"]) {
      const run = await runStackFile(stack);
      const ids = all(run, "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID");
      // only prod's batch-reports has a custom path; the others have the chart's default ID
      expect(ids.length).toBe(stack === "dev" ? 0 : 1);
      for (const r of ids) {
        const ok = validate(r.rawInputs);
        expect(validate.errors ?? [], `${r.name}`).toEqual([]);
        expect(ok).toBe(true);
      }
    }
  });

  it("every ClusterStaticEntry of the edge stack (node workloads) satisfies the CRD", async () => {
    const validateEntry = crdValidator(
      "spire/spire-crds-0.6.0-clusterstaticentries.yaml",
      "v1alpha1",
    );
    const entries = all(await runStackFile("edge"), ENTRY);
    expect(entries.length).toBe(3);
    for (const r of entries) {
      const ok = validateEntry(r.rawInputs);
      expect(validateEntry.errors ?? [], `${r.name}`).toEqual([]);
      expect(ok).toBe(true);
    }
    // The check can fail: a misspelt field, a missing parent.
    const { parentID, ...spec } = entries[0].rawInputs.spec as Record<string, unknown>;
    expect(validateEntry({ ...entries[0].rawInputs, spec: { ...spec, parentId: parentID } })).toBe(
      false,
    );
    expect(validateEntry({ ...entries[0].rawInputs, spec })).toBe(false);
  });

  it("the CRD check rejects a misspelt field", () => {
    const spec = clusterSpiffeIdSpec(
      {
        name: "a",
        namespace: "n",
        serviceAccount: "s",
        spiffeId: "spiffe://t.example.com/a",
        podLabels: {},
      },
      "c",
    );
    expect(
      validate({
        apiVersion: "spire.spiffe.io/v1alpha1",
        kind: "ClusterSPIFFEID",
        metadata: {},
        spec,
      }),
    ).toBe(true);
    expect(
      validate({
        apiVersion: "spire.spiffe.io/v1alpha1",
        kind: "ClusterSPIFFEID",
        metadata: {},
        spec: { ...spec, spiffeIdTemplate: "x" },
      }),
    ).toBe(false);
  });

  it("the generated root's ClusterIssuer is a valid cert-manager ClusterIssuer", async () => {
    const run = await runStackFile("dev");
    const issuer = find(run, "kubernetes:cert-manager.io/v1:ClusterIssuer");
    const model = new ClusterIssuer(issuer.rawInputs as any);
    expect(() => model.validate()).not.toThrow();
    expect(issuer.rawInputs.spec).toEqual({ ca: { secretName: "spire-federation-root-ca" } });
  });
});
