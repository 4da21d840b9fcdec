/**
 * Nodes outside Kubernetes, issue 17 items 14, 16 and 17: re-attestation instead of TOFU, the
 * hostnames a node may not use, and the exact shape of each `allowedDNSPatterns` entry.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  dnsPatternFor,
  nodeHostnameProblem,
  nodesArgsProblems,
  nodesPolicies,
  nodesServerValues,
  patternHostname,
  type NodesArgs,
} from "../../components/nodes/index";
import { spireValues } from "../../components/spire";
import { spireValuesArgs } from "../../components/stack";
import { chartDefaults, chartValueKeys } from "../helpers";
import { problemsOf, withNodes, type RawConfig } from "../support/stack-fixtures";

const NS = "spire-federation:";
const HELM = "kubernetes:helm.sh/v3:Release";

describe("re-attestation (tofu false)", () => {
  it("turns TOFU off with port 80 required and non-root ports refused", () => {
    const v = spireValues(spireValuesArgs(parseStackConfig(withNodes()), "root")) as RawConfig;
    expect(v["spire-server"].nodeAttestor.httpChallenge).toEqual({
      enabled: true,
      allowedDNSPatterns: ["^vm-1\\.test\\.example\\.com$", "^vm-2\\.test\\.example\\.com$"],
      requiredPort: 80,
      allowNonRootPorts: false,
      tofu: false,
    });
  });

  it("sets a key the chart has, overriding its default true", () => {
    const key = "spire-server.nodeAttestor.httpChallenge.tofu";
    expect(chartValueKeys().get(key)).toBe("bool");
    expect(chartDefaults().get(key)).toBe("True");
    // SPIRE refuses tofu false unless only privileged ports answer (httpchallenge buildConfig):
    // requiredPort set below 1024, or allowNonRootPorts explicitly false.
    const hc = nodesServerValues({ hostnames: ["a.example.com"] }).nodeAttestor as RawConfig;
    expect(hc.httpChallenge.requiredPort).toBeLessThan(1024);
    expect(hc.httpChallenge.allowNonRootPorts).toBe(false);
  });

  it("leaves the attestor off without nodes", () => {
    expect(nodesServerValues({ hostnames: [] })).toEqual({});
  });
});

describe("node hostnames", () => {
  const cases: [string, (c: RawConfig) => void, string[]][] = [
    [
      "the OIDC host",
      (c) => (c.nodes[0].hostname = "oidc.test.example.com"),
      [
        `${NS}nodes[0].hostname: must not be oidc.host, the discovery provider's ingress (oidc.test.example.com); the SPIRE server fetches the challenge from http://oidc.test.example.com:80, which reaches the cluster's ingress or load balancer instead of the node, so whoever can route that path there can attest as the node: give the node its own DNS name`,
      ],
    ],
    [
      "the server's ingress host",
      (c) => (c.nodes[1].hostname = "spire.test.example.com"),
      [
        `${NS}nodes[1].hostname: must not be spire.server.exposure.host, the SPIRE server's ingress (spire.test.example.com); the SPIRE server fetches the challenge from http://spire.test.example.com:80, which reaches the cluster's ingress or load balancer instead of the node, so whoever can route that path there can attest as the node: give the node its own DNS name`,
      ],
    ],
    [
      "the server's load-balancer address",
      (c) => {
        c.spire.server.exposure = { loadBalancer: true, address: "spire-lb.test.example.com" };
        c.nodes[1].hostname = "spire-lb.test.example.com";
      },
      [
        `${NS}nodes[1].hostname: must not be spire.server.exposure.address, the SPIRE server's load balancer (spire-lb.test.example.com); the SPIRE server fetches the challenge from http://spire-lb.test.example.com:80, which reaches the cluster's ingress or load balancer instead of the node, so whoever can route that path there can attest as the node: give the node its own DNS name`,
      ],
    ],
    [
      "IP addresses, and a name resolvers read as one",
      (c) => {
        c.nodes[0].hostname = "10.0.0.7";
        c.nodes[1].hostname = "vm.10";
      },
      [0, 1].map(
        (i) =>
          `${NS}nodes[${i}].hostname: must be a DNS name, not an IP address; the agent's SPIFFE ID and the allowed pattern are made from it, and whoever holds the address next would answer the challenge`,
      ),
    ],
    [
      "a label over 63 characters",
      (c) => (c.nodes[0].hostname = `${"a".repeat(64)}.example.com`),
      [
        `${NS}nodes[0].hostname: has a label of 64 characters (aaaaaaaaaaaaaaaa…); DNS allows 63, so the server could never resolve it`,
      ],
    ],
    [
      "a name over 253 characters",
      (c) => (c.nodes[0].hostname = `${"abcdefghi.".repeat(25)}example.com`),
      [`${NS}nodes[0].hostname: must be at most 253 characters (a DNS name); it has 261`],
    ],
  ];
  it.each(cases)("rejects %s", (_what, mutate, expected) => {
    const c = withNodes();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("keeps the key path of the raw list when an earlier entry is invalid", () => {
    const c = withNodes();
    c.nodes.unshift({ name: "Bad Name", hostname: "vm-0.test.example.com" });
    c.nodes[2].hostname = "oidc.test.example.com";
    const problems = problemsOf(c);
    expect(problems[0]).toBe(`${NS}nodes[0].name: must be a DNS-1123 label`);
    expect(problems[1]).toMatch(/^spire-federation:nodes\[2\]\.hostname: must not be oidc\.host/);
    expect(problems).toHaveLength(2);
  });

  it("accepts the limits themselves", () => {
    const c = withNodes();
    c.nodes[0].hostname = `${"a".repeat(63)}.example.com`;
    c.nodes[1].hostname = `${"abcdefghi.".repeat(23)}abcdefghijk.example.com`;
    expect(c.nodes[1].hostname).toHaveLength(253);
    expect(() => parseStackConfig(c)).not.toThrow();
  });

  it("is checked by the Nodes component for direct users too", () => {
    const args: NodesArgs = {
      trustDomain: "td.example.com",
      className: "c",
      server: { address: "s.example.com", port: 443 },
      nodes: [{ name: "n", hostname: "192.168.1.4" }],
      workloads: [],
      trustBundlePem: "",
      ready: [],
    };
    expect(nodesArgsProblems(args)).toEqual([
      `node n: hostname ${nodeHostnameProblem("192.168.1.4")}`,
    ]);
  });
});

/** Calls `spire-http-challenge-hosts` on a spire release with these patterns. */
async function hostViolations(patterns: unknown[]): Promise<string[]> {
  const p = nodesPolicies.find((x) => x.name === "spire-http-challenge-hosts");
  const messages: string[] = [];
  const values = {
    "spire-server": {
      nodeAttestor: {
        httpChallenge: {
          enabled: true,
          allowedDNSPatterns: patterns,
          requiredPort: 80,
          allowNonRootPorts: false,
        },
      },
    },
  };
  const args = { type: HELM, props: { chart: "spire", values }, urn: "urn:x", name: "spire" };
  for (const v of [(p as ResourceValidationPolicy).validateResource].flat()) {
    await v?.(args as never, (m) => messages.push(m));
  }
  return messages;
}

