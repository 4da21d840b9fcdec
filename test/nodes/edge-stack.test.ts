/**
 * The edge stack under mocks: the ClusterStaticEntries against their CRD, and each node's files
 * (the agent configuration parsed by hashicorp/hcl v1, the parser SPIRE itself uses); a
 * load-balancer exposure.
 */
import { X509Certificate } from "node:crypto";
import { parse as parseHcl } from "hcl-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { agentConfigHcl } from "../../components/nodes/index";
import { spireValues } from "../../components/spire";
import { spireValuesArgs } from "../../components/stack";
import { policies } from "../../components/policies";
import type { ProgramRun } from "../../tools/harness";
import { runPolicies } from "../../tools/policy-runner";
import { planStack } from "../compiled";
import { baseConfig, makeCertificate, pkcs8Pem } from "../fixtures";
import { withNodes } from "../support/stack-fixtures";
import { all, chartDefaults, computedOutputs, find, runRaw, runStackFile } from "../helpers";

/**
 * The configuration keys spire-agent 1.14.5 decodes (it refuses any other: `UnusedKeyPositions`):
 * the `hcl` tags of `agentConfig` in spiffe/spire v1.14.5 cmd/spire-agent/cli/run/run.go, and of
 * the plugins' configs in pkg/agent/plugin/{nodeattestor/httpchallenge, keymanager/disk,
 * workloadattestor/unix}.
 */
const AGENT_KEYS = new Set(
  (
    "data_dir admin_socket_path insecure_bootstrap rebootstrap_mode rebootstrap_delay join_token " +
    "join_token_file log_file log_format log_level log_source_location sds server_address " +
    "server_port socket_path workload_x509_svid_key_type trust_bundle_format trust_bundle_path " +
    "trust_bundle_unix_socket trust_bundle_url trust_domain allow_unauthenticated_verifiers " +
    "allowed_foreign_jwt_claims availability_target x509_svid_cache_max_size " +
    "jwt_svid_cache_max_size authorized_delegates profiling_enabled profiling_port " +
    "profiling_freq profiling_names experimental"
  ).split(" "),
);

const ENTRY = "kubernetes:spire.spiffe.io/v1alpha1:ClusterStaticEntry";

const CSID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";

const CONF = "/etc/spire/agent/agent.conf";

const BUNDLE = "/etc/spire/agent/bootstrap.crt";

const UNIT = "/etc/systemd/system/spire-agent.service";

/** Mock outputs with a real generated root (made once). */
let rootMocks: Promise<ReturnType<typeof computedOutputs>> | undefined;
function withRoot(): Promise<ReturnType<typeof computedOutputs>> {
  rootMocks ??= makeCertificate({ subject: "CN=test root CA", ca: true }).then(async (root) =>
    computedOutputs(root.pem, await pkcs8Pem(root.keys.privateKey)),
  );
  return rootMocks;
}

/** One element of an HCL v1 block list (hcl-parser keeps every block as a list). */
function one(v: unknown): any {
  expect(Array.isArray(v) && v.length === 1, JSON.stringify(v)).toBe(true);
  return (v as unknown[])[0];
}

const PLUGIN_KEYS: Record<string, string[]> = {
  http_challenge: ["hostname", "agentname", "port", "advertised_port"],
  disk: ["directory"],
  unix: ["discover_workload_path", "workload_size_limit"],
};

