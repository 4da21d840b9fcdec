/**
 * CrossGuard rules for SPIRE-to-SPIRE federation: the peers (ClusterFederatedTrustDomains), the
 * workloads that federate (ClusterSPIFFEIDs' `federatesWith`), and this trust domain's bundle
 * endpoint (the spire release's `spire-server.federation`). Part of the core rules
 * (`core-policies.ts`). Values unknown during a preview are `undefined`; rules stay silent on them.
 */
import type { Policy } from "../federation/contract";
import { parseDuration } from "../duration";
import {
  CORE_TYPES,
  isSpireRelease,
  obj,
  resourcePolicy,
  spireReleasePolicy,
  str,
  waitsOnSpirePolicy,
  type Props,
} from "../policy-kit";
import type { PolicyResource } from "../policy-types";
import {
  DEFAULT_REFRESH_HINT,
  endpointSpiffeIdProblem,
  MIN_CA_TTL_PER_REFRESH_HINT,
  REFRESH_HINT_RULE,
} from "./rules";

/** Type tokens of the resources these rules look at. */
export const SPIRE_FEDERATION_TYPES = {
  clusterFederatedTrustDomain: "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain",
} as const;

const CFTD = SPIRE_FEDERATION_TYPES.clusterFederatedTrustDomain;

/** The chart's bundle endpoint settings of a spire release, with the chart's defaults. */
export function bundleEndpointSettings(props: Props) {
  const values = obj(props.values);
  const server = obj(values["spire-server"]);
  const f = obj(server.federation);
  const tls = obj(f.tls);
  const ingress = obj(f.ingress);
  const certManager = obj(tls.certManager);
  const externalSecret = obj(tls.externalSecret);
  const global = obj(obj(values.global).spire);
  const issuerRef = obj(obj(certManager.certificate).issuerRef);
  return {
    enabled: f.enabled === true,
    refreshHint: str(obj(f.bundleEndpoint).refreshHint) ?? DEFAULT_REFRESH_HINT,
    caTTL: str(server.caTTL) ?? "24h",
    // The chart serves https_spiffe unless cert-manager or an external secret is enabled.
    httpsSpiffe: obj(tls.spire).enabled !== false,
    certManager: certManager.enabled === true,
    acmeEmail: str(obj(obj(certManager.issuer).acme).email),
    issuerCreate: obj(certManager.issuer).create !== false,
    issuerRefName: str(issuerRef.name),
    externalSecret: externalSecret.enabled === true,
    secretName: str(externalSecret.secretName),
    ingress: ingress.enabled === true,
    // spire-lib.ingress-controller-type: the global type wins, then the ingress's own, else other.
    controllerType: str(global.ingressControllerType) || str(ingress.controllerType) || "other",
    className: str(obj(server.controllerManager).className),
  };
}

/** The spec of a ClusterFederatedTrustDomain. */
function cftdSpec(props: Props) {
  const spec = obj(props.spec);
  const profile = obj(spec.bundleEndpointProfile);
  return {
    spec,
    trustDomain: str(spec.trustDomain),
    type: str(profile.type),
    endpointSpiffeId: profile.endpointSPIFFEID,
    hasEndpointSpiffeId: "endpointSPIFFEID" in profile,
    className: spec.className,
  };
}

const peers = (resources: readonly PolicyResource[]) => resources.filter((r) => r.type === CFTD);
const spireReleases = (resources: readonly PolicyResource[]) =>
  resources.filter((r) => isSpireRelease(r.type, r.props));

