/**
 * `spire-federation:nodes`, `spire.server.exposure` and the node half of `workloads[i]`
 * (`node`, `unix`): the schemas and their cross-field rules. `config.ts` calls these; every
 * problem is reported with its key path, none stops the others from being found.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { dnsLabel, dnsSubdomain, hostName, ruled } from "../config-fields";
import type { NodeModel, ServerExposure, UnixSelectors } from "../model";
import {
  nodeHostnameProblem,
  unixPathProblem,
  unixSelectorsOverlap,
  unixUserProblem,
} from "./rules";

/** A key path below `spire-federation:`. */
type KeyPath = readonly PropertyKey[];

/** How the core lets this module report and parse. */
export interface NodesContext {
  /** Reports a problem at a key path. */
  report(path: KeyPath, message: string): void;
  /** Parses a value, reporting each issue below the path; undefined when invalid. */
  parse<T>(schema: z.ZodType<T>, value: unknown, path: KeyPath): T | undefined;
}

const POSIX_ID = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(0, { error: "must be 0 or more" })
  .max(4294967294, { error: "must be at most 4294967294" });

/** Schema of `workloads[i].unix`: the `unix` workload attestor's selectors. */
export const unixSchema = z
  .strictObject({
    uid: POSIX_ID.optional(),
    gid: POSIX_ID.optional(),
    user: ruled(unixUserProblem).optional(),
    path: ruled(unixPathProblem).optional(),
  })
  .refine((u) => Object.values(u).some((v) => v !== undefined), {
    error:
      "must set at least one of uid, gid, user or path; they are the only selectors of the workload's processes",
  });

/** The node half of a workload's schema (`config.ts` spreads it into the workload's). */
export const nodeWorkloadShape = {
  node: dnsLabel.optional(),
  unix: unixSchema.optional(),
};

/** Schema of `nodes[].hostname`: a DNS name within DNS's limits, not an IP address. */
export const nodeHostname = ruled(nodeHostnameProblem);

/** Schema of one entry of `nodes`. */
export const nodeSchema = z.strictObject({
  name: dnsLabel,
  hostname: nodeHostname,
  attestation: z
    .enum(["httpChallenge", "joinToken"], { error: "must be httpChallenge or joinToken" })
    .optional(),
});

/** Schema of `spire-federation:nodes`. */
export const nodesSchema = z.array(z.unknown(), { error: "must be a list of nodes" });

const serverAddress = z.string().refine((s) => isIP(s) !== 0 || hostName.safeParse(s).success, {
  error: "must be a DNS name (with a dot) or an IP address",
});

/** Schema of `spire.server.exposure`. */
export const serverExposureSchema = z
  .strictObject({
    host: hostName.optional(),
    ingressClassName: dnsSubdomain.optional(),
    loadBalancer: z.literal(true, { error: "must be true" }).optional(),
    address: serverAddress.optional(),
  })
  .superRefine((e, ctx) => {
    const ingress = e.host !== undefined || e.ingressClassName !== undefined;
    const lb = e.loadBalancer !== undefined || e.address !== undefined;
    const forms =
      "host and ingressClassName (an ingress with TLS passthrough), or loadBalancer: true and address";
    if (ingress === lb) {
      ctx.addIssue({
        code: "custom",
        message: `must set ${ingress ? "either " : ""}${forms}${ingress ? " (found both)" : ""}`,
      });
    } else if (ingress) {
      if (e.host === undefined) {
        ctx.addIssue({ code: "custom", path: ["host"], message: "required with ingressClassName" });
      }
      if (e.ingressClassName === undefined) {
        ctx.addIssue({ code: "custom", path: ["ingressClassName"], message: "required with host" });
      }
    } else {
      if (e.loadBalancer === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["loadBalancer"],
          message: "must be true with address",
        });
      }
      if (e.address === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["address"],
          message:
            "required with loadBalancer; it is the server_address of every agent, and Pulumi cannot read the load balancer's address before the chart has created the Service: point a DNS name at the load balancer (or reserve its IP) and set it here",
        });
      }
    }
  });

/** Schema of `spire.server`. */
export const spireServerSchema = z.strictObject({ exposure: serverExposureSchema.optional() });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Where each parsed node stands in the raw `nodes` list (for key paths of later checks). */
const nodeIndex = new WeakMap<NodeModel, number>();

/**
 * Parses `nodes` entry by entry: names and hostnames unique, `joinToken` refused with its
 * reason. Returns the valid nodes and the names a workload may refer to (every entry's valid
 * name, so that one bad node does not make its workloads' `node` an error too).
 */
