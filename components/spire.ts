/**
 * SPIRE on Kubernetes from the hardened charts: spire-crds, then spire (server, agent, CSI driver,
 * controller manager, OIDC discovery provider) with cert-manager as upstream authority, the
 * discovery provider behind an ingress, and a ClusterSPIFFEID for each workload with a custom
 * SPIFFE ID path.
 *
 * Workload IDs: the chart's `default` ClusterSPIFFEID issues `/ns/<namespace>/sa/<serviceAccount>`
 * to every pod outside the chart's own namespaces, as a fallback: the controller manager applies
 * it only to pods that no other (non-fallback) ClusterSPIFFEID selects (spire-controller-manager
 * `pkg/spireentry/reconciler.go`). A workload with that ID needs nothing more. A workload with a
 * custom path gets its own ClusterSPIFFEID, which selects its pods by namespace and labels (a
 * pod selector cannot select by service account), so it needs labels only its pods carry:
 * without them it would select every pod of the namespace and take their default IDs away.
 *
 * Every values key set here exists in the pinned chart (test/spire-values.test.ts checks them
 * against the chart's key list); Helm silently ignores unknown keys.
 */
import { anchorOptions } from "./anchors";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DatastoreModel, OidcTls } from "./config";
import { rejectProblems } from "./federation/args";
import { nodesServerValues, type NodesServerValuesArgs } from "./nodes/values";
import {
  acmeCertManagerValues,
  federationAgentValues,
  federationServerValues,
  type FederationValuesArgs,
} from "./spire-federation/values";
import {
  DEFAULT_SPIFFE_ID_TEMPLATE,
  needsClusterSpiffeId,
  spireWorkloadProblems,
  type SpireWorkload,
} from "./spire-rules";

export * from "./spire-rules";

/** The hardened SPIFFE Helm repository. */
export const SPIRE_REPO = "https://spiffe.github.io/helm-charts-hardened/";
/** Release name of the spire chart; the chart derives `spire-server` (StatefulSet, SA) from it. */
export const SPIRE_RELEASE_NAME = "spire";
/** Namespace of the releases; the chart puts its workloads in spire-server / spire-system. */
export const SPIRE_MGMT_NAMESPACE = "spire-mgmt";
/** Service account of the SPIRE server (`<release>-server`). */
export const SPIRE_SERVER_SERVICE_ACCOUNT = "spire-server";
/** Values that shape the spire chart; see {@link spireValues}. */
export interface SpireValuesArgs {
  /** SPIFFE trust domain. */
  trustDomain: string;
  /** Cluster name for the k8s_psat node attestor. */
  clusterName: string;
  /** `https://<oidc host>`: the `iss` of JWT-SVIDs and the discovery issuer. */
  jwtIssuer: string;
  /** Subject of SPIRE's CA certificates. */
  caSubject: { country: string; organization: string; commonName: string };
  /** SPIRE CA key type; it also signs JWT-SVIDs (Entra needs rsa-*). */
  caKeyType: string;
  /** Lifetime of SPIRE's intermediate CA. */
  caTTL: string;
  /** Default X509-SVID lifetime. */
  x509SvidTTL: string;
  /** Default JWT-SVID lifetime (≤ 24h). */
  jwtSvidTTL: string;
  /** SPIRE server replicas (> 1 needs an external datastore). */
  replicas: number;
  /** Datastore; the password stays a secret inside the values. */
  datastore: DatastoreModel;
  /** Name of the ClusterIssuer SPIRE's upstream authority requests intermediates from. */
  clusterIssuerName: pulumi.Input<string>;
  /**
   * Class the controller manager reconciles; ClusterSPIFFEIDs must carry it (the chart gives it
   * to its own, including the `default` one).
   */
  className: string;
  /** Agents outside the cluster: the hostnames http_challenge admits, the server's exposure. */
  nodes?: NodesServerValuesArgs;
  /** SPIRE-to-SPIRE federation: the bundle endpoint, and SDS names when the mesh federates. */
  federation?: FederationValuesArgs;
  /** OIDC discovery exposure. */
  oidc: {
    /** Public host. */
    host: string;
    /** Ingress class. */
    ingressClassName: string;
    /** Chart ingress controller type. */
    ingressControllerType: string;
    /** Serving certificate source. */
    tls: OidcTls;
  };
}

