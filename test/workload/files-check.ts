/**
 * What the workload-files tests share: the spiffe-helper v0.11.0 key contract and an HCL
 * parser as the helper reads it, and a consistency check of one workload's planned files. The
 * check derives what must hold from the planned resources themselves: every audience a relying
 * party checks (Vault role, Entra credential, GCP provider, OpenZiti signer) is requested by the
 * helper with exactly that string, and every path an output, a file or the environment names is
 * written by the helper or mounted from the ConfigMap there.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { expect } from "vitest";
import type { PodPatch } from "../../components/workload/pod-patch";
import { CSI_DRIVER } from "../../components/workload/index";
import type { ProgramRun } from "../../tools/harness";
import { chartDefaults, ROOT } from "../helpers";

/** `require` from this folder (the compiled component, hcl-parser, @pulumi/pulumi). */
export const load = createRequire(__filename);
const hcl = load("hcl-parser") as { parse(text: string): [unknown, unknown] };
/** The component from bin/, like the program the harness runs (one @pulumi/pulumi instance). */
export const { WorkloadFiles } = load(
  path.join(ROOT, "bin", "components", "workload", "component.js"),
) as typeof import("../../components/workload/component");

const CONTRACTS = path.join(__dirname, "..", "contracts");
const HELPER_KEYS = JSON.parse(
  readFileSync(path.join(CONTRACTS, "spiffe-helper", "config-keys-v0.11.0.json"), "utf8"),
) as {
  keys: Record<string, string>;
  jwt_svids: Record<string, string>;
  health_checks: Record<string, string>;
  required: { jwt_svids: string[]; x509: string[] };
};
/** The spire chart's defaults (test/contracts/spire). */
const CHART = chartDefaults();
/** The spire chart's default for `key` (fails when the chart has no such key). */
export const chart = (key: string): string => {
  const v = CHART.get(key);
  if (v === undefined) throw new Error(`the chart has no key ${key}`);
  return v;
};

/** The type token of a Kubernetes ConfigMap. */
export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
/** The type tokens of the resources whose audiences and identities the checks read. */
export const TYPES = {
  vaultRole: "vault:jwt/authBackendRole:AuthBackendRole",
  fic: "azure-native:managedidentity:FederatedIdentityCredential",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  gcpProvider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
  gcpMember: "gcp:projects/iAMMember:IAMMember",
  zitiIdentity: "pulumi-nodejs:dynamic/openziti:Identity",
  zitiSigner: "pulumi-nodejs:dynamic/openziti:ExternalJwtSigner",
};

/** Parses HCL as spiffe-helper does (HCL1); fails on a syntax error. */
export function parseHcl(text: string): Record<string, any> {
  const [value, err] = hcl.parse(text);
  if (err !== null && err !== undefined) throw new Error(`HCL: ${JSON.stringify(err)}`);
  return value as Record<string, any>;
}

const GO_TYPE: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === "string",
  bool: (v) => typeof v === "boolean",
  int: (v) => Number.isInteger(v),
  list: (v) => Array.isArray(v),
  block: (v) => Array.isArray(v) && v.length === 1 && typeof v[0] === "object",
};

/** What spiffe-helper v0.11.0's ValidateConfig (and its types) would reject, as sentences. */
export function helperConfProblems(text: string): string[] {
  const conf = parseHcl(text);
  const problems: string[] = [];
  const check = (obj: Record<string, unknown>, known: Record<string, string>, where: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const type = known[k];
      if (type === undefined) problems.push(`${where}unknown key ${k}`);
      else if (!GO_TYPE[type](v)) problems.push(`${where}${k} is not a ${type}`);
    }
  };
  check(conf, HELPER_KEYS.keys, "");
  (conf.jwt_svids ?? []).forEach((j: Record<string, unknown>, i: number) => {
    check(j, HELPER_KEYS.jwt_svids, `jwt_svids[${i}]: `);
    for (const r of HELPER_KEYS.required.jwt_svids) {
      if (!j[r]) problems.push(`jwt_svids[${i}]: ${r} is required`);
    }
  });
  for (const block of conf.health_checks ?? [])
    check(block, HELPER_KEYS.health_checks, "health_checks: ");
  const x509 = HELPER_KEYS.required.x509.filter((k) => conf[k] !== undefined).length;
  if (x509 !== 0 && x509 !== 3) problems.push("all or none of the x509 file names");
  // HCL1 keeps the last of two equal keys: a repeated key would hide a mistake.
  const keys = text.split("\n").flatMap((l) => /^([a-z_]+)\s*[={]/.exec(l)?.[1] ?? []);
  if (new Set(keys).size !== keys.length) problems.push(`a key repeats: ${keys.join(",")}`);
  return problems;
}

