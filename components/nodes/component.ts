/**
 * Machines outside Kubernetes in the trust domain: one ClusterStaticEntry per node workload, and
 * per node the files its SPIRE agent needs.
 *
 * What SPIRE enforces, and how this component meets it:
 * - the controller manager reconciles a ClusterStaticEntry only when its `className` equals its
 *   own (the chart's `controllerManager.className`, which the stack sets): every entry carries it;
 * - an entry's `parentID` must be the attesting agent's SPIFFE ID: for `http_challenge` it is
 *   `spiffe://<td>/spire/agent/http_challenge/<hostname>`, and the agent's configuration sets
 *   that same hostname (never the machine's own idea of it);
 * - selectors are a conjunction (`unix:uid:…`, `unix:user:…`, `unix:gid:…`, `unix:path:…`) and
 *   at least one is needed: an entry without selectors is invalid;
 * - the controller manager's webhook and reconciler exist only once the spire release is ready:
 *   every entry waits on it (`ready`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rejectProblems } from "../federation/args";
import type { UnixSelectors } from "../model";
import { agentConfigHcl, agentSystemdUnit } from "./agent";
import { agentSpiffeId, NODE_PATHS, nodeHostnameProblem, unixSelectors } from "./rules";

/** One node: a machine that runs a SPIRE agent. */
export interface NodeArgs {
  /** Unique name (resource and output names). */
  name: string;
  /** Its DNS name, attested by `http_challenge`. */
  hostname: string;
}

/** One workload whose processes run on a node. */
export interface NodeWorkloadArgs {
  /** Unique workload name (entry name and hint). */
  name: string;
  /** The node it runs on (a {@link NodeArgs.name}). */
  node: string;
  /** The SPIFFE ID to issue. */
  spiffeId: string;
  /** Selectors of the node's `unix` workload attestor; at least one. */
  unix: UnixSelectors;
}

/** Arguments of {@link Nodes}. */
export interface NodesArgs {
  /** The trust domain. */
  trustDomain: string;
  /** The controller manager's class; every ClusterStaticEntry carries it. */
  className: string;
  /** The SPIRE server as nodes reach it: DNS name or IP address, and port. */
  server: { address: string; port: number };
  /** The nodes. */
  nodes: NodeArgs[];
  /** The workloads that run on them. */
  workloads: NodeWorkloadArgs[];
  /** PEM of the stable root: each agent's bootstrap trust bundle (an Output of the root of trust). */
  trustBundlePem: pulumi.Input<string>;
  /** What the entries wait on: the spire release (its controller manager reconciles them). */
  ready: pulumi.Input<pulumi.Resource>[];
}

/** What a node workload's processes use (the spiffe-helper configuration builds on this). */
export interface NodeWorkloadOutput {
  /** The node it runs on. */
  node: string;
  /** Its SPIFFE ID. */
  spiffeId: string;
  /** The selectors of its entry. */
  selectors: string[];
  /** The agent's Workload API socket on the node. */
  agentSocketPath: string;
}

/** What the operator puts on one node. */
export interface NodeAgentOutput {
  /** The node's DNS name. */
  hostname: string;
  /** The SPIFFE ID its agent gets. */
  agentSpiffeId: string;
  /**
   * The files, by absolute path on the node: the agent configuration, the bootstrap trust bundle
   * and the systemd unit.
   */
  files: Record<string, pulumi.Input<string>>;
  /** The workloads that run on it, by name. */
  workloads: Record<string, NodeWorkloadOutput>;
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function nodesArgsProblems(args: NodesArgs): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const hostnames = new Set<string>();
  for (const n of args.nodes) {
    if (names.has(n.name)) problems.push(`node ${n.name} is listed twice`);
    if (hostnames.has(n.hostname)) problems.push(`hostname ${n.hostname} is listed twice`);
    const bad = nodeHostnameProblem(n.hostname);
    if (bad !== undefined) problems.push(`node ${n.name}: hostname ${bad}`);
    names.add(n.name);
    hostnames.add(n.hostname);
  }
  const workloads = new Set<string>();
  for (const w of args.workloads) {
    if (workloads.has(w.name)) problems.push(`workload ${w.name} is listed twice`);
    workloads.add(w.name);
    if (!names.has(w.node)) problems.push(`workload ${w.name}: node ${w.node} is not listed`);
    if (unixSelectors(w.unix).length === 0) {
      problems.push(`workload ${w.name}: no unix selector (uid, gid, user or path)`);
    }
  }
  return problems;
}

/** The ClusterStaticEntry spec of one node workload (validated in tests against the CRD schema). */
export function clusterStaticEntrySpec(
  w: NodeWorkloadArgs,
  node: NodeArgs,
  trustDomain: string,
  className: string,
): Record<string, unknown> {
  return {
    className,
    hint: w.name,
    spiffeID: w.spiffeId,
    parentID: agentSpiffeId(trustDomain, node.hostname),
    selectors: unixSelectors(w.unix),
  };
}

/** Entries for workloads on nodes outside Kubernetes, and each node's agent files. */
export class Nodes extends pulumi.ComponentResource {
  /** One ClusterStaticEntry per node workload, by workload name. */
  readonly staticEntries: Record<string, k8s.apiextensions.CustomResource>;
  /** What the operator puts on each node, by node name. */
  readonly agents: Record<string, NodeAgentOutput>;
  /** Each node workload, by workload name. */
  readonly workloads: Record<string, NodeWorkloadOutput>;

  constructor(name: string, args: NodesArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("Nodes", name, nodesArgsProblems(args));
    super("spire-federation:index:Nodes", name, {}, opts);

    const byName = new Map(args.nodes.map((n) => [n.name, n]));
    this.staticEntries = {};
    this.workloads = {};
    for (const w of args.workloads) {
      const node = byName.get(w.node) as NodeArgs;
      const spec = clusterStaticEntrySpec(w, node, args.trustDomain, args.className);
      this.staticEntries[w.name] = new k8s.apiextensions.CustomResource(
        `${name}-entry-${w.name}`,
        {
          apiVersion: "spire.spiffe.io/v1alpha1",
          kind: "ClusterStaticEntry",
          metadata: { name: `spire-federation-${w.name}` },
          spec,
        },
        { parent: this, dependsOn: args.ready },
      );
      this.workloads[w.name] = {
        node: w.node,
        spiffeId: w.spiffeId,
        selectors: spec.selectors as string[],
        agentSocketPath: NODE_PATHS.socket,
      };
    }

    this.agents = {};
    for (const n of args.nodes) {
      const config = { nodeName: n.name, hostname: n.hostname, trustDomain: args.trustDomain };
      this.agents[n.name] = {
        hostname: n.hostname,
        agentSpiffeId: agentSpiffeId(args.trustDomain, n.hostname),
        files: {
          [NODE_PATHS.agentConfig]: agentConfigHcl({
            ...config,
            serverAddress: args.server.address,
            serverPort: args.server.port,
          }),
          [NODE_PATHS.trustBundle]: args.trustBundlePem,
          [NODE_PATHS.systemdUnit]: agentSystemdUnit(config),
        },
        workloads: Object.fromEntries(
          args.workloads
            .filter((w) => w.node === n.name)
            .map((w) => [w.name, this.workloads[w.name]]),
        ),
      };
    }
    this.registerOutputs({});
  }
}