/** Arguments of {@link Spire}. */
export interface SpireArgs extends SpireValuesArgs {
  /**
   * Protect this component's anchors (the SPIRE release) so that the engine refuses to delete or replace
   * them (`anchors.protect`). Default: true.
   */
  protectAnchors?: boolean;
  /** Version of the spire chart. */
  chartVersion: string;
  /** Version of the spire-crds chart. */
  crdsChartVersion: string;
  /** The workloads; those with a custom SPIFFE ID get a ClusterSPIFFEID. */
  workloads: SpireWorkload[];
  /** Resources the upstream authority needs first (cert-manager release, ClusterIssuer). */
  upstreamReady: pulumi.Input<pulumi.Resource>[];
}

function oidcTlsValues(args: SpireValuesArgs["oidc"]): Record<string, unknown> {
  const tls = args.tls;
  switch (tls.kind) {
    case "acme":
      // The chart creates an ACME Issuer + Certificate; the provider serves it itself and the
      // ingress passes TLS through. HTTP-01 is solved through the same ingress class.
      return {
        tls: {
          spire: { enabled: false },
          ...acmeCertManagerValues(tls, args.ingressClassName),
        },
      };
    case "secret":
      // The ingress terminates TLS with an existing (publicly trusted) certificate.
      return { tls: { spire: { enabled: false } }, ingress: { tlsSecret: tls.secretName } };
    case "spire":
      // SPIRE's own certificate (its DNS names include oidc.host, see oidcSvidDnsNames): trusted
      // only by callers that hold the trust bundle.
      return { tls: { spire: { enabled: true } } };
  }
}

/**
 * With SPIRE's own TLS the discovery provider serves its X509-SVID, whose DNS names come from the
 * chart's `oidc-discovery-provider` ClusterSPIFFEID: `oidc-discovery.<trust domain>` plus the
 * service names. Callers reach it at `oidc.host`, so that host joins the list (Helm replaces
 * lists, hence the chart's default is repeated).
 */
function oidcSvidDnsNames(args: SpireValuesArgs): Record<string, unknown> {
  if (args.oidc.tls.kind !== "spire") return {};
  const chartDefault = "oidc-discovery.{{ .TrustDomain }}";
  const names =
    args.oidc.host === `oidc-discovery.${args.trustDomain}`
      ? [chartDefault]
      : [chartDefault, args.oidc.host];
  return { "oidc-discovery-provider": { dnsNameTemplates: names } };
}

function datastoreValues(ds: DatastoreModel): Record<string, unknown> {
  if (ds.type === "sqlite3") {
    return { sql: { databaseType: "sqlite3" } };
  }
  return {
    sql: {
      databaseType: ds.type,
      databaseName: ds.database,
      host: ds.host,
      port: ds.port,
      username: ds.username,
      password: ds.password,
    },
  };
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !pulumi.Output.isInstance(v);
}

/** The values passed to the spire chart. Exported so tests can check every key against the chart. */
export function spireValues(args: SpireValuesArgs): Record<string, unknown> {
  return {
    global: {
      spire: {
        trustDomain: args.trustDomain,
        clusterName: args.clusterName,
        jwtIssuer: args.jwtIssuer,
        caSubject: args.caSubject,
        recommendations: { enabled: true },
        namespaces: { create: true },
        strictMode: true,
        ingressControllerType: args.oidc.ingressControllerType,
      },
    },
    ...federationAgentValues(args.federation),
    "spire-server": {
      ...nodesServerValues(args.nodes),
      ...federationServerValues(args.federation),
      replicaCount: args.replicas,
      caKeyType: args.caKeyType,
      caTTL: args.caTTL,
      defaultX509SvidTTL: args.x509SvidTTL,
      defaultJwtSvidTTL: args.jwtSvidTTL,
      dataStore: datastoreValues(args.datastore),
      upstreamAuthority: {
        certManager: {
          enabled: true,
          issuerName: args.clusterIssuerName,
          issuerKind: "ClusterIssuer",
          issuerGroup: "cert-manager.io",
          rbac: { create: true },
        },
      },
      controllerManager: {
        enabled: true,
        className: args.className,
        // The fallback ID of every workload without a custom path: enabled, a fallback (custom
        // ClusterSPIFFEIDs win for the pods they select), with the chart's own template; and
        // with SPIRE's own TLS, the discovery provider's DNS names.
        identities: {
          clusterSPIFFEIDs: {
            default: {
              enabled: true,
              fallback: true,
              spiffeIDTemplate: DEFAULT_SPIFFE_ID_TEMPLATE,
            },
            ...oidcSvidDnsNames(args),
          },
        },
      },
    },
    "spiffe-oidc-discovery-provider": deepMerge(
      {
        enabled: true,
        config: { setKeyUse: true },
        ingress: {
          enabled: true,
          className: args.oidc.ingressClassName,
          host: args.oidc.host,
        },
      },
      oidcTlsValues(args.oidc),
    ),
  };
}

