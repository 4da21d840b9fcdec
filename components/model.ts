/**
 * The core of the validated stack model: trust domain, OIDC exposure, root of trust,
 * cert-manager, SPIRE and the workloads. Relying parties add their own blocks and grants on top
 * (see `federation/registry.ts`); this module knows none of them, so that every relying party can
 * import it without a cycle.
 */
import type * as pulumi from "@pulumi/pulumi";

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

/** The core of one workload: who it is. Relying parties add their grants. */
export interface CoreWorkload {
  /** Unique name, used in resource names. */
  name: string;
  /** Kubernetes namespace the workload's pods run in. */
  namespace: string;
  /** Service account the pods run as. */
  serviceAccount: string;
  /** The full SPIFFE ID. */
  spiffeId: string;
  /** Extra pod labels that select the workload's pods. */
  podLabels: Record<string, string>;
}

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
  /** Workloads with their SPIFFE IDs (grants are added by the relying parties). */
  workloads: CoreWorkload[];
}
