/**
 * The core of the validated stack model: trust domain, OIDC exposure, root of trust,
 * cert-manager, SPIRE and the workloads. Relying parties add their own blocks and grants on top
 * (see `federation/registry.ts`); this module knows none of them, so that every relying party can
 * import it without a cycle.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { FederationModel } from "./spire-federation/schema";
import type { AnchorsModel } from "./core/anchors";

/** How the OIDC discovery provider gets its serving certificate. */
export type OidcTls =
  | { kind: "acme"; email: string; server: string }
  | { kind: "secret"; secretName: string }
  | { kind: "spire" };

/** The root of trust SPIRE's upstream authority chains to. */
export type CaModel =
  | {
      mode: "generated";
      keyAlgorithm: "ECDSA-P256" | "ECDSA-P384" | "RSA-2048" | "RSA-4096";
      validityHours: number;
    }
  | { mode: "clusterIssuer"; clusterIssuer: string; rootCertificatePem: string };

/** SPIRE's datastore; the password stays a Pulumi secret. */
export type DatastoreModel =
  | { type: "sqlite3" }
  | {
      type: "postgres" | "mysql";
      host: string;
      port: number;
      database: string;
      username: string;
      password: pulumi.Output<string>;
    };

/** SPIRE's CA key type; it also signs JWT-SVIDs (the chart has no separate JWT key type). */
export type CaKeyType = "rsa-2048" | "rsa-4096" | "ec-p256" | "ec-p384";

/** What every workload has, wherever it runs: relying parties use only these two fields. */
export interface WorkloadIdentity {
  /** Unique name, used in resource names. */
  name: string;
  /** The full SPIFFE ID. */
  spiffeId: string;
}

/** A workload whose processes run in Kubernetes pods (registered by a ClusterSPIFFEID). */
export interface PodWorkload extends WorkloadIdentity {
  /** Runs in pods. */
  mode: "pod";
  /** Kubernetes namespace the workload's pods run in. */
  namespace: string;
  /** Service account the pods run as. */
  serviceAccount: string;
  /** Extra pod labels that select the workload's pods. */
  podLabels: Record<string, string>;
  /**
   * Whether the package writes this workload's ConfigMap and pod patch: false when
   * `workloadFiles.enabled` is false or the workload sets `files: false`.
   */
  files: boolean;
  /** Peer trust domains whose SVIDs the workload trusts (`federatesWith`); unset when none. */
  federatesWith?: string[];
}

/** The workload's half: the spiffe-helper sidecar, its ConfigMap and pod patch. */
export interface WorkloadFilesModel {
  /** Write a ConfigMap and a pod patch per workload. Default: true. */
  enabled: boolean;
  /** spiffe-helper image, pinned by tag or digest. Default: `ghcr.io/spiffe/spiffe-helper:0.11.0`. */
  helperImage: string;
  /** The helper's `cert_dir` in the pod. Default: `/run/spiffe/certs`. */
  certDir: string;
}

/** The `unix` workload attestor's selectors that pick a node workload's processes (all must match). */
export interface UnixSelectors {
  /** Effective user ID of the process (`unix:uid`). */
  uid?: number;
  /** Effective group ID (`unix:gid`). */
  gid?: number;
  /** User name of the effective user (`unix:user`). */
  user?: string;
  /** Absolute path of the process's executable (`unix:path`). */
  path?: string;
}

/** A workload whose processes run on a node outside Kubernetes (registered by a ClusterStaticEntry). */
export interface NodeWorkload extends WorkloadIdentity {
  /** Runs on a node. */
  mode: "node";
  /** Name of the node (in `nodes`) whose agent attests it. */
  node: string;
  /** Selectors of the node's `unix` workload attestor. */
  unix: UnixSelectors;
}

/** The core of one workload: who it is and where it runs. Relying parties add their grants. */
export type CoreWorkload = PodWorkload | NodeWorkload;

/** A machine outside Kubernetes that runs a SPIRE agent against this stack's server. */
export interface NodeModel {
  /** Unique name, used in resource and output names. */
  name: string;
  /** Its DNS name: the SPIRE server fetches the HTTP challenge from it. */
  hostname: string;
  /** Node attestation; only `httpChallenge` is supported (see components/nodes/README.md). */
  attestation: "httpChallenge";
}

/** How agents outside the cluster reach the SPIRE server. */
export type ServerExposure =
  | {
      /** An ingress that passes TLS through to the server (gRPC over mTLS). */
      mode: "ingress";
      /** Public host name of the server. */
      host: string;
      /** Ingress class of the ingress. */
      ingressClassName: string;
    }
  | {
      /** The server's Service as type LoadBalancer. */
      mode: "loadBalancer";
      /** DNS name or IP address agents dial (the load balancer's). */
      address: string;
    };

/** OIDC discovery exposure. */
export interface OidcModel {
  /** Public host name of the discovery provider. */
  host: string;
  /** Ingress class of the ingress that exposes it. */
  ingressClassName: string;
  /** The chart's ingress controller type (drives passthrough annotations). */
  ingressControllerType: "ingress-nginx" | "openshift" | "other";
  /** How the endpoint gets its certificate. */
  tls: OidcTls;
  /** `https://<host>`: the JWT `iss` and the discovery document's issuer. */
  issuerUrl: string;
  /** `https://<host>/keys`: where the signing keys are published. */
  jwksUri: string;
}

/** SPIRE settings with defaults applied. */
export interface SpireModel {
  /** spire chart version. */
  chartVersion: string;
  /** spire-crds chart version. */
  crdsChartVersion: string;
  /** CA key type (and so the JWT-SVID signing algorithm). */
  caKeyType: CaKeyType;
  /** Lifetime of SPIRE's intermediate CA. */
  caTTL: string;
  /** Lifetime of X509-SVIDs. */
  x509SvidTTL: string;
  /** Lifetime of JWT-SVIDs. */
  jwtSvidTTL: string;
  /** SPIRE server replicas. */
  replicas: number;
  /** Datastore. */
  datastore: DatastoreModel;
  /** Subject of SPIRE's CA certificates. */
  caSubject: { country: string; organization: string; commonName: string };
  /** The SPIRE server as agents outside the cluster reach it. */
  server: { exposure?: ServerExposure };
}

/** The validated core of the stack config: everything but the relying parties. */
export interface CoreModel {
  /** SPIFFE trust domain, e.g. `prod.example.org`. */
  trustDomain: string;
  /** Name of the Kubernetes cluster as SPIRE's node attestor knows it. */
  clusterName: string;
  /** OIDC discovery exposure. */
  oidc: OidcModel;
  /** Root of trust. */
  ca: CaModel;
  /** cert-manager installation. */
  certManager: { install: boolean; chartVersion: string; namespace: string };
  /** SPIRE settings with defaults applied. */
  spire: SpireModel;
  /** The workload's half: what the package writes for each workload's pods. */
  workloadFiles: WorkloadFilesModel;
  /** Machines outside Kubernetes that run a SPIRE agent. */
  nodes: NodeModel[];
  /** SPIRE-to-SPIRE federation (components/spire-federation), when configured. */
  federation?: FederationModel;
  /** How the stack protects its anchors (`anchors`). */
  anchors: AnchorsModel;
  /** Workloads with their SPIFFE IDs (grants are added by the relying parties). */
  workloads: CoreWorkload[];
  /** Team stacks built on this one (`teamStacks`): the namespaces each may use, by stack name. */
  teamStacks: Record<string, { namespaces: string[] }>;
}
