/**
 * Machines outside Kubernetes: the config (nodes, the server's exposure, node workloads), the
 * chart values, the ClusterStaticEntries against their CRD, the relying parties seeing a node
 * workload exactly as a pod, and each node's files (the agent configuration parsed by
 * hashicorp/hcl v1, the parser SPIRE itself uses).
 */
import { X509Certificate } from "node:crypto";
import { parse as parseHcl } from "hcl-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  agentConfigHcl,
  dnsPatternFor,
  isAnchoredPattern,
  patternHostname,
  Nodes,
  nodesArgsProblems,
  unixSelectorsOverlap,
  type NodesArgs,
} from "../../components/nodes/index";
import { spireValues } from "../../components/spire";
import { SpireFederation, spireValuesArgs } from "../../components/stack";
import { policies } from "../../components/policies";
import type { ProgramRun } from "../../tools/harness";
import { runPolicies } from "../../tools/policy-runner";
import { planStack } from "../compiled";
import { baseConfig, makeCertificate, pkcs8Pem } from "../fixtures";
import { problemsOf, withNodes } from "../support/stack-fixtures";
import { all, chartDefaults, computedOutputs, find, runRaw, runStackFile } from "../helpers";

const ENTRY = "kubernetes:spire.spiffe.io/v1alpha1:ClusterStaticEntry";
const CSID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";
const CONF = "/etc/spire/agent/agent.conf";
const BUNDLE = "/etc/spire/agent/bootstrap.crt";
const UNIT = "/etc/systemd/system/spire-agent.service";

const NS = "spire-federation:";

/** Mock outputs with a real generated root (made once). */
let rootMocks: Promise<ReturnType<typeof computedOutputs>> | undefined;
function withRoot(): Promise<ReturnType<typeof computedOutputs>> {
  rootMocks ??= makeCertificate({ subject: "CN=test root CA", ca: true }).then(async (root) =>
    computedOutputs(root.pem, await pkcs8Pem(root.keys.privateKey)),
  );
  return rootMocks;
}

