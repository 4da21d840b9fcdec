/**
 * Machines outside Kubernetes, their config: nodes, the server's exposure, node workloads,
 * the chart values they set; the rules, and the Nodes component's own checks of its args.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  dnsPatternFor,
  isAnchoredPattern,
  patternHostname,
  Nodes,
  nodesArgsProblems,
  unixSelectorsOverlap,
  type NodesArgs,
} from "../../components/nodes/index";
import { SpireFederation } from "../../components/stack";
import { baseConfig } from "../fixtures";
import { problemsOf, withNodes } from "../support/stack-fixtures";

const NS = "spire-federation:";

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