/** The rules. */
export const spireFederationPolicies: Policy[] = [
  {
    name: "spire-peer-not-self",
    description:
      "No ClusterFederatedTrustDomain names the stack's own trust domain (a trust domain does not federate with itself).",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      const own = spireReleases(args.resources).map(
        (r) => str(obj(obj(obj(r.props.values).global).spire).trustDomain) ?? "example.org",
      );
      for (const r of peers(args.resources)) {
        const td = cftdSpec(r.props).trustDomain;
        if (td !== undefined && own.includes(td)) {
          report(
            `${r.name}: spec.trustDomain ${td} is this stack's own trust domain; a trust domain does not federate with itself: remove the peer`,
            r.urn,
          );
        }
      }
    },
  },
  {
    name: "spire-peers-unique",
    description: "Each peer trust domain has one ClusterFederatedTrustDomain.",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      const seen = new Map<string, string>();
      for (const r of peers(args.resources)) {
        const td = cftdSpec(r.props).trustDomain;
        if (td === undefined) continue;
        const first = seen.get(td);
        if (first !== undefined) {
          report(
            `${r.name}: spec.trustDomain ${td} is also the peer of ${first}; SPIRE keeps one federation relationship per trust domain and the two would overwrite each other: keep one`,
            r.urn,
          );
        } else seen.set(td, r.name);
      }
    },
  },
  resourcePolicy({
    name: "spire-peer-bootstrap",
    description:
      "An https_spiffe peer has a bootstrap bundle and an endpoint SPIFFE ID in its own trust domain; an https_web peer has no endpoint SPIFFE ID.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [CFTD],
    check: (props, _args, report) => {
      const s = cftdSpec(props);
      if (s.trustDomain === undefined) return;
      if (s.type === "https_spiffe") {
        if (!("trustDomainBundle" in s.spec) || s.spec.trustDomainBundle === "") {
          report(
            `spec.trustDomainBundle is missing for https_spiffe peer ${s.trustDomain}: SPIRE authenticates the peer's endpoint with the peer's bundle, so the first fetch fails; set the peer's bundle (or read it from the peer's stack)`,
          );
        }
        if (typeof s.endpointSpiffeId === "string") {
          const problem = endpointSpiffeIdProblem(s.endpointSpiffeId, s.trustDomain);
          if (problem !== undefined) {
            report(`spec.bundleEndpointProfile.endpointSPIFFEID ${problem}`);
          }
        } else if (!s.hasEndpointSpiffeId) {
          report(
            `spec.bundleEndpointProfile.endpointSPIFFEID is missing for https_spiffe peer ${s.trustDomain}; the controller manager refuses the object: set it (default spiffe://${s.trustDomain}/spire/server)`,
          );
        }
      } else if (s.type === "https_web" && s.hasEndpointSpiffeId) {
        report(
          "spec.bundleEndpointProfile.endpointSPIFFEID is set for an https_web peer; the controller manager refuses it: remove it",
        );
      }
    },
  }),
  {
    name: "spire-peer-class",
    description:
      "Every ClusterFederatedTrustDomain carries the controller manager's className (else no controller reconciles it).",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      const classes = spireReleases(args.resources).map(
        (r) => bundleEndpointSettings(r.props).className,
      );
      if (classes.length === 0) return;
      for (const r of peers(args.resources)) {
        const c = cftdSpec(r.props).className;
        if (c === undefined) continue; // unknown during a preview
        if (typeof c !== "string" || !classes.includes(c)) {
          report(
            `${r.name}: spec.className ${JSON.stringify(c)} is not the controller manager's class ${JSON.stringify(classes[0])}; no controller reconciles it and the peer is never federated: set it`,
            r.urn,
          );
        }
      }
    },
  },
  {
    name: "spire-federates-with-peer",
    description:
      "Every trust domain a ClusterSPIFFEID federates with has a ClusterFederatedTrustDomain in the stack.",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      const known = new Set(
        peers(args.resources).flatMap((r) => cftdSpec(r.props).trustDomain ?? []),
      );
      for (const r of args.resources) {
        if (r.type !== CORE_TYPES.clusterSpiffeId) continue;
        const list = obj(r.props.spec).federatesWith;
        if (!Array.isArray(list)) continue;
        for (const td of list) {
          if (typeof td === "string" && !known.has(td)) {
            report(
              `${r.name}: federatesWith ${td} has no ClusterFederatedTrustDomain; SPIRE has no bundle of ${td}, so the workload's entry is refused or never gets it: add the peer or remove it`,
              r.urn,
            );
          }
        }
      }
    },
  },
  spireReleasePolicy({
    name: "spire-bundle-endpoint-refresh-hint",
    description: `The bundle endpoint's refreshHint is at most a third of caTTL (${REFRESH_HINT_RULE}).`,
    severity: "medium",
    enforcementLevel: "mandatory",
    check: (_s, args, report) => {
      const e = bundleEndpointSettings(args.props);
      if (!e.enabled) return;
      const hint = parseDuration(e.refreshHint);
      const ttl = parseDuration(e.caTTL);
      if (hint === undefined || ttl === undefined) return;
      if (ttl < MIN_CA_TTL_PER_REFRESH_HINT * hint) {
        report(
          `spire-server.federation.bundleEndpoint.refreshHint ${e.refreshHint} is more than a third of caTTL ${e.caTTL}; ${REFRESH_HINT_RULE}: lower the hint or raise caTTL`,
        );
      }
    },
  }),
  spireReleasePolicy({
    name: "spire-bundle-endpoint-exposure",
    description:
      "The bundle endpoint's ingress passes TLS through to the SPIRE server (https_spiffe: peers check its SVID), and an https_web endpoint has a publicly trusted certificate (ACME or an existing Secret).",
    severity: "high",
    enforcementLevel: "mandatory",
    check: (_s, args, report) => {
      const e = bundleEndpointSettings(args.props);
      if (!e.enabled) return;
      if (e.httpsSpiffe) {
        if (e.ingress && !["ingress-nginx", "openshift"].includes(e.controllerType)) {
          report(
            `the https_spiffe bundle endpoint's ingress (controller type ${e.controllerType}) gets no TLS passthrough: peers would see the ingress's certificate instead of the SPIRE server's SVID and refuse it; use ingress-nginx or openshift (the chart annotates both for passthrough)`,
          );
        }
        return;
      }
      if (e.certManager) {
        if (e.issuerCreate && !e.acmeEmail && !e.issuerRefName) {
          report(
            "the https_web bundle endpoint's cert-manager issuer has no ACME email; the chart's ACME issuer cannot register, so no public certificate is issued: set tls.certManager.issuer.acme.email",
          );
        }
      } else if (e.externalSecret) {
        if (!e.secretName) {
          report(
            "the https_web bundle endpoint's external secret has no secretName; the server has no certificate to serve: name the TLS Secret",
          );
        }
      } else {
        report(
          "the https_web bundle endpoint has no certificate source; peers check it against public roots: enable tls.certManager (ACME) or tls.externalSecret",
        );
      }
    },
  }),
  waitsOnSpirePolicy({
    name: "spire-peer-waits-on-spire",
    description:
      "Every ClusterFederatedTrustDomain waits on the SPIRE release (its webhook rejects them before that).",
    type: CFTD,
  }),
];