describe("config: nodes, exposure and node workloads", () => {
  it("builds the model: nodes, the exposure, a node workload beside pod workloads", () => {
    const m = parseStackConfig(withNodes());
    expect(m.nodes).toEqual([
      { name: "vm-1", hostname: "vm-1.test.example.com", attestation: "httpChallenge" },
      { name: "vm-2", hostname: "vm-2.test.example.com", attestation: "httpChallenge" },
    ]);
    expect(m.spire.server).toEqual({
      exposure: { mode: "ingress", host: "spire.test.example.com", ingressClassName: "nginx" },
    });
    expect(m.workloads.map((w) => w.mode)).toEqual(["pod", "pod", "node"]);
    expect(m.workloads[2]).toEqual({
      mode: "node",
      name: "app",
      spiffeId: "spiffe://test.example.com/vm/app",
      node: "vm-1",
      unix: { uid: 1000 },
    });
    const lb = withNodes();
    lb.spire.server.exposure = { loadBalancer: true, address: "203.0.113.7" };
    expect(parseStackConfig(lb).spire.server.exposure).toEqual({
      mode: "loadBalancer",
      address: "203.0.113.7",
    });
    // Without nodes nothing changes: no nodes, no exposure.
    const plain = parseStackConfig(baseConfig());
    expect(plain.nodes).toEqual([]);
    expect(plain.spire.server).toEqual({ exposure: undefined });
  });

  const bad: [string, (c: Record<string, any>) => void, string[]][] = [
    [
      "a node workload without a node",
      (c) => delete c.workloads[2].node,
      [
        `${NS}workloads[2].node: required with unix: the node (in nodes) whose agent attests the workload`,
      ],
    ],
    [
      "an unknown node",
      (c) => (c.workloads[2].node = "vm-9"),
      [`${NS}workloads[2].node: names no node in nodes (known: "vm-1", "vm-2")`],
    ],
    [
      "a node workload and no nodes at all",
      (c) => {
        delete c.nodes;
        delete c.spire;
      },
      [`${NS}workloads[2].node: names no node in nodes (none is listed)`],
    ],
    [
      "duplicate hostnames",
      (c) => (c.nodes[1].hostname = "vm-1.test.example.com"),
      [
        `${NS}nodes[1].hostname: duplicates nodes[0].hostname "vm-1.test.example.com"; a hostname attests one agent (its SPIFFE ID is made from the hostname)`,
      ],
    ],
    [
      "duplicate node names",
      (c) => (c.nodes[1].name = "vm-1"),
      [`${NS}nodes[1].name: duplicates nodes[0].name "vm-1"`],
    ],
    [
      "a hostname that is not a DNS name",
      (c) => {
        c.nodes[0].hostname = "VM_1.test.example.com";
        c.nodes[1].hostname = "vm-2";
      },
      [
        `${NS}nodes[0].hostname: must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)`,
        `${NS}nodes[1].hostname: must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)`,
      ],
    ],
    [
      "a node workload with Kubernetes selectors",
      (c) => Object.assign(c.workloads[2], { namespace: "shop", serviceAccount: "app" }),
      [
        `${NS}workloads[2].namespace: must not be set on a node workload; a workload runs either in pods (namespace, serviceAccount, podLabels) or on a node (node, unix)`,
        `${NS}workloads[2].serviceAccount: must not be set on a node workload; a workload runs either in pods (namespace, serviceAccount, podLabels) or on a node (node, unix)`,
      ],
    ],
    [
      "a node workload with pod labels",
      (c) => (c.workloads[2].podLabels = { app: "x" }),
      [
        `${NS}workloads[2].podLabels: must not be set on a node workload; a workload runs either in pods (namespace, serviceAccount, podLabels) or on a node (node, unix)`,
      ],
    ],
    [
      "a pod workload with unix selectors",
      (c) => (c.workloads[0].unix = { uid: 1 }),
      [
        `${NS}workloads[0].namespace: must not be set on a node workload; a workload runs either in pods (namespace, serviceAccount, podLabels) or on a node (node, unix)`,
        `${NS}workloads[0].serviceAccount: must not be set on a node workload; a workload runs either in pods (namespace, serviceAccount, podLabels) or on a node (node, unix)`,
        `${NS}workloads[0].node: required with unix: the node (in nodes) whose agent attests the workload`,
        `${NS}workloads[0].spiffeIdPath: required with node; only a pod workload has a default (/ns/<namespace>/sa/<serviceAccount>)`,
      ],
    ],
    [
      "a node workload without its SPIFFE ID path",
      (c) => delete c.workloads[2].spiffeIdPath,
      [
        `${NS}workloads[2].spiffeIdPath: required with node; only a pod workload has a default (/ns/<namespace>/sa/<serviceAccount>)`,
      ],
    ],
    [
      "a node workload without selectors",
      (c) => delete c.workloads[2].unix,
      [
        `${NS}workloads[2].unix: required with node: the unix selectors (uid, gid, user, path) that pick the workload's processes`,
      ],
    ],
    [
      "empty unix selectors",
      (c) => (c.workloads[2].unix = {}),
      [
        `${NS}workloads[2].unix: must set at least one of uid, gid, user or path; they are the only selectors of the workload's processes`,
      ],
    ],
    [
      "bad unix selectors",
      (c) =>
        (c.workloads[2].unix = { uid: -1, gid: 1.5, user: "Root", path: "bin/app", shell: "x" }),
      [
        `${NS}workloads[2].unix.uid: must be 0 or more`,
        `${NS}workloads[2].unix.gid: must be a whole number`,
        `${NS}workloads[2].unix.user: must be a user name (lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters)`,
        `${NS}workloads[2].unix.path: must be an absolute path such as /usr/local/bin/app`,
        `${NS}workloads[2].unix.shell: unknown key`,
      ],
    ],
    [
      "an unclean executable path",
      (c) => (c.workloads[2].unix = { path: "/opt/app/../bin/app" }),
      [
        `${NS}workloads[2].unix.path: must be a clean path (no //, . or .. segments, no trailing /): the attestor compares the executable's resolved path literally`,
      ],
    ],
    [
      "two workloads of a node that can select one process",
      (c) =>
        c.workloads.push(
          { name: "app-2", node: "vm-1", unix: { gid: 50 }, spiffeIdPath: "/vm/app-2" },
          {
            name: "app-3",
            node: "vm-1",
            unix: { uid: 1000, path: "/bin/x" },
            spiffeIdPath: "/vm/3",
          },
        ),
      [
        `${NS}workloads[3].unix: can select the same processes on node "vm-1" as workloads[2].unix; such a process would get both SPIFFE IDs: give one of them a uid, gid, user or path the other does not match`,
        `${NS}workloads[4].unix: can select the same processes on node "vm-1" as workloads[2].unix; such a process would get both SPIFFE IDs: give one of them a uid, gid, user or path the other does not match`,
      ],
    ],
    [
      "a node workload with the SPIFFE ID of a pod workload",
      (c) => (c.workloads[2].spiffeIdPath = "/ns/shop/sa/api"),
      [
        `${NS}workloads[2]: SPIFFE ID spiffe://test.example.com/ns/shop/sa/api duplicates the one of workloads[0]`,
      ],
    ],
    [
      "a node workload in the Istio mesh",
      (c) => {
        c.istio = {};
        c.workloads[2].istio = {};
      },
      [
        `${NS}workloads[2].istio: is for pod workloads only; Istio's proxies run in Kubernetes pods, and a node workload has no namespace or service account for a /ns/<namespace>/sa/<service account> ID: remove it`,
      ],
    ],
    [
      "join tokens",
      (c) => (c.nodes[1].attestation = "joinToken"),
      [
        `${NS}nodes[1].attestation: joinToken is not supported; SPIRE creates join tokens only through its admin API (a unix socket inside the server pod), which no declarative resource reaches without kubectl or an admin SVID on the operator's machine: use httpChallenge`,
      ],
    ],
    [
      "an unknown attestation",
      (c) => (c.nodes[0].attestation = "tpm"),
      [`${NS}nodes[0].attestation: must be httpChallenge or joinToken`],
    ],
    [
      "nodes that are not a list",
      (c) => (c.nodes = { name: "vm-1" }),
      [`${NS}nodes: must be a list of nodes`],
    ],
    [
      "a node with an unknown key and no hostname",
      (c) => (c.nodes[1] = { name: "vm-2", host: "vm-2.test.example.com" }),
      [`${NS}nodes[1].hostname: required`, `${NS}nodes[1].host: unknown key`],
    ],
    [
      "nodes without an exposure",
      (c) => delete c.spire,
      [
        `${NS}spire.server.exposure: required when nodes are listed; agents outside the cluster reach the SPIRE server through it: set host and ingressClassName, or loadBalancer: true and address`,
      ],
    ],
    [
      "an exposure of both kinds",
      (c) => (c.spire.server.exposure.loadBalancer = true),
      [
        `${NS}spire.server.exposure: must set either host and ingressClassName (an ingress with TLS passthrough), or loadBalancer: true and address (found both)`,
      ],
    ],
    [
      "an empty exposure",
      (c) => (c.spire.server.exposure = {}),
      [
        `${NS}spire.server.exposure: must set host and ingressClassName (an ingress with TLS passthrough), or loadBalancer: true and address`,
      ],
    ],
    [
      "an ingress without its class",
      (c) => delete c.spire.server.exposure.ingressClassName,
      [`${NS}spire.server.exposure.ingressClassName: required with host`],
    ],
    [
      "an ingress host that is not a DNS name, on oidc.host's ingress class",
      (c) => (c.spire.server.exposure.host = "spire"),
      [
        `${NS}spire.server.exposure.host: must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)`,
      ],
    ],
    [
      "the server on the discovery provider's host",
      (c) => (c.spire.server.exposure.host = "oidc.test.example.com"),
      [
        `${NS}spire.server.exposure.host: must differ from oidc.host (oidc.test.example.com); an ingress routes a whole host, and agents must reach the SPIRE server, not the discovery provider`,
      ],
    ],
    [
      "an ingress the chart cannot pass TLS through",
      (c) => (c.oidc.ingressControllerType = "other"),
      [
        `${NS}spire.server.exposure: an ingress needs TLS passthrough, which the chart sets up for ingress-nginx and openshift only (oidc.ingressControllerType is other); agents authenticate the server by its SPIFFE ID over mTLS, so the ingress must not terminate TLS: use loadBalancer: true and address`,
      ],
    ],
    [
      "a load balancer without an address",
      (c) => (c.spire.server.exposure = { loadBalancer: true }),
      [
        `${NS}spire.server.exposure.address: required with loadBalancer; it is the server_address of every agent, and Pulumi cannot read the load balancer's address before the chart has created the Service: point a DNS name at the load balancer (or reserve its IP) and set it here`,
      ],
    ],
    [
      "a load balancer with a bad address and loadBalancer false",
      (c) => (c.spire.server.exposure = { loadBalancer: false, address: "spire server" }),
      [
        `${NS}spire.server.exposure.loadBalancer: must be true`,
        `${NS}spire.server.exposure.address: must be a DNS name (with a dot) or an IP address`,
      ],
    ],
    [
      "a pod workload without namespace and service account",
      (c) => {
        delete c.workloads[0].namespace;
        delete c.workloads[0].serviceAccount;
      },
      [`${NS}workloads[0].namespace: required`, `${NS}workloads[0].serviceAccount: required`],
    ],
  ];

  it.each(bad)("%s", (_name, mutate, expected) => {
    const c = withNodes();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("accepts what the rules allow: the same selectors on two nodes, disjoint ones on one", () => {
    const c = withNodes();
    c.workloads.push(
      { name: "app-2", node: "vm-2", unix: { uid: 1000 }, spiffeIdPath: "/vm/app-2" },
      { name: "app-3", node: "vm-1", unix: { uid: 1001, gid: 50 }, spiffeIdPath: "/vm/app-3" },
      { name: "app-4", node: "vm-1", unix: { uid: 2000, path: "/bin/a" }, spiffeIdPath: "/vm/4" },
      { name: "app-5", node: "vm-1", unix: { uid: 2000, path: "/bin/b" }, spiffeIdPath: "/vm/5" },
    );
    expect(parseStackConfig(c).workloads).toHaveLength(7);
    // An exposure without nodes is allowed (and nodes need no workloads).
    const lonely = baseConfig();
    lonely.spire = { server: { exposure: { loadBalancer: true, address: "spire.example.net" } } };
    expect(parseStackConfig(lonely).spire.server.exposure?.mode).toBe("loadBalancer");
  });

  it("reports node problems together with every other problem", () => {
    const c = withNodes();
    c.clusterName = "Bad_Name";
    c.nodes[0].hostname = "x";
    c.workloads[2].node = "nope";
    expect(problemsOf(c)).toEqual([
      `${NS}clusterName: must be a DNS-1123 label`,
      `${NS}nodes[0].hostname: must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)`,
      `${NS}workloads[2].node: names no node in nodes (known: "vm-1", "vm-2")`,
    ]);
  });
});

describe("rules", () => {
  it("a DNS pattern admits exactly its hostname (SPIRE matches patterns anywhere)", () => {
    const host = "edge-1.vms.example.com";
    const pattern = dnsPatternFor(host);
    expect(pattern).toBe("^edge-1\\.vms\\.example\\.com$");
    expect(isAnchoredPattern(pattern)).toBe(true);
    expect(patternHostname(pattern)).toBe(host);
    // RE2 and JavaScript agree on this syntax; SPIRE uses FindAllStringSubmatch (unanchored).
    const re = new RegExp(pattern);
    expect(re.test(host)).toBe(true);
    for (const other of [
      "edge-1xvms.example.com",
      "edge-1.vms.example.com.evil.net",
      "xedge-1.vms.example.com",
      "edge-10.vms.example.com",
    ]) {
      expect(re.test(other), other).toBe(false);
      // The unanchored, unescaped pattern would have let most of them in.
    }
    expect(new RegExp(host).test("edge-1.vms.example.com.evil.net")).toBe(true);
    expect(patternHostname("^a\\$")).toBeUndefined();
    expect(patternHostname("a$")).toBeUndefined();
  });

  it("selectors overlap unless one kind is set to two values", () => {
    expect(unixSelectorsOverlap({ uid: 1 }, { uid: 2 })).toBe(false);
    expect(unixSelectorsOverlap({ uid: 1 }, { uid: 1, gid: 2 })).toBe(true);
    expect(unixSelectorsOverlap({ uid: 1 }, { user: "root" })).toBe(true);
    expect(unixSelectorsOverlap({ user: "a", path: "/x" }, { user: "a", path: "/y" })).toBe(false);
  });
});

/** One element of an HCL v1 block list (hcl-parser keeps every block as a list). */
function one(v: unknown): any {
  expect(Array.isArray(v) && v.length === 1, JSON.stringify(v)).toBe(true);
  return (v as unknown[])[0];
}

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

describe("the Nodes component's own checks", () => {
  const args = (): NodesArgs => ({
    trustDomain: "td.example.com",
    className: "c",
    server: { address: "spire.example.com", port: 443 },
    nodes: [{ name: "a", hostname: "a.example.com" }],
    workloads: [{ name: "w", node: "a", spiffeId: "spiffe://td.example.com/w", unix: { uid: 1 } }],
    trustBundlePem: "pem",
    ready: [],
  });

  it("accepts usable args and names every problem otherwise", () => {
    expect(nodesArgsProblems(args())).toEqual([]);
    const a = args();
    a.nodes.push({ name: "a", hostname: "a.example.com" });
    a.workloads.push({ name: "w", node: "b", spiffeId: "spiffe://td.example.com/x", unix: {} });
    expect(nodesArgsProblems(a)).toEqual([
      "node a is listed twice",
      "hostname a.example.com is listed twice",
      "workload w is listed twice",
      "workload w: node b is not listed",
      "workload w: no unix selector (uid, gid, user or path)",
    ]);
    // Both components refuse before registering anything.
    expect(() => new Nodes("n", a)).toThrow(
      "Nodes n: node a is listed twice; hostname a.example.com is listed twice; workload w is listed twice; workload w: node b is not listed; workload w: no unix selector (uid, gid, user or path)",
    );
    const m = parseStackConfig(withNodes());
    m.spire.server.exposure = undefined;
    expect(() => new SpireFederation("t", { model: m })).toThrow(
      "SpireFederation t: nodes need model.spire.server.exposure (agents reach the server through it)",
    );
  });
});

describe("relying parties cannot tell a node workload from a pod", () => {
  const SUB = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
  const grants = {
    vault: { policies: ["read"] },
    azure: {
      roleAssignments: [{ role: "Reader", scope: `/subscriptions/${SUB}/resourceGroups/rg` }],
    },
    gcp: { roles: [{ role: "roles/storage.objectViewer" }] },
    openziti: { roleAttributes: ["edge"] },
  };
  const config = (workload: Record<string, unknown>) => {
    const c = withNodes();
    c.workloads = [{ name: "edge-app", spiffeIdPath: "/edge/app", ...workload, ...grants }];
    c.vault = { policies: { read: 'path "secret/*" { capabilities = ["read"] }' } };
    c.azure = { resourceGroupName: "rg-x", location: "westeurope" };
    c.gcp = { project: "acme-edge-prod", projectNumber: "731640529817", poolId: "spiffe-edge" };
    c.openziti = {
      controllerUrl: "https://ziti.example.com:1280",
      username: "admin",
      password: "pw",
      jwt: true,
    };
    return c;
  };
  const run = async (workload: Record<string, unknown>) =>
    runRaw(config(workload), {
      secretKeys: ["openziti"],
      extraConfig: { "azure-native:subscriptionId": SUB },
      computed: await withRoot(),
    });

  it("gives both the same resources, inputs, edges and outputs in Vault, Azure, GCP and OpenZiti", async () => {
    const pod = await run({ namespace: "edge", serviceAccount: "app", podLabels: { app: "edge" } });
    const node = await run({ node: "vm-2", unix: { user: "app" } });
    const byUrn = (r: ProgramRun) => new Map(r.resources.map((x) => [x.urn, x.name]));
    const partyResources = (r: ProgramRun) => {
      const names = byUrn(r);
      return r.resources
        .filter(
          (x) =>
            /^(vault|azure-native|gcp|pulumi-nodejs:dynamic\/openziti|command):/.test(x.type) ||
            x.type.startsWith("spire-federation:federation:") ||
            x.name.startsWith("spire-federation-openziti-"),
        )
        .map((x) => ({
          type: x.type,
          name: x.name,
          parent: x.parent === null ? null : names.get(x.parent),
          inputs: x.inputs,
          dependencies: x.dependencies.map((d) => names.get(d)).sort(),
        }));
    };
    const p = partyResources(pod);
    // Every relying party is in the comparison.
    for (const prefix of ["vault:", "azure-native:", "gcp:", "pulumi-nodejs:dynamic/openziti:"]) {
      expect(
        p.some((x) => x.type.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    expect(p.length).toBeGreaterThan(15);
    expect(partyResources(node)).toEqual(p);
    expect(node.outputs.federation).toEqual(pod.outputs.federation);
    expect(node.outputs.workloads).toEqual({ "edge-app": "spiffe://test.example.com/edge/app" });
    expect(pod.outputs.workloads).toEqual(node.outputs.workloads);
    // Only the registration differs: a ClusterSPIFFEID for the pod, a ClusterStaticEntry for the node.
    expect(all(pod, CSID).map((r) => r.name)).toEqual(["spire-federation-spire-id-edge-app"]);
    expect(all(pod, ENTRY)).toEqual([]);
    expect(all(node, CSID)).toEqual([]);
    expect(all(node, ENTRY).map((r) => r.name)).toEqual(["spire-federation-nodes-entry-edge-app"]);
  });
});
