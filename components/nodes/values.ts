/**
 * The spire chart values (under `spire-server`) that let agents outside the cluster in: the
 * `http_challenge` node attestor limited to the listed hostnames, and the server's exposure. Every
 * key exists in chart spire 0.30.0 (test/nodes.test.ts checks them against the chart's key list).
 */
import { isIP } from "node:net";
import type { ServerExposure } from "../model";
import { dnsPatternFor, HTTP_CHALLENGE_PORT } from "./rules";

/** What the server needs to know about agents outside the cluster. */
export interface NodesServerValuesArgs {
  /** Hostnames of the nodes that attest with `http_challenge`; empty: the attestor stays off. */
  hostnames: string[];
  /** How those agents reach the server; undefined: the server stays in-cluster only. */
  exposure?: ServerExposure;
}

/**
 * The `spire-server` values for agents outside the cluster (empty when there are none).
 * - `http_challenge`: `allowedDNSPatterns` admits exactly the listed hostnames (anchored,
 *   escaped: SPIRE matches unanchored); `requiredPort` 80 with `allowNonRootPorts` false, so that
 *   only root on a listed host can answer the challenge; `tofu` false, so that a node offline
 *   longer than its agent SVID re-attests instead of being locked out (components/nodes/README.md).
 * - ingress: the chart adds the TLS-passthrough annotations for `global.spire.ingressControllerType`
 *   ingress-nginx or openshift (the config refuses others): agents authenticate the server by its
 *   SPIFFE ID over mTLS, which a terminating ingress would break.
 * - load balancer: the server's Service (port 443 → grpc) as type LoadBalancer; an IP address
 *   is asked of the load balancer as `service.loadBalancerIP` (the chart renders it only with
 *   type LoadBalancer), so agents dialling that address reach the server; a DNS name is pointed
 *   at whatever address the load balancer gets.
 */
export function nodesServerValues(
  args: NodesServerValuesArgs | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (args === undefined) return out;
  if (args.hostnames.length > 0) {
    out.nodeAttestor = {
      httpChallenge: {
        enabled: true,
        allowedDNSPatterns: args.hostnames.map(dnsPatternFor),
        requiredPort: HTTP_CHALLENGE_PORT,
        allowNonRootPorts: false,
        tofu: false,
      },
    };
  }
  const e = args.exposure;
  if (e?.mode === "ingress") {
    out.ingress = { enabled: true, className: e.ingressClassName, host: e.host };
  } else if (e?.mode === "loadBalancer") {
    out.service = {
      type: "LoadBalancer",
      ...(isIP(e.address) === 0 ? {} : { loadBalancerIP: e.address }),
    };
  }
  return out;
}
