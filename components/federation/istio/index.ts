/** Istio on SPIRE: the registry entry and the public API of this folder. */
import { defineRelyingParty } from "../contract";
import { IstioFederation } from "./component";
import { istioPolicies } from "./policies";
import { ISTIO_JWKS_CACHING } from "./rules";
import { checkIstio, istioBlockSchema, istioGrant, istioGrantSchema, istioModel } from "./schema";

export * from "./component";
export * from "./policies";
export * from "./rules";
export * from "./schema";
export * from "./values";

/**
 * Istio as a relying party: it verifies no JWT-SVIDs, but its proxies take their X509-SVIDs from
 * SPIRE and accept only peers of this trust domain.
 */
export const istio = defineRelyingParty({
  key: "istio",
  product: "Istio",
  blockSchema: istioBlockSchema,
  grantSchema: istioGrantSchema,
  check: checkIstio,
  // istiod would cache a RequestAuthentication's JWKS, but this package verifies no JWT-SVIDs
  // through Istio.
  jwks: { caching: ISTIO_JWKS_CACHING, verifies: () => false, planned: () => false },
  model: istioModel,
  grant: istioGrant,
  build: (name, { core, block, grants, trust }, opts) => {
    const component = new IstioFederation(
      name,
      {
        trustDomain: core.trustDomain,
        className: trust.controllerClassName,
        install: block.install,
        chartVersion: block.chartVersion,
        revision: block.revision,
        ingressGateway: block.ingressGateway,
        mtls: block.mtls,
        grants: grants.flatMap(({ workload, grant }) =>
          // Node workloads never carry an Istio grant (checkIstio refuses them).
          grant.mesh && workload.mode === "pod"
            ? [
                {
                  workload: workload.name,
                  namespace: workload.namespace,
                  serviceAccount: workload.serviceAccount,
                  spiffeId: workload.spiffeId,
                },
              ]
            : [],
        ),
        waitFor: [trust.spireRelease],
      },
      opts,
    );
    return {
      component,
      logins: component.logins,
      // Without install, what to merge into the existing Istio installation.
      outputs: block.install ? undefined : { istioValues: component.values },
    };
  },
  policies: istioPolicies,
});