describe("the edge stack", () => {
  let run: ProgramRun;
  let rootPem: string;

  beforeAll(async () => {
    const root = await makeCertificate({ subject: "CN=edge root CA", ca: true });
    rootPem = root.pem;
    run = await runStackFile(
      "edge",
      computedOutputs(root.pem, await pkcs8Pem(root.keys.privateKey)),
    );
  });

  it("enables http_challenge for exactly the listed hostnames, and exposes the server", () => {
    const values = find(run, "kubernetes:helm.sh/v3:Release", "spire-release").rawInputs
      .values as any;
    expect(values["spire-server"].nodeAttestor).toEqual({
      httpChallenge: {
        enabled: true,
        allowedDNSPatterns: ["^edge-1\\.vms\\.example\\.com$", "^edge-2\\.vms\\.example\\.com$"],
        requiredPort: 80,
        allowNonRootPorts: false,
        tofu: false,
      },
    });
    expect(values["spire-server"].ingress).toEqual({
      enabled: true,
      className: "nginx",
      host: "spire.edge.spiffe.example.com",
    });
    // The chart adds the passthrough annotations for this controller type.
    expect(values.global.spire.ingressControllerType).toBe("ingress-nginx");
    expect(values["spire-server"].service).toBeUndefined();
    // Agents dial the Service's port: the chart default this package relies on.
    expect(chartDefaults().get("spire-server.service.port")).toBe("443");
  });

  it("registers one ClusterStaticEntry per node workload, valid for the CRD, after the release", () => {
    const entries = all(run, ENTRY);
    const release = find(run, "kubernetes:helm.sh/v3:Release", "spire-release");
    const nodes = find(run, "spire-federation:index:Nodes");
    const className = (release.rawInputs.values as any)["spire-server"].controllerManager.className;
    expect(className).toBe("spire-federation");
    const agent = (h: string) => `spiffe://edge.spiffe.example.com/spire/agent/http_challenge/${h}`;
    // In config order (the mocks see registrations in the order their inputs resolve).
    const order = ["ziti-router", "uploader", "telemetry"];
    const at = (e: (typeof entries)[number]) => order.indexOf((e.rawInputs.spec as any).hint);
    const sorted = [...entries].sort((a, b) => at(a) - at(b));
    expect(sorted.map((e) => [e.name, e.rawInputs.metadata, e.rawInputs.spec])).toEqual([
      [
        "spire-federation-nodes-entry-ziti-router",
        { name: "spire-federation-ziti-router" },
        {
          className,
          hint: "ziti-router",
          spiffeID: "spiffe://edge.spiffe.example.com/edge/ziti-router",
          parentID: agent("edge-1.vms.example.com"),
          selectors: ["unix:user:ziti", "unix:path:/opt/openziti/bin/ziti"],
        },
      ],
      [
        "spire-federation-nodes-entry-uploader",
        { name: "spire-federation-uploader" },
        {
          className,
          hint: "uploader",
          spiffeID: "spiffe://edge.spiffe.example.com/edge/uploader",
          parentID: agent("edge-2.vms.example.com"),
          selectors: ["unix:user:uploader"],
        },
      ],
      [
        "spire-federation-nodes-entry-telemetry",
        { name: "spire-federation-telemetry" },
        {
          className,
          hint: "telemetry",
          spiffeID: "spiffe://edge.spiffe.example.com/edge/telemetry",
          parentID: agent("edge-2.vms.example.com"),
          selectors: ["unix:user:telemetry", "unix:gid:1002"],
        },
      ],
    ]);
    for (const e of entries) {
      expect(e.parent).toBe(nodes.urn);
      expect(e.dependencies).toEqual([release.urn]);
    }
    // (test/spire-values.test.ts validates them against the CRD's schema.)
    // Node workloads get no ClusterSPIFFEID: those select pods.
    expect(all(run, CSID)).toEqual([]);
  });

  it("outputs each node's agent configuration, trust bundle and systemd unit", () => {
    const nodes = run.outputs.nodes as any;
    expect(Object.keys(nodes)).toEqual(["edge-1", "edge-2"]);
    for (const [name, host] of [
      ["edge-1", "edge-1.vms.example.com"],
      ["edge-2", "edge-2.vms.example.com"],
    ]) {
      const n = nodes[name];
      expect(n.hostname).toBe(host);
      expect(n.agentSpiffeId).toBe(
        `spiffe://edge.spiffe.example.com/spire/agent/http_challenge/${host}`,
      );
      expect(Object.keys(n.files).sort()).toEqual([CONF, BUNDLE, UNIT]);
      // The bootstrap bundle is the stable root.
      expect(n.files[BUNDLE]).toBe(rootPem);
      expect(new X509Certificate(n.files[BUNDLE]).ca).toBe(true);

      const [conf, err] = parseHcl(n.files[CONF]);
      expect(err).toBeNull();
      const c = conf as any;
      expect(Object.keys(c).sort()).toEqual(["agent", "plugins"]);
      const agent = one(c.agent);
      expect(agent).toEqual({
        data_dir: "/var/lib/spire/agent",
        log_level: "INFO",
        server_address: "spire.edge.spiffe.example.com",
        server_port: 443,
        socket_path: "/run/spire/agent/public/api.sock",
        trust_domain: "edge.spiffe.example.com",
        trust_bundle_path: BUNDLE,
        trust_bundle_format: "pem",
      });
      for (const k of Object.keys(agent)) expect(AGENT_KEYS.has(k), k).toBe(true);
      const plugins = one(c.plugins);
      expect(Object.keys(plugins).sort()).toEqual([
        "KeyManager",
        "NodeAttestor",
        "WorkloadAttestor",
      ]);
      const plugin = (kind: string, name: string) => {
        const p = one(plugins[kind]);
        expect(Object.keys(p)).toEqual([name]);
        const data = one(one(p[name]).plugin_data);
        for (const k of Object.keys(data)) expect(PLUGIN_KEYS[name], k).toContain(k);
        return data;
      };
      expect(plugin("NodeAttestor", "http_challenge")).toEqual({ hostname: host, port: 80 });
      expect(plugin("KeyManager", "disk")).toEqual({ directory: "/var/lib/spire/agent" });
      expect(plugin("WorkloadAttestor", "unix")).toEqual({
        discover_workload_path: true,
        workload_size_limit: -1,
      });

      const unit: string = n.files[UNIT];
      expect(unit).toContain(`\nExecStart=/opt/spire/bin/spire-agent run -config ${CONF}\n`);
      // The unit's writable directories are the config's data and socket directories.
      expect(unit).toContain("\nStateDirectory=spire/agent\n");
      expect(unit).toContain("\nRuntimeDirectory=spire/agent\n");
      expect(agent.data_dir).toBe("/var/lib/" + "spire/agent");
      expect(agent.socket_path.startsWith("/run/" + "spire/agent/")).toBe(true);
      expect(unit).toContain("\nProtectSystem=strict\n");
      expect(unit).toMatch(/\n\[Install\]\nWantedBy=multi-user.target\n$/);
    }
    // The seam for the workload files: each node workload, with what spiffe-helper needs.
    expect(nodes["edge-2"].workloads).toEqual({
      uploader: {
        node: "edge-2",
        spiffeId: "spiffe://edge.spiffe.example.com/edge/uploader",
        selectors: ["unix:user:uploader"],
        agentSocketPath: "/run/spire/agent/public/api.sock",
      },
      telemetry: {
        node: "edge-2",
        spiffeId: "spiffe://edge.spiffe.example.com/edge/telemetry",
        selectors: ["unix:user:telemetry", "unix:gid:1002"],
        agentSocketPath: "/run/spire/agent/public/api.sock",
      },
    });
    expect(Object.keys(nodes["edge-1"].workloads)).toEqual(["ziti-router"]);
  });

  it("the HCL parser refuses a broken configuration (so the parse check can fail)", () => {
    const good = agentConfigHcl({
      nodeName: "n",
      hostname: "n.example.com",
      trustDomain: "td.example.com",
      serverAddress: "spire.example.com",
      serverPort: 443,
    });
    expect(parseHcl(good)[1]).toBeNull();
    const [data, err] = parseHcl(good.replace(/\}\n$/, ""));
    expect(data).toBeNull();
    expect(err).not.toBeNull();
    expect(
      parseHcl(good.replace("server_port         = 443", "server_port = = 443"))[1],
    ).not.toBeNull();
  });

  it("grants in each relying party for its node workloads", () => {
    const fed = run.outputs.federation as any;
    expect(Object.keys(fed).sort()).toEqual(["telemetry", "uploader", "ziti-router"]);
    expect(fed.telemetry.vault).toEqual({
      role: "telemetry",
      loginPath: "auth/spire-jwt/login",
      audience: "vault",
    });
    expect(fed.uploader.gcp.principal).toBe(
      "principal://iam.googleapis.com/projects/731640529817/locations/global/workloadIdentityPools/spiffe-edge/subject/spiffe://edge.spiffe.example.com/edge/uploader",
    );
    expect(fed["ziti-router"].openziti.ztAPI).toBe(
      "https://ziti.edge.example.com:1280/edge/client/v1",
    );
    const role = find(run, "vault:jwt/authBackendRole:AuthBackendRole", "role-telemetry");
    expect(role.rawInputs.boundClaims).toEqual({
      sub: "spiffe://edge.spiffe.example.com/edge/telemetry",
    });
    const identity = find(run, "pulumi-nodejs:dynamic/openziti:Identity", "ziti-router");
    expect((identity.rawInputs.body as any).externalId).toBe(
      "spiffe://edge.spiffe.example.com/edge/ziti-router",
    );
    expect(
      all(run, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"),
    ).toHaveLength(1);
  });

  it("plans offline with no mandatory policy violation", async () => {
    const plan = await planStack("edge");
    const v = await runPolicies(policies, plan.resources);
    expect(v.filter((x) => x.enforcementLevel === "mandatory")).toEqual([]);
    // The agent configuration is known before anything is deployed; the generated root is not.
    const files = (plan.outputs.nodes as any)["edge-1"].files;
    expect(files[CONF]).toContain('server_address      = "spire.edge.spiffe.example.com"');
    expect(files[BUNDLE]).toBe("[unknown]");
  });
});

