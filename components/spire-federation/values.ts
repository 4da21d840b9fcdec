/**
 * The spire chart values of SPIRE-to-SPIRE federation: the server's bundle endpoint
 * (`spire-server.federation`) and, when Istio's proxies must trust the peers too, the agent's SDS
 * names (`spire-agent.sds`). Every key exists in the pinned chart 0.30.0 (test/spire-values.test.ts
 * checks the keys the stacks set against the chart's key list).
 *
 * Istio asks SDS for the validation context `ROOTCA` and the certificate `default`. SPIRE's SDS
 * (spiffe/spire `pkg/agent/endpoints/sdsv3/handler.go` `buildResponse`) answers a request for the
 * default bundle name with this trust domain's bundle only, and checks that name before the
 * all-bundles name: with the chart's defaults (`ROOTCA`, `ALL`) the proxies never see a peer's
 * bundle. So the default bundle name becomes a name nobody asks for (`null`) and the all-bundles
 * name `ROOTCA` (istio.io ops/integrations/spire, "Federation"). The chart renders `sds` only
 * with `sds.enabled: true` (charts/spire-agent/templates/configmap.yaml).
 */
import type { BundleEndpointModel } from "./schema";

/** The agent's SDS resource names for Istio's proxies when the mesh federates. */
export const ISTIO_FEDERATED_SDS = {
  enabled: true,
  defaultSVIDName: "default",
  defaultBundleName: "null",
  defaultAllBundlesName: "ROOTCA",
} as const;

/** What the federation values are made of. */
export interface FederationValuesArgs {
  /** This trust domain's bundle endpoint, when it publishes one. */
  bundleEndpoint?: Omit<BundleEndpointModel, "url" | "endpointSpiffeId">;
  /** Whether Istio's proxies must get the peers' bundles (Istio configured and peers listed). */
  istioSds: boolean;
}

function tlsValues(
  e: NonNullable<FederationValuesArgs["bundleEndpoint"]>,
): Record<string, unknown> {
  if (e.profile === "https_spiffe" || e.tls === undefined) {
    // The server serves its own SVID (profile https_spiffe), the ingress passes TLS through.
    return { spire: { enabled: true } };
  }
  if (e.tls.kind === "secret") {
    return {
      spire: { enabled: false },
      externalSecret: { enabled: true, secretName: e.tls.secretName },
    };
  }
  // The chart's ACME Issuer and Certificate (dnsNames default to the ingress host).
  return { spire: { enabled: false }, ...acmeCertManagerValues(e.tls, e.ingressClassName) };
}

/**
 * The spire chart's `tls.certManager` values (the discovery provider's and the bundle endpoint's
 * take the same shape): the chart creates an ACME Issuer and a Certificate, solved over HTTP-01
 * through the endpoint's own ingress class.
 */
export function acmeCertManagerValues(
  acme: { email: string; server: string },
  ingressClassName: string,
): Record<string, unknown> {
  return {
    certManager: {
      enabled: true,
      issuer: {
        create: true,
        acme: {
          email: acme.email,
          server: acme.server,
          solvers: [{ http01: { ingress: { ingressClassName } } }],
        },
      },
    },
  };
}

/** `spire-server` values: the bundle endpoint, when there is one. */
export function federationServerValues(
  args: FederationValuesArgs | undefined,
): Record<string, unknown> {
  const e = args?.bundleEndpoint;
  if (e === undefined) return {};
  return {
    federation: {
      enabled: true,
      bundleEndpoint: { port: e.port, refreshHint: e.refreshHint },
      tls: tlsValues(e),
      ingress: { enabled: true, className: e.ingressClassName, host: e.host },
    },
  };
}

/** The top-level `spire-agent` values: SDS names for Istio, when the mesh federates. */
export function federationAgentValues(
  args: FederationValuesArgs | undefined,
): Record<string, unknown> {
  return args?.istioSds === true ? { "spire-agent": { sds: { ...ISTIO_FEDERATED_SDS } } } : {};
}
