/**
 * The workload's half: each workload's ConfigMap (spiffe-helper configuration and relying-party
 * files) and pod patch. The checks derive what must hold from the planned resources themselves:
 * every audience a relying party checks (Vault role, Entra credential, GCP provider, OpenZiti
 * signer) is requested by the helper with exactly that string, and every path an output, a file
 * or the environment names is written by the helper or mounted from the ConfigMap there.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, parseStackConfig } from "../../components/config";
import type { PodPatch } from "../../components/workload/pod-patch";
import {
  AGENT_SOCKET_PATH,
  certDirProblem,
  configChecksum,
  CSI_DRIVER,
  DEFAULT_HELPER_IMAGE,
  helperConf,
  helperImageProblem,
  workloadFilesArgsProblems,
  type WorkloadFilesArgs,
} from "../../components/workload/index";
import { loadStackConfig } from "../../tools/stack-config";
import type { ProgramRun } from "../../tools/harness";
import { prepareProgram, runProgram } from "../compiled";
import { baseConfig, makeCertificate } from "../fixtures";
import {
  chartDefaults,
  computedOutputs,
  fakeIdentity,
  ROOT,
  runRaw,
  runStackFile,
} from "../helpers";
import { mergeBlock, runProdWith } from "./prod";

const load = createRequire(__filename);
const hcl = load("hcl-parser") as { parse(text: string): [unknown, unknown] };
// The component from bin/, like the program the harness runs (one @pulumi/pulumi instance).
const { WorkloadFiles } = load(
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
const chart = (key: string): string => {
  const v = CHART.get(key);
  if (v === undefined) throw new Error(`the chart has no key ${key}`);
  return v;
};

const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const TYPES = {
  vaultRole: "vault:jwt/authBackendRole:AuthBackendRole",
  fic: "azure-native:managedidentity:FederatedIdentityCredential",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  gcpProvider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
  gcpMember: "gcp:projects/iAMMember:IAMMember",
  zitiIdentity: "pulumi-nodejs:dynamic/openziti:Identity",
  zitiSigner: "pulumi-nodejs:dynamic/openziti:ExternalJwtSigner",
};

// ---------------------------------------------------------------------------------------------
// Helpers

/** Parses HCL as spiffe-helper does (HCL1); fails on a syntax error. */
function parseHcl(text: string): Record<string, any> {
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
function helperConfProblems(text: string): string[] {
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

function resources(run: ProgramRun, type: string) {
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
interface Examined {
  data: Record<string, string>;
  conf: Record<string, any>;
  patch: PodPatch;
  /** Path in the workload container → "helper" or the ConfigMap key. */
  provided: Map<string, string>;
  /** Audience → path of its JWT-SVID in the workload container. */
  tokenFile: Map<string, string>;
  env: Record<string, any>;
}

function examine(run: ProgramRun, workload: string): Examined {
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
function checkWorkload(run: ProgramRun, workload: string): Examined {
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

// ---------------------------------------------------------------------------------------------

describe("spiffe-helper configuration", () => {
  it("uses only keys spiffe-helper v0.11.0 knows, with their types", () => {
    const text = helperConf({
      workload: "w",
      certDir: "/run/spiffe/certs",
      jwtSvids: [
        { audience: "vault", fileName: "vault.token" },
        { audience: "api://AzureADTokenExchange", fileName: "azure.token" },
      ],
    });
    expect(helperConfProblems(text)).toEqual([]);
    expect(parseHcl(text)).toEqual({
      agent_address: "/spiffe-workload-api/spire-agent.sock",
      daemon_mode: true,
      cert_dir: "/run/spiffe/certs",
      svid_file_name: "svid.pem",
      svid_key_file_name: "svid_key.pem",
      svid_bundle_file_name: "svid_bundle.pem",
      jwt_bundle_file_name: "jwt_bundle.json",
      cert_file_mode: 0o644,
      key_file_mode: 0o644,
      jwt_bundle_file_mode: 0o644,
      jwt_svid_file_mode: 0o644,
      jwt_svids: [
        { jwt_audience: "vault", jwt_svid_file_name: "vault.token" },
        { jwt_audience: "api://AzureADTokenExchange", jwt_svid_file_name: "azure.token" },
      ],
      health_checks: [
        {
          listener_enabled: true,
          bind_port: 8081,
          liveness_path: "/live",
          readiness_path: "/ready",
        },
      ],
    });
  });

  it("the checker itself catches an unknown key, a wrong type and a repeated key", () => {
    expect(helperConfProblems('cert_dir = "/x"\ncert_dirs = "/y"\n')).toEqual([
      "unknown key cert_dirs",
    ]);
    expect(helperConfProblems('daemon_mode = "yes"\n')).toEqual(["daemon_mode is not a bool"]);
    expect(helperConfProblems('jwt_svids = [{ jwt_audience = "a", file = "f" }]\n')).toEqual([
      "jwt_svids[0]: unknown key file",
      "jwt_svids[0]: jwt_svid_file_name is required",
    ]);
    expect(helperConfProblems('hint = "a"\nhint = "b"\n')).toEqual(["a key repeats: hint,hint"]);
  });

  it("omits jwt_svids without audiences, and carries any audience through HCL exactly", () => {
    expect(parseHcl(helperConf({ workload: "w", certDir: "/c", jwtSvids: [] })).jwt_svids).toBe(
      undefined,
    );
    const odd = 'a "quoted" \\ back\\slash, ünïcode and api://x?y=1';
    const conf = parseHcl(
      helperConf({ workload: "w", certDir: "/c", jwtSvids: [{ audience: odd, fileName: "t" }] }),
    );
    expect(conf.jwt_svids).toEqual([{ jwt_audience: odd, jwt_svid_file_name: "t" }]);
  });

  it("names the CSI driver and agent socket the spire chart 0.30.0 mounts", () => {
    expect(CSI_DRIVER).toBe(chart("spiffe-csi-driver.pluginName"));
    expect(chart("spire-agent.socketPath")).toBe(chart("spiffe-csi-driver.agentSocketPath"));
    expect(path.posix.basename(AGENT_SOCKET_PATH)).toBe(
      path.posix.basename(chart("spiffe-csi-driver.agentSocketPath")),
    );
  });
});

describe("workloadFiles rules", () => {
  const certDirs: [string, string | undefined][] = [
    ["/run/spiffe/certs", undefined],
    ["/var/run/identity", undefined],
    ["/certs", undefined],
    [
      "run/certs",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/run/spiffe/certs/",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/run/../etc",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/run/spiffe certs",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/etc",
      "must not be /etc: the in-memory volume mounted there would hide what the image keeps in it",
    ],
    [
      "/tmp",
      "must not be /tmp: the in-memory volume mounted there would hide what the image keeps in it",
    ],
    [
      "/run/spiffe",
      "must not overlap /run/spiffe/config, where the pod patch mounts the workload's ConfigMap",
    ],
    [
      "/run/spiffe/config/certs",
      "must not overlap /run/spiffe/config, where the pod patch mounts the workload's ConfigMap",
    ],
    [
      "/spiffe-workload-api",
      "must not overlap /spiffe-workload-api, where the pod patch mounts the SPIFFE CSI volume",
    ],
    [
      "/etc/spiffe-helper/certs",
      "must not overlap /etc/spiffe-helper, where the pod patch mounts the helper's configuration",
    ],
  ];
  it.each(certDirs)("certDir %s", (dir, problem) => expect(certDirProblem(dir)).toBe(problem));

  const digest = `sha256:${"ab".repeat(32)}`;
  const images: [string, string | undefined][] = [
    [DEFAULT_HELPER_IMAGE, undefined],
    ["registry.internal:5000/mirror/spiffe-helper:0.11.0", undefined],
    [`ghcr.io/spiffe/spiffe-helper@${digest}`, undefined],
    [`ghcr.io/spiffe/spiffe-helper:latest@${digest}`, undefined],
    [
      "ghcr.io/spiffe/spiffe-helper",
      "must pin a tag or a digest (an image without one means latest)",
    ],
    [
      "registry.internal:5000/spiffe-helper",
      "must pin a tag or a digest (an image without one means latest)",
    ],
    ["ghcr.io/spiffe/spiffe-helper:latest", "must pin a version or a digest, not latest"],
    [
      "ghcr.io/Spiffe/helper:1",
      "must be an image reference such as ghcr.io/spiffe/spiffe-helper:0.11.0",
    ],
    ["spiffe helper:1", "must be an image reference such as ghcr.io/spiffe/spiffe-helper:0.11.0"],
    [
      "ghcr.io/spiffe/spiffe-helper@sha256:abc",
      "must be an image reference such as ghcr.io/spiffe/spiffe-helper:0.11.0",
    ],
  ];
  it.each(images)("helperImage %s", (image, problem) =>
    expect(helperImageProblem(image)).toBe(problem),
  );
});

describe("workloadFiles config", () => {
  function problemsOf(mutate: (c: Record<string, any>) => void): string[] {
    const raw = baseConfig() as Record<string, any>;
    mutate(raw);
    try {
      parseStackConfig(raw);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
    throw new Error("config was accepted");
  }

  it("reports each bad key at its path", () => {
    expect(
      problemsOf((c) => {
        c.workloadFiles = {
          enabled: "yes",
          helperImage: "ghcr.io/spiffe/spiffe-helper:latest",
          certDir: "/etc",
          mode: "sidecar",
        };
        c.workloads[1].files = "no";
      }),
    ).toEqual([
      "spire-federation:workloadFiles.enabled: must be true or false",
      "spire-federation:workloadFiles.helperImage: must pin a version or a digest, not latest",
      "spire-federation:workloadFiles.certDir: must not be /etc: the in-memory volume mounted there would hide what the image keeps in it",
      "spire-federation:workloadFiles.mode: unknown key",
      "spire-federation:workloads[1].files: must be true or false",
    ]);
  });

  it("defaults to files for every workload with the pinned helper", () => {
    const m = parseStackConfig(baseConfig());
    expect(m.workloadFiles).toEqual({
      enabled: true,
      helperImage: "ghcr.io/spiffe/spiffe-helper:0.11.0",
      certDir: "/run/spiffe/certs",
    });
    expect(m.workloads.map((w) => w.files)).toEqual([true, true]);
  });

  it("a workload may opt out; enabled: false turns every workload off", () => {
    const raw = baseConfig() as Record<string, any>;
    raw.workloads[0].files = false;
    expect(parseStackConfig(raw).workloads.map((w) => w.files)).toEqual([false, true]);
    raw.workloadFiles = { enabled: false };
    raw.workloads[1].files = true;
    expect(parseStackConfig(raw).workloads.map((w) => w.files)).toEqual([false, false]);
  });
});

describe("prod stack: every workload's files", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStackFile("prod", computedOutputs("", ""));
  });

  it("plans a files ConfigMap per workload in its namespace, waiting on nothing", () => {
    const component = run.resources.find(
      (r) => r.type === "spire-federation:workload:WorkloadFiles",
    )!;
    expect(component.name).toBe("spire-federation-workload-files");
    const files = resources(run, CONFIG_MAP).filter((r) => !r.name.endsWith("-env"));
    expect(
      files.map((r) => [
        r.name,
        r.rawInputs.metadata,
        Object.keys(r.rawInputs.data as object).sort(),
      ]),
    ).toEqual([
      [
        "spire-federation-workload-files-orders-worker",
        {
          name: "orders-worker-spiffe",
          namespace: "orders",
          labels: {
            "app.kubernetes.io/managed-by": "spire-federation",
            "spire-federation/workload": "orders-worker",
          },
        },
        ["helper.conf", "openziti-identity.json"],
      ],
      [
        "spire-federation-workload-files-ledger",
        expect.objectContaining({ name: "ledger-spiffe", namespace: "finance" }),
        [
          "gcp-certificate-config.json",
          "gcp-oidc-credentials.json",
          "gcp-x509-credentials.json",
          "helper.conf",
        ],
      ],
      [
        "spire-federation-workload-files-batch-reports",
        expect.objectContaining({ name: "batch-reports-spiffe", namespace: "reporting" }),
        [
          "gcp-certificate-config.json",
          "gcp-oidc-credentials.json",
          "gcp-x509-credentials.json",
          "helper.conf",
        ],
      ],
      [
        "spire-federation-workload-files-payments-api",
        expect.objectContaining({ name: "payments-api-spiffe", namespace: "payments" }),
        [
          "gcp-certificate-config.json",
          "gcp-oidc-credentials.json",
          "gcp-x509-credentials.json",
          "helper.conf",
          "openziti-identity.json",
        ],
      ],
    ]);
    for (const r of files) {
      expect(r.parent).toBe(component.urn);
      expect(r.dependencies, r.name).toEqual([]);
      expect(JSON.stringify(r.inputs)).not.toMatch(/\[secret\]|\[unknown\]|placeholder/);
    }
  });

  it("puts values that exist only after deploy into an env ConfigMap that waits on their identity", () => {
    const envMaps = resources(run, CONFIG_MAP).filter((r) => r.name.endsWith("-env"));
    expect(envMaps.map((r) => (r.rawInputs.metadata as any).name).sort()).toEqual([
      "batch-reports-spiffe-env",
      "ledger-spiffe-env",
      "orders-worker-spiffe-env",
      "payments-api-spiffe-env",
    ]);
    const identityUrn = (name: string) =>
      resources(run, TYPES.identity).find((r) => r.name === `spire-federation-entra-${name}`)!.urn;
    for (const [workload, identity] of [
      ["payments-api", "payments-api"],
      ["ledger", "finance-reporting"],
      ["batch-reports", "finance-reporting"],
    ]) {
      const r = envMaps.find((x) => x.name === `spire-federation-workload-files-${workload}-env`)!;
      const ids = fakeIdentity(`spire-federation-entra-${identity}`);
      expect(r.rawInputs.data).toEqual({
        AZURE_CLIENT_ID: ids.clientId,
        AZURE_TENANT_ID: ids.tenantId,
      });
      expect(r.dependencies).toEqual([identityUrn(identity)]);
    }
  });

  it.each(["payments-api", "orders-worker", "ledger", "batch-reports"])(
    "%s: the helper requests exactly the checked audiences; every named path is provided",
    (workload) => {
      checkWorkload(run, workload);
    },
  );

  it("each SDK's variables name the token for its relying party's audience", () => {
    const e = checkWorkload(run, "payments-api");
    const vaultAudience = resources(run, TYPES.vaultRole).find(
      (r) => r.rawInputs.roleName === "payments-api",
    )!.rawInputs.boundAudiences as string[];
    const ficAudience = resources(run, TYPES.fic).find(
      (r) => r.rawInputs.federatedIdentityCredentialResourceName === "payments-api",
    )!.rawInputs.audiences as string[];
    const gcpAudience = (
      resources(run, TYPES.gcpProvider).find((r) => r.rawInputs.oidc)!.rawInputs.oidc as any
    ).allowedAudiences as string[];
    expect(e.env.VAULT_JWT_FILE).toBe(e.tokenFile.get(vaultAudience[0]));
    expect(e.env.AZURE_FEDERATED_TOKEN_FILE).toBe(e.tokenFile.get(ficAudience[0]));
    const gcpConfig = JSON.parse(e.data[path.posix.basename(e.env.GOOGLE_APPLICATION_CREDENTIALS)]);
    expect(gcpConfig.audience).toBe(gcpAudience[0]);
    expect(gcpConfig.credential_source.file).toBe(e.tokenFile.get(gcpAudience[0]));
    expect(e.env).toEqual({
      VAULT_ADDR: "https://vault.prod.example.com:8200",
      VAULT_JWT_ROLE: "payments-api",
      VAULT_JWT_LOGIN_PATH: "auth/spire-jwt/login",
      VAULT_JWT_FILE: "/run/spiffe/certs/vault-jwt-svid.token",
      AZURE_CLIENT_ID: {
        configMapKeyRef: { name: "payments-api-spiffe-env", key: "AZURE_CLIENT_ID" },
      },
      AZURE_TENANT_ID: {
        configMapKeyRef: { name: "payments-api-spiffe-env", key: "AZURE_TENANT_ID" },
      },
      AZURE_FEDERATED_TOKEN_FILE: "/run/spiffe/certs/azure-jwt-svid.token",
      GOOGLE_APPLICATION_CREDENTIALS: "/run/spiffe/config/gcp-oidc-credentials.json",
      // The project ID of gcp.project, where the pool lives (not its number).
      GOOGLE_CLOUD_PROJECT: "acme-platform-prod",
      ZITI_IDENTITIES: "/run/spiffe/config/openziti-identity.json",
      ZITI_JWT_FILE: e.tokenFile.get("openziti"),
    });
    expect(JSON.parse(e.data["openziti-identity.json"])).toEqual(
      (run.outputs.federation as any)["payments-api"].openziti,
    );
  });

  it("outputs the patch as YAML too, and neither names a secret", () => {
    for (const out of Object.values(run.outputs.workloadFiles as Record<string, any>)) {
      expect(parse(out.podPatchYaml)).toEqual(out.podPatch);
      expect(out.podPatchYaml).not.toMatch(/placeholder|password|secret/i);
    }
  });

  it("leaves the chart's CSI driver name and agent socket at the defaults the helper relies on", () => {
    const release = run.resources.find((r) => r.name === "spire-federation-spire-release")!;
    const values = release.rawInputs.values as Record<string, any>;
    expect(values["spiffe-csi-driver"]?.pluginName).toBeUndefined();
    expect(values["spiffe-csi-driver"]?.agentSocketPath).toBeUndefined();
    expect(values["spire-agent"]?.socketPath).toBeUndefined();
  });

  it("runs the helper pinned, non-root, as a native sidecar the workload waits for", () => {
    const helper = (run.outputs.workloadFiles as any).ledger.podPatch.spec.template.spec
      .initContainers[0];
    expect(helper).toMatchObject({
      name: "spiffe-helper",
      image: "ghcr.io/spiffe/spiffe-helper:0.11.0",
      restartPolicy: "Always",
      args: ["-config", "/etc/spiffe-helper/helper.conf"],
      startupProbe: { httpGet: { path: "/ready", port: 8081 } },
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
    });
    const conf = parseHcl(examine(run, "ledger").data["helper.conf"]);
    expect(conf.health_checks[0]).toMatchObject({ bind_port: 8081, readiness_path: "/ready" });
  });
});

describe("preview: the patch is known before anything is deployed", () => {
  it("has no unknown value in the workloadFiles output, while the Azure IDs are unknown", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "prod");
    const run = await runProgram(prepareProgram, {
      project: "spire-federation",
      stack: "prod",
      config,
      secretKeys,
      preview: true,
    });
    expect(JSON.stringify(run.outputs.workloadFiles)).not.toContain("[unknown]");
    const env = resources(run, CONFIG_MAP).find((r) => r.name.endsWith("payments-api-env"))!;
    expect(env.inputs.data).toEqual({ AZURE_CLIENT_ID: "[unknown]", AZURE_TENANT_ID: "[unknown]" });
  });
});

describe("another cert_dir and a private controller CA: the same consistency", () => {
  let run: ProgramRun;
  let caPem: string;
  beforeAll(async () => {
    caPem = (await makeCertificate({ subject: "CN=ziti controller CA", ca: true })).pem;
    run = await runProdWith((config) => {
      config["spire-federation:workloadFiles"] = JSON.stringify({
        certDir: "/var/run/identity",
        helperImage: "registry.internal/mirror/spiffe-helper:0.11.0",
      });
      mergeBlock(config, "openziti", { controllerCaPem: caPem });
      const workloads = JSON.parse(config["spire-federation:workloads"]);
      workloads[3].files = false;
      config["spire-federation:workloads"] = JSON.stringify(workloads);
    });
  });

  it.each(["payments-api", "orders-worker", "ledger"])("%s", (workload) => {
    const e = checkWorkload(run, workload);
    expect(e.conf.cert_dir).toBe("/var/run/identity");
    expect(e.patch.spec.template.spec.initContainers[0].image).toBe(
      "registry.internal/mirror/spiffe-helper:0.11.0",
    );
  });

  it("mounts the controller CA where the identity file names it", () => {
    const e = checkWorkload(run, "payments-api");
    expect((run.outputs.federation as any)["payments-api"].openziti.id).toEqual({
      cert: "file:///var/run/identity/svid.pem",
      key: "file:///var/run/identity/svid_key.pem",
      ca: "file:///run/openziti/ca.pem",
    });
    expect(e.provided.get("/run/openziti/ca.pem")).toBe("openziti-ca.pem");
    expect(e.data["openziti-ca.pem"]).toBe(caPem);
  });

  it("gives a workload with files: false nothing", () => {
    expect(Object.keys(run.outputs.workloadFiles as object).sort()).toEqual([
      "ledger",
      "orders-worker",
      "payments-api",
    ]);
    expect(resources(run, CONFIG_MAP).some((r) => r.name.includes("batch-reports"))).toBe(false);
  });
});

describe("workloads whose grants need no files", () => {
  it("get no ConfigMap and no patch", async () => {
    const raw = baseConfig() as Record<string, any>;
    raw.vault = { policies: { read: 'path "secret/*" { capabilities = ["read"] }' } };
    raw.workloads[1].vault = { policies: ["read"] };
    const run = await runRaw(raw, { preview: true });
    expect(Object.keys(run.outputs.workloadFiles as object)).toEqual(["worker"]);
    expect(resources(run, CONFIG_MAP).map((r) => (r.rawInputs.metadata as any).name)).toEqual([
      "worker-spiffe",
    ]);
  });

  it.each(["mesh", "edge"])(
    "the %s stack's workloads (Istio only, no grant, or on nodes outside Kubernetes) get none",
    async (stack) => {
      const { config, secretKeys } = loadStackConfig(ROOT, stack);
      const run = await runProgram(prepareProgram, {
        project: "spire-federation",
        stack,
        config,
        secretKeys,
        preview: true,
      });
      expect(run.resources.filter((r) => r.type.includes("WorkloadFiles"))).toEqual([]);
      expect(run.outputs.workloadFiles).toBeUndefined();
    },
  );
});

describe("workloadFiles.enabled: false", () => {
  it("registers no component and no output", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "dev");
    config["spire-federation:workloadFiles"] = JSON.stringify({ enabled: false });
    const run = await runProgram(prepareProgram, {
      project: "spire-federation",
      stack: "dev",
      config,
      secretKeys,
      preview: true,
    });
    expect(run.resources.filter((r) => r.type.includes("workload"))).toEqual([]);
    expect(resources(run, CONFIG_MAP)).toEqual([]);
    expect(run.outputs.workloadFiles).toBeUndefined();
  });
});

