/**
 * What Istio and its charts accept, written once: used by the config schema, the component and
 * the policies. Facts cite the pinned Istio release (istio/istio at tag 1.30.3).
 */
import type { JwksCaching } from "../rotation";

/** Istio's Helm repository (charts `base`, `istiod`, `gateway`; chart version = Istio version). */
export const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";
/** The pinned Istio version; `istio.chartVersion` overrides it. */
export const DEFAULT_ISTIO_VERSION = "1.30.3";
/**
 * The oldest Istio whose gateway injection template lets another template replace the
 * `workload-socket` volume (istio/istio#56217, first in 1.27.0); before it, `gateway,spire`
 * yields a volume with both `emptyDir` and `csi`, which Kubernetes rejects.
 */
export const MIN_ISTIO_VERSION = "1.27.0";
/** Namespace of istiod and the base chart (Istio's root namespace for mesh-wide config). */
export const ISTIO_NAMESPACE = "istio-system";
/** Default namespace of the ingress gateway (Istio recommends one apart from istiod). */
export const DEFAULT_GATEWAY_NAMESPACE = "istio-ingress";
/** Default name of the ingress gateway: release, Deployment, service account and `app` label. */
export const DEFAULT_GATEWAY_NAME = "istio-ingressgateway";

/** The SPIFFE CSI driver that the SPIRE chart installs (`spiffe-csi-driver.pluginName`). */
export const SPIFFE_CSI_DRIVER = "csi.spiffe.io";
/** Name of the injection template this package adds to istiod. */
export const SPIRE_TEMPLATE = "spire";
/**
 * The volume Istio's `sidecar` and `gateway` injection templates mount into istio-proxy at
 * {@link WORKLOAD_SOCKET_DIR} and declare with a null `emptyDir`, so that a later template can
 * give it another source (`files/injection-template.yaml`, `gateway-injection-template.yaml`).
 */
export const WORKLOAD_SOCKET_VOLUME = "workload-socket";
/**
 * Where istio-agent looks for the Workload API socket (`socket` in this directory:
 * `pkg/security/security.go` WorkloadIdentityPath). Istio's SPIRE page writes it
 * `/run/secrets/workload-spiffe-uds`, the same directory on the proxy image.
 */
export const WORKLOAD_SOCKET_DIR = "/var/run/secrets/workload-spiffe-uds";
/** The same directory as Istio's SPIRE integration page spells it. */
export const WORKLOAD_SOCKET_DIR_DOCUMENTED = "/run/secrets/workload-spiffe-uds";
/** Pod annotation that names the injection templates. */
export const TEMPLATES_ANNOTATION = "inject.istio.io/templates";
/** Templates of a mesh workload's pod: Istio's sidecar, then the SPIRE socket. */
export const SIDECAR_TEMPLATES = `sidecar,${SPIRE_TEMPLATE}`;
/** Templates of the ingress gateway's pod. */
export const GATEWAY_TEMPLATES = `gateway,${SPIRE_TEMPLATE}`;
/** Istio's own trust domain when `meshConfig.trustDomain` is unset (istiod chart's mesh). */
export const ISTIO_DEFAULT_TRUST_DOMAIN = "cluster.local";
/** Longest revision: istiod's Service `istiod-<revision>` is a DNS-1123 label (≤ 63). */
export const MAX_REVISION_LENGTH = 63 - "istiod-".length;

/** PeerAuthentication modes this package sets mesh-wide. */
export const MTLS_MODES = ["STRICT", "PERMISSIVE"] as const;
/** A mesh-wide mTLS mode. */
export type MtlsMode = (typeof MTLS_MODES)[number];