describe("a load-balancer exposure", () => {
  it("makes the Service a LoadBalancer and gives agents its address", async () => {
    const c = withNodes();
    c.spire.server.exposure = { loadBalancer: true, address: "spire-lb.test.example.com" };
    const m = parseStackConfig(c);
    const v = spireValues(spireValuesArgs(m, "root")) as any;
    expect(v["spire-server"].service).toEqual({ type: "LoadBalancer" });
    expect(v["spire-server"].ingress).toBeUndefined();
    expect(v["spire-server"].nodeAttestor.httpChallenge.allowedDNSPatterns).toEqual([
      "^vm-1\\.test\\.example\\.com$",
      "^vm-2\\.test\\.example\\.com$",
    ]);
    const run = await runRaw(c, { computed: await withRoot() });
    const [conf] = parseHcl((run.outputs.nodes as any)["vm-2"].files[CONF]);
    expect(one((conf as any).agent)).toMatchObject({
      server_address: "spire-lb.test.example.com",
      server_port: 443,
    });
  });

  it("sets no node values without nodes and exposure", () => {
    const v = spireValues(spireValuesArgs(parseStackConfig(baseConfig()), "root")) as any;
    for (const key of ["nodeAttestor", "ingress", "service"]) {
      expect(v["spire-server"][key], key).toBeUndefined();
    }
  });
});