describe("WorkloadFiles under mocks", () => {
  const args = (contributions: WorkloadFilesArgs["workloads"][0]["contributions"]) => ({
    helperImage: DEFAULT_HELPER_IMAGE,
    certDir: "/run/spiffe/certs",
    workloads: [{ name: "api", namespace: "shop", contributions }],
  });

  it("refuses clashing or unusable contributions before registering anything", () => {
    expect(
      workloadFilesArgsProblems({
        ...args([
          {
            party: "a",
            jwtSvids: [
              { audience: "x${y}", fileName: "a.token" },
              { audience: "b", fileName: "../b.token" },
              { audience: "c", fileName: "svid.pem" },
            ],
            files: {
              "helper.conf": { content: "x" },
              "a.json": { content: "{}", path: "etc/a.json" },
              "b.json": { content: "{}", path: "/run/spiffe/config/b.json" },
            },
            env: { A: "1", "1B": "2" },
          },
          {
            party: "b",
            env: { A: "3" },
            files: {
              "c.json": { content: "{}", path: "/run/spiffe/certs/c.json" },
              "d.json": { content: "{}", path: "/run/spiffe" },
            },
          },
        ]),
        helperImage: "helper",
      }),
    ).toEqual([
      'helper image "helper" must pin a tag or a digest (an image without one means latest)',
      'workload api, a: audience "x${y}" must not contain ${ (spiffe-helper\'s HCL parser reads it as an interpolation)',
      'workload api, a: JWT-SVID file name "../b.token" must be a file name of letters, digits, . _ and - (at most 253)',
      "workload api, a: /run/spiffe/certs/svid.pem is already provided by spiffe-helper",
      'workload api, a: ConfigMap key "helper.conf" is already taken',
      'workload api, a: path "etc/a.json" of a.json must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)',
      "workload api, a: path /run/spiffe/config/b.json of b.json lies in /run/spiffe/config; omit it",
      'workload api, a: environment variable "1B" must be letters, digits and _, not starting with a digit',
      "workload api, b: path /run/spiffe/certs/c.json of c.json overlaps /run/spiffe/certs, which only the helper writes; omit the path to use /run/spiffe/config",
      "workload api, b: path /run/spiffe of d.json overlaps /run/spiffe/certs, which only the helper writes; omit the path to use /run/spiffe/config",
      "workload api, b: environment variable A is already set by a",
    ]);
    expect(() => new WorkloadFiles("wf", { ...args([]), certDir: "/tmp" })).toThrow(
      'WorkloadFiles wf: cert directory "/tmp" must not be /tmp: the in-memory volume mounted there would hide what the image keeps in it',
    );
  });

  it("writes the ConfigMaps with exact inputs: literals in the patch, Outputs in the env ConfigMap", async () => {
    const pulumi = load("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const run = await runProgram(
      () => () => {
        const c = new WorkloadFiles(
          "wf",
          args([
            {
              party: "acme",
              jwtSvids: [{ audience: "acme-api", fileName: "acme.token" }],
              files: { "acme.json": { content: '{"token":"/run/spiffe/certs/acme.token"}' } },
              env: {
                ACME_TOKEN_FILE: "/run/spiffe/certs/acme.token",
                ACME_ID: pulumi.output("id-42"),
              },
            },
          ]),
        );
        return { files: c.outputs };
      },
      { project: "p", stack: "s", config: {}, preview: false },
    );
    const maps = resources(run, CONFIG_MAP).sort((x, y) => x.name.localeCompare(y.name));
    expect(maps.map((r) => [r.name, r.rawInputs.metadata, r.dependencies])).toEqual([
      ["wf-api", { name: "api-spiffe", namespace: "shop", labels: expect.any(Object) }, []],
      ["wf-api-env", { name: "api-spiffe-env", namespace: "shop", labels: expect.any(Object) }, []],
    ]);
    expect(maps[0].rawInputs.data).toEqual({
      "acme.json": '{"token":"/run/spiffe/certs/acme.token"}',
      "helper.conf": helperConf({
        workload: "api",
        certDir: "/run/spiffe/certs",
        jwtSvids: [{ audience: "acme-api", fileName: "acme.token" }],
      }),
    });
    expect(maps[1].rawInputs.data).toEqual({ ACME_ID: "id-42" });
    const app = (run.outputs.files as any).api.podPatch.spec.template.spec.containers[0];
    expect(app.env).toEqual([
      { name: "ACME_TOKEN_FILE", value: "/run/spiffe/certs/acme.token", valueFrom: null },
      {
        name: "ACME_ID",
        value: null,
        valueFrom: { configMapKeyRef: { name: "api-spiffe-env", key: "ACME_ID" } },
      },
    ]);
    // The pod template carries the checksum of the ConfigMaps' content.
    expect((run.outputs.files as any).api.podPatch.spec.template.metadata).toEqual({
      annotations: {
        "spire-federation/config-sha256": configChecksum(maps[0].rawInputs.data as any, [
          "ACME_ID",
        ]),
      },
    });
    expect((run.outputs.files as any).api.files).toEqual({
      "/run/spiffe/certs/acme.token": "spiffe-helper",
      "/run/spiffe/certs/jwt_bundle.json": "spiffe-helper",
      "/run/spiffe/certs/svid.pem": "spiffe-helper",
      "/run/spiffe/certs/svid_bundle.pem": "spiffe-helper",
      "/run/spiffe/certs/svid_key.pem": "spiffe-helper",
      "/run/spiffe/config/acme.json": "configMap:acme.json",
    });
  });
});