describe("spire-http-challenge-hosts: exactly the generated shape", () => {
  const shape = (p: string) =>
    `allowedDNSPatterns entry ${JSON.stringify(p)} is not exactly ^<hostname with each dot escaped>$ (e.g. ^vm-1\\.example\\.com$): SPIRE matches it as a regexp, so an alternation, a wildcard or an unescaped dot lets hosts nobody listed attest; list one escaped hostname per pattern`;

  it("accepts what dnsPatternFor generates", async () => {
    const hosts = ["vm-1.example.com", "edge-2.vms.example.com", "ok"];
    expect(await hostViolations(hosts.map(dnsPatternFor))).toEqual([]);
    for (const h of hosts) expect(patternHostname(dnsPatternFor(h))).toBe(h);
  });

  it.each([
    "^a\\.b|.*$",
    "^.*\\.example\\.com$",
    "^vm-1.example.com$",
    "^vm-[0-9]+\\.example\\.com$",
    "^(vm-1)\\.example\\.com$",
    "^x|^vm-1\\.example\\.com$",
    "^VM-1\\.example\\.com$",
    "^$",
  ])("refuses %s, which admits other hosts or is no hostname", async (pattern) => {
    expect(await hostViolations([pattern])).toEqual([shape(pattern)]);
  });

  it("admits what it says: the bypass really matches a foreign host", () => {
    // Go's RE2 and JavaScript agree on this syntax; SPIRE matches with FindAllStringSubmatch.
    expect(new RegExp("^a\\.b|.*$").test("evil.example.net")).toBe(true);
    expect(new RegExp(dnsPatternFor("a.b")).test("evil.example.net")).toBe(false);
  });
});