/** Every string in a JSON value. */
function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}

/** The absolute file paths a value names (plain or `file://`; `//host/…` is not a path). */
function pathsIn(v: unknown): string[] {
  return strings(v)
    .map((s) => (s.startsWith("file://") ? s.slice("file://".length) : s))
    .filter((s) => /^\/[^/]/.test(s));
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The planned resources of one type. */
export function resources(run: ProgramRun, type: string) {
  return run.resources.filter((r) => r.type === type);
}

/** The audiences each relying party checks for one workload, read from its planned resources. */
function checkedAudiences(run: ProgramRun, workload: string, spiffeId: string): string[] {
  const out: string[] = [];
  for (const r of resources(run, TYPES.vaultRole)) {
    if (r.rawInputs.roleName === workload) out.push(...(r.rawInputs.boundAudiences as string[]));
  }
  for (const r of resources(run, TYPES.fic)) {
    if (r.rawInputs.federatedIdentityCredentialResourceName === workload) {
      out.push(...(r.rawInputs.audiences as string[]));
    }
  }
  const gcpGrant = resources(run, TYPES.gcpMember).some((r) =>
    String(r.rawInputs.member).endsWith(`/subject/${spiffeId}`),
  );
  for (const r of resources(run, TYPES.gcpProvider)) {
    const oidc = r.rawInputs.oidc as { allowedAudiences: string[] } | undefined;
    if (gcpGrant && oidc) out.push(...oidc.allowedAudiences);
  }
  const zitiIdentity = resources(run, TYPES.zitiIdentity).some(
    (r) => (r.rawInputs.body as { name: string }).name === workload,
  );
  for (const r of resources(run, TYPES.zitiSigner)) {
    if (zitiIdentity) out.push((r.rawInputs.body as { audience: string }).audience);
  }
  return out;
}

/** One workload's files as the plan states them, checked for consistency. */
export interface Examined {
  data: Record<string, string>;
  conf: Record<string, any>;
  patch: PodPatch;
  /** Path in the workload container → "helper" or the ConfigMap key. */
  provided: Map<string, string>;
  /** Audience → path of its JWT-SVID in the workload container. */
  tokenFile: Map<string, string>;
  env: Record<string, any>;
}

/** Reads one workload's ConfigMap and pod patch and checks how they mount into each other. */
export function examine(run: ProgramRun, workload: string): Examined {
  const out = (run.outputs.workloadFiles as any)[workload];
  const cm = resources(run, CONFIG_MAP).find(
    (r) => (r.rawInputs.metadata as { name: string }).name === out.configMap,
  );
  if (!cm) throw new Error(`no ConfigMap ${out.configMap}`);
  const data = cm.rawInputs.data as Record<string, string>;
  const patch = out.podPatch as PodPatch;
  const pod = patch.spec.template.spec;
  const volume = (name: string) => pod.volumes.find((v) => v.name === name) as any;
  const helper = pod.initContainers.find((c) => c.name === "spiffe-helper")!;
  const app = pod.containers.find((c) => c.name === workload)!;
  expect(app, "the patch names the workload's container").toBeDefined();

  // The helper reads helper.conf from the ConfigMap volume.
  expect(helper.args[0]).toBe("-config");
  const confMount = helper.volumeMounts.find(
    (m) => helper.args[1] === `${m.mountPath}/helper.conf`,
  );
  expect(volume(confMount!.name).configMap.name).toBe(out.configMap);
  const conf = parseHcl(data["helper.conf"]);
  expect(helperConfProblems(data["helper.conf"])).toEqual([]);
  expect(conf.daemon_mode).toBe(true);

  // Its agent socket is the chart's socket file inside the CSI volume.
  const csiMount = helper.volumeMounts.find((m) => volume(m.name).csi !== undefined)!;
  expect(volume(csiMount.name).csi).toEqual({ driver: CSI_DRIVER, readOnly: true });
  expect(csiMount.readOnly).toBe(true);
  expect(conf.agent_address).toBe(
    `${csiMount.mountPath}/${path.posix.basename(chart("spiffe-csi-driver.agentSocketPath"))}`,
  );

  // It writes into cert_dir: an in-memory volume the workload container mounts too.
  const certMount = helper.volumeMounts.find((m) => m.mountPath === conf.cert_dir)!;
  expect(volume(certMount.name).emptyDir).toEqual({ medium: "Memory" });
  const appCertMount = app.volumeMounts.find((m) => m.name === certMount.name && !m.subPath)!;
  const provided = new Map<string, string>();
  const tokenFile = new Map<string, string>();
  const written = [
    conf.svid_file_name,
    conf.svid_key_file_name,
    conf.svid_bundle_file_name,
    conf.jwt_bundle_file_name,
  ];
  for (const file of written) provided.set(path.posix.join(appCertMount.mountPath, file), "helper");
  for (const j of conf.jwt_svids ?? []) {
    const p = path.posix.join(appCertMount.mountPath, j.jwt_svid_file_name);
    provided.set(p, "helper");
    tokenFile.set(j.jwt_audience, p);
  }
  // The ConfigMap's keys, where the workload container mounts them.
  for (const m of app.volumeMounts) {
    const cmName = volume(m.name).configMap?.name;
    if (cmName === undefined) continue;
    expect(cmName).toBe(out.configMap);
    expect(m.readOnly).toBe(true);
    if (m.subPath !== undefined) {
      expect(Object.keys(data)).toContain(m.subPath);
      provided.set(m.mountPath, m.subPath);
    } else {
      for (const key of Object.keys(data)) provided.set(`${m.mountPath}/${key}`, key);
    }
  }
  const env = Object.fromEntries(app.env.map((e) => [e.name, e.value ?? e.valueFrom]));
  return { data, conf, patch, provided, tokenFile, env };
}

/** Checks one workload: audiences, and every path named anywhere is provided. */
export function checkWorkload(run: ProgramRun, workload: string): Examined {
  const e = examine(run, workload);
  const spiffeId = (run.outputs.workloads as Record<string, string>)[workload];
  const requested = (e.conf.jwt_svids ?? []).map((j: any) => j.jwt_audience);
  expect([...requested].sort()).toEqual(checkedAudiences(run, workload, spiffeId).sort());
  const named = [
    ...pathsIn((run.outputs.federation as any)[workload]),
    ...Object.values(e.data).flatMap((text) => pathsIn(jsonOrUndefined(text))),
    ...pathsIn(Object.values(e.env).filter((v) => typeof v === "string")),
  ];
  expect(named.length).toBeGreaterThan(0);
  for (const p of named) expect([...e.provided.keys()], p).toContain(p);
  // The `files` output states where each intended file comes from, truthfully.
  const files = (run.outputs.workloadFiles as any)[workload].files as Record<string, string>;
  for (const [p, source] of Object.entries(files)) {
    expect([...e.provided.keys()]).toContain(p);
    expect(source).toBe(
      e.provided.get(p) === "helper" ? "spiffe-helper" : `configMap:${e.provided.get(p)}`,
    );
  }
  return e;
}