export function parseNodes(
  raw: unknown,
  ctx: NodesContext,
): { nodes: NodeModel[]; names: ReadonlySet<string> | undefined } {
  if (raw === undefined) return { nodes: [], names: new Set() };
  const list = ctx.parse(nodesSchema, raw, ["nodes"]);
  if (list === undefined) return { nodes: [], names: undefined };
  const nodes: NodeModel[] = [];
  const names = new Map<string, number>();
  const hostnames = new Map<string, number>();
  list.forEach((entry, i) => {
    const name = dnsLabel.safeParse(isRecord(entry) ? entry.name : undefined);
    if (name.success) {
      const seen = names.get(name.data);
      if (seen !== undefined) {
        ctx.report(["nodes", i, "name"], `duplicates nodes[${seen}].name "${name.data}"`);
      }
      names.set(name.data, seen ?? i);
    }
    const hostname = nodeHostname.safeParse(isRecord(entry) ? entry.hostname : undefined);
    if (hostname.success) {
      const seen = hostnames.get(hostname.data);
      if (seen !== undefined) {
        ctx.report(
          ["nodes", i, "hostname"],
          `duplicates nodes[${seen}].hostname "${hostname.data}"; a hostname attests one agent (its SPIFFE ID is made from the hostname)`,
        );
      }
      hostnames.set(hostname.data, seen ?? i);
    }
    const node = ctx.parse(nodeSchema, entry, ["nodes", i]);
    if (node === undefined) return;
    if (node.attestation === "joinToken") {
      ctx.report(
        ["nodes", i, "attestation"],
        "joinToken is not supported; SPIRE creates join tokens only through its admin API (a unix socket inside the server pod), which no declarative resource reaches without kubectl or an admin SVID on the operator's machine: use httpChallenge",
      );
      return;
    }
    const model: NodeModel = {
      name: node.name,
      hostname: node.hostname,
      attestation: "httpChallenge",
    };
    nodeIndex.set(model, i);
    nodes.push(model);
  });
  return { nodes, names: new Set(names.keys()) };
}

/** Where a workload runs, as its config says (before its SPIFFE ID is known). */
export type WorkloadPlacement =
  | { mode: "pod"; namespace: string; serviceAccount: string; podLabels: Record<string, string> }
  | { mode: "node"; node: string; unix: UnixSelectors };

const POD_KEYS = ["namespace", "serviceAccount", "podLabels"] as const;

/**
 * Reports what makes a workload neither a pod workload (`namespace` + `serviceAccount`) nor a
 * node workload (`node` + `unix` + `spiffeIdPath`), from the raw entry so that these problems
 * show even when another field is invalid; returns the placement when `parsed` is valid.
 */
export function workloadPlacement(
  entry: unknown,
  index: number,
  parsed:
    | {
        namespace?: string;
        serviceAccount?: string;
        podLabels?: Record<string, string>;
        node?: string;
        unix?: UnixSelectors;
      }
    | undefined,
  nodeNames: ReadonlySet<string> | undefined,
  ctx: Pick<NodesContext, "report">,
): WorkloadPlacement | undefined {
  const raw = isRecord(entry) ? entry : {};
  const at = (key: string): KeyPath => ["workloads", index, key];
  if (raw.node === undefined && raw.unix === undefined) {
    let complete = true;
    for (const key of ["namespace", "serviceAccount"] as const) {
      if (raw[key] === undefined) {
        ctx.report(at(key), "required");
        complete = false;
      }
    }
    if (!complete || parsed?.namespace === undefined || parsed.serviceAccount === undefined) {
      return undefined;
    }
    return {
      mode: "pod",
      namespace: parsed.namespace,
      serviceAccount: parsed.serviceAccount,
      podLabels: parsed.podLabels ?? {},
    };
  }
  let complete = true;
  for (const key of POD_KEYS) {
    if (raw[key] !== undefined) {
      ctx.report(
        at(key),
        "must not be set on a node workload; a workload runs either in pods (namespace, serviceAccount, podLabels) or on a node (node, unix)",
      );
      complete = false;
    }
  }
  if (raw.node === undefined) {
    ctx.report(
      at("node"),
      "required with unix: the node (in nodes) whose agent attests the workload",
    );
    complete = false;
  } else if (typeof raw.node === "string" && nodeNames !== undefined && !nodeNames.has(raw.node)) {
    const known = [...nodeNames].map((n) => `"${n}"`).join(", ");
    ctx.report(
      at("node"),
      `names no node in nodes (${known === "" ? "none is listed" : `known: ${known}`})`,
    );
    complete = false;
  }
  if (raw.unix === undefined) {
    ctx.report(
      at("unix"),
      "required with node: the unix selectors (uid, gid, user, path) that pick the workload's processes",
    );
    complete = false;
  }
  if (raw.spiffeIdPath === undefined) {
    ctx.report(
      at("spiffeIdPath"),
      "required with node; only a pod workload has a default (/ns/<namespace>/sa/<serviceAccount>)",
    );
    complete = false;
  }
  if (!complete || parsed?.node === undefined || parsed.unix === undefined) return undefined;
  return { mode: "node", node: parsed.node, unix: parsed.unix };
}

