/** Istio on SPIRE: the registry entry and the public API of this folder. */
import { defineRelyingParty } from "../contract";
import { IstioFederation } from "./component";
import { istioPolicies } from "./policies";
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
        grants: grants
          .filter(({ grant }) => grant.mesh)
          .map(({ workload }) => ({
            workload: workload.name,
            namespace: workload.namespace,
            serviceAccount: workload.serviceAccount,
            spiffeId: workload.spiffeId,
          })),
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
