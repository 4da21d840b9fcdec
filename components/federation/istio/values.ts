/**
 * The Helm values, injection template, pod metadata and ClusterSPIFFEID this package gives
 * Istio: pure functions of the settings, shared by the component, the `install: false` output and
 * the tests (which check every values key against the pinned charts).
 */
import { stringify } from "yaml";
import {
  GATEWAY_TEMPLATES,
  gatewayIstioLabel,
  SIDECAR_TEMPLATES,
  SPIFFE_CSI_DRIVER,
  SPIRE_TEMPLATE,
  TEMPLATES_ANNOTATION,
  WORKLOAD_SOCKET_VOLUME,
} from "./rules";

/** The Service types the gateway chart's `service.type` takes. */
export const GATEWAY_SERVICE_TYPES = ["LoadBalancer", "NodePort", "ClusterIP"] as const;
/** A type of the gateway's Service. */
export type GatewayServiceType = (typeof GATEWAY_SERVICE_TYPES)[number];
/** The gateway chart's own default Service type (values.yaml `service.type`). */
export const DEFAULT_GATEWAY_SERVICE_TYPE: GatewayServiceType = "LoadBalancer";

/** The ingress gateway: its namespace and name (release, Deployment, service account). */
export interface IstioGateway {
  /** Namespace of the gateway (created by the release). Default: `istio-ingress`. */
  namespace: string;
  /** Name of the gateway. Default: `istio-ingressgateway`. */
  name: string;
  /**
   * Type of the gateway's Service. `LoadBalancer` makes the release wait until the cluster's load
   * balancer gives the Service an address, which never happens on a cluster without one (the
   * release then fails on its timeout): use `NodePort` or `ClusterIP` there. Default: `LoadBalancer`.
   */
  serviceType?: GatewayServiceType;
}

/**
 * The `spire` injection template: the `workload-socket` volume, which Istio's own `sidecar` and
 * `gateway` templates already mount into istio-proxy at `/var/run/secrets/workload-spiffe-uds`
 * (with a null `emptyDir`), gets the SPIFFE CSI driver as its source. istio-agent then finds
 * SPIRE's Workload API socket there (`socket`, a name the SPIRE agent links) and takes its
 * certificates from SPIRE instead of istiod. Touching only the volume works whether istio-proxy
 * is a native sidecar (an init container) or a plain container; a template that also patches
 * `containers[istio-proxy]` adds a second, image-less istio-proxy container under native sidecars.
 */
export function spireInjectionTemplate(): string {
  return stringify({
    spec: {
      volumes: [
        { name: WORKLOAD_SOCKET_VOLUME, csi: { driver: SPIFFE_CSI_DRIVER, readOnly: true } },
      ],
    },
  });
}

/** Values of the istiod chart: SPIRE's trust domain and the spire injection template. */
export function istiodValues(args: {
  trustDomain: string;
  revision?: string;
}): Record<string, unknown> {
  return {
    ...(args.revision === undefined ? {} : { revision: args.revision }),
    meshConfig: { trustDomain: args.trustDomain },
    sidecarInjectorWebhook: {
      templates: { [SPIRE_TEMPLATE]: spireInjectionTemplate() },
      // Pods injected without an inject.istio.io/templates annotation get the SPIRE socket too:
      // a proxy with istiod's certificates could not talk to one with SPIRE's.
      defaultTemplates: ["sidecar", SPIRE_TEMPLATE],
    },
  };
}

/** Values of the base chart (CRDs and cluster roles): the chart's defaults. */
export function baseValues(): Record<string, unknown> {
  return {};
}

/**
 * Values of the gateway chart: its name, revision, Service type (only when it is not the chart's
 * default, so existing stacks plan no change) and the spire template on its pods.
 */
export function gatewayValues(args: {
  gateway: IstioGateway;
  revision?: string;
}): Record<string, unknown> {
  return {
    name: args.gateway.name,
    ...(args.revision === undefined ? {} : { revision: args.revision }),
    ...(args.gateway.serviceType === undefined ||
    args.gateway.serviceType === DEFAULT_GATEWAY_SERVICE_TYPE
      ? {}
      : { service: { type: args.gateway.serviceType } }),
    // Helm merges maps, so the chart's other pod annotations (prometheus.io/*,
    // sidecar.istio.io/inject) stay.
    podAnnotations: { [TEMPLATES_ANNOTATION]: GATEWAY_TEMPLATES },
  };
}

/** What a mesh workload's pods carry: the injection templates and the injection labels. */
export interface IstioPodMetadata {
  /** Pod annotations: `inject.istio.io/templates: sidecar,spire`. */
  podAnnotations: Record<string, string>;
  /**
   * Pod labels that select istiod's injection webhook: `sidecar.istio.io/inject: "true"`, and
   * `istio.io/rev: <revision>` when a revision is set (namespace labels are left alone).
   */
  podLabels: Record<string, string>;
}

/** The pod metadata of a mesh workload. */
export function meshPodMetadata(revision?: string): IstioPodMetadata {
  return {
    podAnnotations: { [TEMPLATES_ANNOTATION]: SIDECAR_TEMPLATES },
    podLabels: {
      "sidecar.istio.io/inject": "true",
      ...(revision === undefined ? {} : { "istio.io/rev": revision }),
    },
  };
}

/** Physical name of the gateway's ClusterSPIFFEID (dots: no workload's name can collide). */
export function gatewayClusterSpiffeIdName(gateway: IstioGateway): string {
  return `spire-federation.istio.${gateway.namespace}.${gateway.name}`;
}

/**
 * The gateway's ClusterSPIFFEID: exactly the gateway chart's pods (its selector labels `app` and
 * `istio`, in its namespace), attested by namespace and service account, with the SPIFFE ID
 * Istio requires. Being non-fallback, it takes these pods over from the chart's `default`
 * ClusterSPIFFEID (which would issue the same ID) without depending on it.
 */
export function gatewayClusterSpiffeIdSpec(args: {
  gateway: IstioGateway;
  spiffeId: string;
  className: string;
}): Record<string, unknown> {
  const { namespace, name } = args.gateway;
  return {
    className: args.className,
    hint: name,
    spiffeIDTemplate: args.spiffeId,
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    podSelector: { matchLabels: { app: name, istio: gatewayIstioLabel(name) } },
    workloadSelectorTemplates: [`k8s:ns:${namespace}`, `k8s:sa:${name}`],
  };
}