/**
 * Cross-field rules of nodes and the server's exposure: agents need an exposure, an ingress must
 * pass TLS through and have its own host, and no two workloads of a node select one process.
 */
export function checkNodes(
  input: {
    nodes: readonly NodeModel[];
    /** The raw `spire.server` value (its exposure is checked on its own). */
    server: unknown;
    oidc: { host?: string; ingressControllerType?: string };
    nodeWorkloads: readonly { index: number; node: string; unix: UnixSelectors }[];
  },
  ctx: Pick<NodesContext, "report">,
): void {
  const { oidc } = input;
  const at: KeyPath = ["spire", "server", "exposure"];
  const raw = isRecord(input.server) ? input.server.exposure : undefined;
  const parsed = serverExposureSchema.safeParse(raw);
  const exposure = parsed.success ? parsed.data : undefined;
  if (input.nodes.length > 0 && raw === undefined) {
    ctx.report(
      at,
      "required when nodes are listed; agents outside the cluster reach the SPIRE server through it: set host and ingressClassName, or loadBalancer: true and address",
    );
  }
  if (exposure?.host !== undefined) {
    if (exposure.host === oidc.host) {
      ctx.report(
        [...at, "host"],
        `must differ from oidc.host (${oidc.host}); an ingress routes a whole host, and agents must reach the SPIRE server, not the discovery provider`,
      );
    }
    const type = oidc.ingressControllerType ?? "ingress-nginx";
    if (type !== "ingress-nginx" && type !== "openshift") {
      ctx.report(
        at,
        `an ingress needs TLS passthrough, which the chart sets up for ingress-nginx and openshift only (oidc.ingressControllerType is ${type}); agents authenticate the server by its SPIFFE ID over mTLS, so the ingress must not terminate TLS: use loadBalancer: true and address`,
      );
    }
  }
  // The cluster's own hosts: port 80 of an ingress host reaches the ingress controller, where
  // any namespace allowed to add an Ingress rule for that host could answer the challenge.
  const served: [string | undefined, string][] = [
    [oidc.host, "oidc.host, the discovery provider's ingress"],
    [exposure?.host, "spire.server.exposure.host, the SPIRE server's ingress"],
    [exposure?.address, "spire.server.exposure.address, the SPIRE server's load balancer"],
  ];
  input.nodes.forEach((node, i) => {
    const clash = served.find(([host]) => host === node.hostname);
    if (clash === undefined) return;
    ctx.report(
      ["nodes", nodeIndex.get(node) ?? i, "hostname"],
      `must not be ${clash[1]} (${node.hostname}); the SPIRE server fetches the challenge from http://${node.hostname}:80, which reaches the cluster's ingress or load balancer instead of the node, so whoever can route that path there can attest as the node: give the node its own DNS name`,
    );
  });
  input.nodeWorkloads.forEach((w, i) => {
    const other = input.nodeWorkloads
      .slice(0, i)
      .find((o) => o.node === w.node && unixSelectorsOverlap(o.unix, w.unix));
    if (other !== undefined) {
      ctx.report(
        ["workloads", w.index, "unix"],
        `can select the same processes on node "${w.node}" as workloads[${other.index}].unix; such a process would get both SPIFFE IDs: give one of them a uid, gid, user or path the other does not match`,
      );
    }
  });
}

/** The exposure as the model holds it. */
export function exposureModel(
  e: z.output<typeof serverExposureSchema> | undefined,
): ServerExposure | undefined {
  if (e?.host !== undefined && e.ingressClassName !== undefined) {
    return { mode: "ingress", host: e.host, ingressClassName: e.ingressClassName };
  }
  if (e?.address !== undefined) return { mode: "loadBalancer", address: e.address };
  return undefined;
}
