/**
 * CrossGuard rules for agents outside the cluster: who may attest with `http_challenge`, and the
 * order in which entries are created. Part of the core rules (`core-policies.ts`).
 */
import type { Policy } from "../federation/contract";
import { obj, spireReleasePolicy, waitsOnSpirePolicy } from "../policy-kit";
import { isAnchoredPattern, patternHostname } from "./rules";

/** Type tokens of the resources these rules look at. */
export const NODES_TYPES = {
  clusterStaticEntry: "kubernetes:spire.spiffe.io/v1alpha1:ClusterStaticEntry",
} as const;

/** The spire chart's `http_challenge` settings, with the chart's defaults. */
export function httpChallengeSettings(props: Record<string, unknown>) {
  const hc = obj(obj(obj(obj(props.values)["spire-server"]).nodeAttestor).httpChallenge);
  return {
    enabled: hc.enabled === true,
    patterns: Array.isArray(hc.allowedDNSPatterns) ? (hc.allowedDNSPatterns as unknown[]) : [],
    requiredPort: typeof hc.requiredPort === "number" ? hc.requiredPort : 0,
    allowNonRootPorts: hc.allowNonRootPorts !== false,
  };
}

/** The rules. */
export const nodesPolicies: Policy[] = [
  spireReleasePolicy({
    name: "spire-http-challenge-hosts",
    description:
      "The http_challenge node attestor admits listed hosts only: allowedDNSPatterns set, each exactly ^<escaped hostname>$ (SPIRE matches patterns anywhere in the hostname, and any other regexp admits hosts nobody listed).",
    severity: "high",
    enforcementLevel: "mandatory",
    check: (_s, args, report) => {
      const hc = httpChallengeSettings(args.props);
      if (!hc.enabled) return;
      if (hc.patterns.length === 0) {
        report(
          "http_challenge is enabled with no allowedDNSPatterns: any host the server can reach may attest as an agent; list the nodes' hostnames",
        );
      }
      for (const p of hc.patterns) {
        if (typeof p !== "string") continue;
        if (!isAnchoredPattern(p)) {
          report(
            `allowedDNSPatterns entry ${JSON.stringify(p)} is not anchored ^…$: SPIRE matches it anywhere in a hostname, so other hosts can attest; anchor it`,
          );
        } else if (patternHostname(p) === undefined) {
          report(
            `allowedDNSPatterns entry ${JSON.stringify(p)} is not exactly ^<hostname with each dot escaped>$ (e.g. ^vm-1\\.example\\.com$): SPIRE matches it as a regexp, so an alternation, a wildcard or an unescaped dot lets hosts nobody listed attest; list one escaped hostname per pattern`,
          );
        }
      }
    },
  }),
  spireReleasePolicy({
    name: "spire-http-challenge-root-port",
    description:
      "The http_challenge answer must come from a privileged port, so that only root on a listed host can attest its agent.",
    severity: "medium",
    enforcementLevel: "mandatory",
    check: (_s, args, report) => {
      const hc = httpChallengeSettings(args.props);
      if (!hc.enabled) return;
      const privileged = hc.requiredPort > 0 && hc.requiredPort < 1024;
      if (!privileged && hc.allowNonRootPorts) {
        report(
          `http_challenge accepts unprivileged ports (requiredPort ${hc.requiredPort || "unset"}, allowNonRootPorts true): any local user of a listed host can answer the challenge and take the node's identity; set requiredPort 80 and allowNonRootPorts false`,
        );
      }
    },
  }),
  waitsOnSpirePolicy({
    name: "static-entry-waits-on-spire",
    description:
      "Every ClusterStaticEntry waits on the SPIRE release (its controller manager reconciles them).",
    type: NODES_TYPES.clusterStaticEntry,
  }),
];
