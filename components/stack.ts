/**
 * The top-level component: wires cert-manager, SPIRE and (in later config blocks) the relying
 * parties from the validated {@link StackModel}. Federation inputs come from config and the root
 * certificate, never from a cluster resource, so relying parties need not wait for Kubernetes.
 */
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "./cert-manager";
import type { StackModel } from "./config";
import { Spire, type SpireValuesArgs } from "./spire";

/** Arguments of {@link SpireFederation}. */
export interface SpireFederationArgs {
  /** The validated stack config (see `parseStackConfig`). */
  model: StackModel;
}

/** Class name shared by the controller manager and every ClusterSPIFFEID this stack creates. */
export const CONTROLLER_CLASS_NAME = "spire-federation";

/** The chart-values part of the Spire component's args, from the model. */
export function spireValuesArgs(
  m: StackModel,
  clusterIssuerName: pulumi.Input<string>,
): SpireValuesArgs {
  return {
    trustDomain: m.trustDomain,
    clusterName: m.clusterName,
    jwtIssuer: m.oidc.issuerUrl,
    caSubject: m.spire.caSubject,
    caKeyType: m.spire.caKeyType,
    caTTL: m.spire.caTTL,
    x509SvidTTL: m.spire.x509SvidTTL,
    jwtSvidTTL: m.spire.jwtSvidTTL,
    replicas: m.spire.replicas,
    datastore: m.spire.datastore,
    clusterIssuerName,
    className: CONTROLLER_CLASS_NAME,
    oidc: m.oidc,
  };
}

/** A SPIFFE trust domain on Kubernetes and its federation. */
export class SpireFederation extends pulumi.ComponentResource {
  /** cert-manager and the root of trust. */
  readonly certManager: CertManager;
  /** SPIRE and the workload registrations. */
  readonly spire: Spire;
  /** The trust domain. */
  readonly trustDomain: pulumi.Output<string>;
  /** The OIDC issuer URL (from config, known before anything is deployed). */
  readonly issuerUrl: pulumi.Output<string>;
  /** Where the JWT signing keys are published. */
  readonly jwksUri: pulumi.Output<string>;
  /** PEM of the root CA certificate (trust anchor). */
  readonly rootCaPem: pulumi.Output<string>;
  /** SPIFFE ID of each workload, by workload name. */
  readonly workloads: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: SpireFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("spire-federation:index:SpireFederation", name, {}, opts);
    const m = args.model;

    this.certManager = new CertManager(
      `${name}-cert-manager`,
      {
        install: m.certManager.install,
        chartVersion: m.certManager.chartVersion,
        namespace: m.certManager.namespace,
        root:
          m.ca.mode === "generated"
            ? {
                mode: "generated",
                keyAlgorithm: m.ca.keyAlgorithm,
                validityHours: m.ca.validityHours,
                trustDomain: m.trustDomain,
                clusterIssuerName: "spire-federation-root",
              }
            : m.ca,
      },
      { parent: this },
    );

    this.spire = new Spire(
      `${name}-spire`,
      {
        ...spireValuesArgs(m, this.certManager.clusterIssuerName),
        chartVersion: m.spire.chartVersion,
        crdsChartVersion: m.spire.crdsChartVersion,
        workloads: m.workloads,
        upstreamReady: this.certManager.ready,
      },
      { parent: this },
    );

    this.trustDomain = pulumi.output(m.trustDomain);
    this.issuerUrl = pulumi.output(m.oidc.issuerUrl);
    this.jwksUri = pulumi.output(m.oidc.jwksUri);
    this.rootCaPem = this.certManager.rootCertificatePem;
    this.workloads = pulumi.output(
      Object.fromEntries(m.workloads.map((w) => [w.name, w.spiffeId])),
    );
    this.registerOutputs({
      trustDomain: this.trustDomain,
      issuerUrl: this.issuerUrl,
      jwksUri: this.jwksUri,
      rootCaPem: this.rootCaPem,
      workloads: this.workloads,
    });
  }
}