/**
 * The ClusterSPIFFEID spec for one workload with a custom SPIFFE ID (validated in tests against
 * the CRD schema). Not a fallback: it replaces the chart's default ID for the pods it selects.
 */
export function clusterSpiffeIdSpec(w: SpireWorkload, className: string): Record<string, unknown> {
  return {
    className,
    hint: w.name,
    spiffeIDTemplate: w.spiffeId,
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": w.namespace } },
    podSelector: { matchLabels: { ...w.podLabels } },
    workloadSelectorTemplates: [`k8s:ns:${w.namespace}`, `k8s:sa:${w.serviceAccount}`],
    ...((w.federatesWith?.length ?? 0) > 0 ? { federatesWith: [...(w.federatesWith ?? [])] } : {}),
  };
}

/** SPIRE, its CRDs, and the ClusterSPIFFEIDs of workloads with a custom SPIFFE ID. */
export class Spire extends pulumi.ComponentResource {
  /** The spire-crds release. */
  readonly crdsRelease: k8s.helm.v3.Release;
  /** The spire release; federation that needs a live endpoint waits on it. */
  readonly release: k8s.helm.v3.Release;
  /** One ClusterSPIFFEID per workload with a custom SPIFFE ID, by workload name. */
  readonly clusterSpiffeIds: Record<string, k8s.apiextensions.CustomResource>;

  constructor(name: string, args: SpireArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("Spire", name, spireWorkloadProblems(args.workloads, args.trustDomain));
    super("spire-federation:index:Spire", name, {}, opts);

    this.crdsRelease = new k8s.helm.v3.Release(
      `${name}-crds`,
      {
        name: "spire-crds",
        chart: "spire-crds",
        version: args.crdsChartVersion,
        repositoryOpts: { repo: SPIRE_REPO },
        namespace: SPIRE_MGMT_NAMESPACE,
        createNamespace: true,
      },
      { parent: this },
    );

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: SPIRE_RELEASE_NAME,
        chart: "spire",
        version: args.chartVersion,
        repositoryOpts: { repo: SPIRE_REPO },
        namespace: SPIRE_MGMT_NAMESPACE,
        createNamespace: true,
        values: spireValues(args),
      },
      // The chart's Role lets the upstream authority manage CertificateRequests in the server's
      // namespace, all it touches (spire pkg/server/plugin/upstreamauthority/certmanager).
      anchorOptions(this, args.protectAnchors, {
        dependsOn: [this.crdsRelease, ...args.upstreamReady],
      }),
    );

    // The controller manager's webhook rejects ClusterSPIFFEIDs until the release is ready.
    this.clusterSpiffeIds = {};
    for (const w of args.workloads.filter((x) => needsClusterSpiffeId(x, args.trustDomain))) {
      this.clusterSpiffeIds[w.name] = new k8s.apiextensions.CustomResource(
        `${name}-id-${w.name}`,
        {
          apiVersion: "spire.spiffe.io/v1alpha1",
          kind: "ClusterSPIFFEID",
          metadata: { name: `spire-federation-${w.name}` },
          spec: clusterSpiffeIdSpec(w, args.className),
        },
        { parent: this, dependsOn: [this.release] },
      );
    }
    this.registerOutputs({});
  }
}