// SemVer 2.0.0 (semver.org), as Helm reads chart versions.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** `[major, minor, patch]` of a semantic version, or `undefined`. */
export function semverCore(v: string): [number, number, number] | undefined {
  const m = SEMVER.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compareCore(a: [number, number, number], b: [number, number, number]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Why an Istio chart version is unusable, or `undefined`. */
export function chartVersionProblem(v: string): string | undefined {
  const core = semverCore(v);
  if (core === undefined) {
    const hint = /^v\d/.test(v) ? ", without the leading v" : "";
    return `must be a semantic version such as ${DEFAULT_ISTIO_VERSION}${hint} (Istio's chart versions are its release versions)`;
  }
  if (compareCore(core, semverCore(MIN_ISTIO_VERSION) as [number, number, number]) < 0) {
    return `must be ${MIN_ISTIO_VERSION} or later: older gateway injection templates keep the workload-socket emptyDir beside the spire template's CSI volume, which Kubernetes rejects (istio/istio#56217)`;
  }
  return undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why an istiod revision is unusable, or `undefined`. */
export function revisionProblem(rev: string): string | undefined {
  if (!DNS_LABEL.test(rev)) {
    const hint = rev.includes(".") ? ` (e.g. ${rev.replace(/\./g, "-")}, not ${rev})` : "";
    return `must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit${hint}`;
  }
  if (rev.length > MAX_REVISION_LENGTH) {
    return `must be at most ${MAX_REVISION_LENGTH} characters: istiod's Service is named istiod-<revision>, a DNS-1123 label`;
  }
  if (rev === "default") {
    return "default is what Istio calls the unnamed revision (istio.io/rev=default); leave revision unset for it";
  }
  return undefined;
}

/** The SPIFFE ID path Istio requires: `/ns/<namespace>/sa/<service account>`. */
export function meshSpiffePath(namespace: string, serviceAccount: string): string {
  return `/ns/${namespace}/sa/${serviceAccount}`;
}

/** The `istio` pod label the gateway chart derives from the gateway's name. */
export function gatewayIstioLabel(name: string): string {
  return name.startsWith("istio-") ? name.slice("istio-".length) : name;
}

/** Whether an `inject.istio.io/templates` value lists the spire template. */
export function listsSpireTemplate(annotation: string | undefined): boolean {
  return (annotation ?? "")
    .split(",")
    .map((t) => t.trim())
    .includes(SPIRE_TEMPLATE);
}

/**
 * Namespaces istiod's injector never injects, whatever the labels say
 * (`pkg/kube/inject/initializer.go` `IgnoredNamespaces`, checked first in `injectRequired`).
 */
export const ISTIO_IGNORED_NAMESPACES = [
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "local-path-storage",
] as const;
/**
 * SPIRE's own namespaces (chart spire 0.30.0 `global.spire.namespaces.{server,system}.name`,
 * under the recommended layout this stack sets): the chart's `default` ClusterSPIFFEID, which
 * issues a mesh workload's ID, selects every namespace but these (`NotIn`).
 */
export const SPIRE_OWN_NAMESPACES = ["spire-server", "spire-system"] as const;
/**
 * The controller manager's ignored namespaces: chart spire 0.30.0's default
 * `controllerManager.ignoreNamespaces` (`charts/spire/charts/spire-server/values.yaml`), which
 * this stack keeps. Go regexps matched anywhere in the name (spire-controller-manager
 * `pkg/namespace/namespace.go` `IsIgnored`: `regex.MatchString`): no entry for any pod there.
 */
export const SPIRE_IGNORED_NAMESPACE_PATTERNS = [
  "kube-system",
  "kube-public",
  "local-path-storage",
  "openshift-.*",
  "ibm-.*",
] as const;

/**
 * Why a mesh workload's or the gateway's pods cannot work in a namespace, or `undefined`: Istio
 * does not inject there, or SPIRE issues no identity there (istio-agent then waits on SPIRE's
 * socket and the proxy never becomes ready). `gateway`: the pods have a ClusterSPIFFEID of their
 * own, which selects SPIRE's namespaces too; a mesh workload relies on the chart's default one.
 */
export function meshNamespaceProblem(
  namespace: string,
  opts: { gateway?: boolean; ignorePatterns?: readonly string[] } = {},
): string | undefined {
  if ((ISTIO_IGNORED_NAMESPACES as readonly string[]).includes(namespace)) {
    return `is ${namespace}, which Istio never injects (istiod skips ${ISTIO_IGNORED_NAMESPACES.join(", ")}): its pods would run without a proxy; use a namespace of your own`;
  }
  if (!opts.gateway && (SPIRE_OWN_NAMESPACES as readonly string[]).includes(namespace)) {
    return `is ${namespace}, SPIRE's own namespace: the chart's default ClusterSPIFFEID selects no pod there, so the proxy would wait on SPIRE for an identity and never become ready; use a namespace of your own`;
  }
  const patterns = opts.ignorePatterns ?? SPIRE_IGNORED_NAMESPACE_PATTERNS;
  const pattern = patterns.find((p) => {
    try {
      return new RegExp(p).test(namespace);
    } catch {
      return false;
    }
  });
  if (pattern !== undefined) {
    return `is ${namespace}, which SPIRE's controller manager ignores (ignoreNamespaces pattern ${JSON.stringify(pattern)}, matched anywhere in the name): it registers no pod there, so the proxy would wait on SPIRE for an identity and never become ready; use another namespace`;
  }
  return undefined;
}

/**
 * How istiod keeps a RequestAuthentication's JWKS: it fetches `jwksUri` every
 * `PILOT_JWT_PUB_KEY_REFRESH_INTERVAL` (default 20 minutes, istio pilot/pkg/features) and inlines
 * the keys into the proxies' configuration; an unknown `kid` does not trigger a fetch. (This
 * package's Istio integration verifies no JWT-SVIDs; the fact matters once a RequestAuthentication
 * names this issuer.)
 */
export const ISTIO_JWKS_CACHING: JwksCaching = {
  refreshOnUnknownKid: false,
  maxAgeSeconds: 20 * 60,
  source: "istio pilot/pkg/features PILOT_JWT_PUB_KEY_REFRESH_INTERVAL (default 20m)",
};
