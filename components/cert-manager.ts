/**
 * cert-manager and the root of trust SPIRE's upstream authority chains to.
 *
 * - `generated` root: a `@pulumi/tls` key and self-signed CA certificate (both Pulumi secrets in
 *   state), a `kubernetes.io/tls` Secret in cert-manager's namespace, and a CA ClusterIssuer
 *   serving it. Pulumi knows the root PEM and can sign with the key (OpenZiti CA verification).
 * - `clusterIssuer` root: an existing ClusterIssuer (Vault PKI, an HSM-backed CA…) and its root
 *   PEM from config; nothing is created for it.
 */
import { anchorOptions } from "./anchors";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** The jetstack Helm repository. */
export const CERT_MANAGER_REPO = "https://charts.jetstack.io";

/** A root generated and held by Pulumi. */
export interface GeneratedRootArgs {
  /** Discriminator. */
  mode: "generated";
  /** Key algorithm of the root. */
  keyAlgorithm: "ECDSA-P256" | "ECDSA-P384" | "RSA-2048" | "RSA-4096";
  /** Lifetime of the self-signed root certificate, in hours. */
  validityHours: number;
  /** Trust domain, written into the root's subject and URI SAN. */
  trustDomain: string;
  /** Name of the CA ClusterIssuer to create. */
  clusterIssuerName: string;
}

/** An existing ClusterIssuer whose root certificate is known. */
export interface ExistingRootArgs {
  /** Discriminator. */
  mode: "clusterIssuer";
  /** Name of the existing ClusterIssuer. */
  clusterIssuer: string;
  /** PEM of the root certificate at the top of that issuer's chain. */
  rootCertificatePem: string;
}

/** Arguments of {@link CertManager}. */
export interface CertManagerArgs {
  /**
   * Protect this component's anchors (the generated root key and certificate) so that the engine refuses to delete or replace
   * them (`anchors.protect`). Default: true.
   */
  protectAnchors?: boolean;
  /** Install the cert-manager chart (false when the cluster already runs cert-manager). */
  install: boolean;
  /** Version of the jetstack/cert-manager chart, e.g. `v1.19.1`. */
  chartVersion: string;
  /** Namespace cert-manager runs in; a CA ClusterIssuer's Secret must live there. */
  namespace: string;
  /** The root of trust. */
  root: GeneratedRootArgs | ExistingRootArgs;
}

const KEY_ALGORITHMS = {
  "ECDSA-P256": { algorithm: "ECDSA", ecdsaCurve: "P256" },
  "ECDSA-P384": { algorithm: "ECDSA", ecdsaCurve: "P384" },
  "RSA-2048": { algorithm: "RSA", rsaBits: 2048 },
  "RSA-4096": { algorithm: "RSA", rsaBits: 4096 },
} as const;

/** cert-manager plus the ClusterIssuer at the root of the trust domain. */
export class CertManager extends pulumi.ComponentResource {
  /** Name of the ClusterIssuer SPIRE's upstream authority uses. */
  readonly clusterIssuerName: pulumi.Output<string>;
  /** PEM of the root certificate: the trust anchor relying parties pin. */
  readonly rootCertificatePem: pulumi.Output<string>;
  /** PEM of the root private key, only in `generated` mode (a secret). */
  readonly rootPrivateKeyPem?: pulumi.Output<string>;
  /** The key algorithm of the generated root (`ECDSA`/`RSA`), only in `generated` mode. */
  readonly rootKeyAlgorithm?: pulumi.Output<string>;
  /** The chart release, when installed. */
  readonly release?: k8s.helm.v3.Release;
  /** What must be ready before the issuer can sign: SPIRE waits on these. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("spire-federation:index:CertManager", name, {}, opts);
    const ready: pulumi.Resource[] = [];

    if (args.install) {
      this.release = new k8s.helm.v3.Release(
        `${name}-release`,
        {
          name: "cert-manager",
          chart: "cert-manager",
          version: args.chartVersion,
          repositoryOpts: { repo: CERT_MANAGER_REPO },
          namespace: args.namespace,
          createNamespace: true,
          values: { crds: { enabled: true } },
        },
        { parent: this },
      );
      ready.push(this.release);
    }

    if (args.root.mode === "generated") {
      const root = args.root;
      const key = new tls.PrivateKey(
        `${name}-root-key`,
        { ...KEY_ALGORITHMS[root.keyAlgorithm] },
        anchorOptions(this, args.protectAnchors, {
          additionalSecretOutputs: ["privateKeyPem", "privateKeyOpenssh"],
        }),
      );
      const cert = new tls.SelfSignedCert(
        `${name}-root-cert`,
        {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName: `${root.trustDomain} root CA`, organization: "SPIFFE" },
          uris: [`spiffe://${root.trustDomain}`],
          isCaCertificate: true,
          setSubjectKeyId: true,
          validityPeriodHours: root.validityHours,
          // No early renewal: the provider plans a replacement once `readyForRenewal` (within
          // earlyRenewalHours of the end, or past it); protected, that replacement is refused.
          earlyRenewalHours: 0,
          allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        },
        anchorOptions(this, args.protectAnchors),
      );
      const secret = new k8s.core.v1.Secret(
        `${name}-root-secret`,
        {
          metadata: { name: `${root.clusterIssuerName}-ca`, namespace: args.namespace },
          type: "kubernetes.io/tls",
          stringData: { "tls.crt": cert.certPem, "tls.key": key.privateKeyPem },
        },
        { parent: this, dependsOn: this.release ? [this.release] : [] },
      );
      const issuer = new k8s.apiextensions.CustomResource(
        `${name}-root-issuer`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: "ClusterIssuer",
          metadata: { name: root.clusterIssuerName },
          spec: { ca: { secretName: secret.metadata.name } },
        },
        { parent: this, dependsOn: this.release ? [this.release, secret] : [secret] },
      );
      ready.push(issuer);
      this.clusterIssuerName = issuer.metadata.name;
      this.rootCertificatePem = cert.certPem;
      this.rootPrivateKeyPem = pulumi.secret(key.privateKeyPem);
      this.rootKeyAlgorithm = key.algorithm;
    } else {
      this.clusterIssuerName = pulumi.output(args.root.clusterIssuer);
      this.rootCertificatePem = pulumi.output(args.root.rootCertificatePem);
    }
    this.ready = ready;
    this.registerOutputs({
      clusterIssuerName: this.clusterIssuerName,
      rootCertificatePem: this.rootCertificatePem,
    });
  }
}
