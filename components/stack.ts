/**
 * The top-level component: wires cert-manager, SPIRE and (in later config blocks) the relying
 * parties from the validated {@link StackModel}. Federation inputs come from config and the root
 * certificate, never from a cluster resource, so relying parties need not wait for Kubernetes.
 */
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "./cert-manager";
import type { StackModel } from "./config";
import type { AnyRelyingParty } from "./federation/contract";
import {
  relyingParties,
  type RelyingPartyKey,
  type RelyingPartyLogins,
} from "./federation/registry";
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

/** What one workload needs to use its grants in each relying party (outputs), by config key. */
export type WorkloadFederationOutputs = RelyingPartyLogins;

/**
 * Child name suffix per relying party. Entra's component was named `-entra` before the config key
 * `azure` named its folder; the name stays so that existing stacks see no replacement.
 */
function componentSuffix(key: string): string {
  return key === "azure" ? "entra" : key;
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
  /** Each configured relying party's component, by config key. */
  readonly relyingParties: Partial<Record<RelyingPartyKey, pulumi.ComponentResource>>;
  /** Extra stack outputs the relying parties contribute (e.g. a CA verification token). */
  readonly extraOutputs: Record<string, pulumi.Input<unknown>>;
  /**
   * What each workload needs to use its grants, by workload name. A plain record of outputs, so
   * that values known at preview (roles, audiences) show while others are still unknown.
   */
  readonly federation: Record<string, WorkloadFederationOutputs>;

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

    // Relying parties, in registry order. Only those that fetch the discovery endpoint wait on
    // the cluster (through `trust.spireRelease`); the others take the issuer from config and the
    // root from the root of trust, so they deploy in parallel with Kubernetes.
    this.relyingParties = {};
    this.extraOutputs = {};
    this.federation = Object.fromEntries(m.workloads.map((w) => [w.name, {}]));
    const parties: readonly AnyRelyingParty[] = relyingParties;
    const blocks = m as unknown as Record<string, unknown>;
    for (const party of parties) {
      const block = blocks[party.key];
      if (block === undefined) continue;
      const built = party.build(
        `${name}-${componentSuffix(party.key)}`,
        {
          core: m,
          block,
          grants: m.workloads.flatMap((w) => {
            const grant = (w as unknown as Record<string, unknown>)[party.key];
            return grant === undefined ? [] : [{ workload: w, grant }];
          }),
          trust: {
            rootCertificatePem: this.certManager.rootCertificatePem,
            rootPrivateKeyPem: this.certManager.rootPrivateKeyPem,
            spireRelease: this.spire.release,
            controllerClassName: CONTROLLER_CLASS_NAME,
          },
        },
        { parent: this },
      );
      this.relyingParties[party.key as RelyingPartyKey] = built.component;
      Object.assign(this.extraOutputs, built.outputs);
      for (const [workload, login] of Object.entries(built.logins)) {
        (this.federation[workload] as Record<string, unknown>)[party.key] = login;
      }
    }

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
      federation: this.federation,
    });
  }
}
