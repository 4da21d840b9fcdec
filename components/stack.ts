/**
 * The top-level component: wires cert-manager, SPIRE and (in later config blocks) the relying
 * parties from the validated {@link StackModel}. Federation inputs come from config and the root
 * certificate, never from a cluster resource, so relying parties need not wait for Kubernetes.
 */
import * as pulumi from "@pulumi/pulumi";
import { AnchorGuard, type AnchoredValues, rootFingerprint } from "./anchor-guard";
import { CertManager } from "./cert-manager";
import type { StackModel } from "./config";
import { rejectProblems } from "./federation/args";
import type { AnyRelyingParty } from "./federation/contract";
import {
  relyingParties,
  type RelyingPartyKey,
  type RelyingPartyLogins,
} from "./federation/registry";
import { workloadPaths } from "./federation/paths";
import type { NodeWorkload, PodWorkload } from "./model";
import { Nodes } from "./nodes/component";
import { SERVER_PORT } from "./nodes/rules";
import { Spire, type SpireValuesArgs } from "./spire";
import { TrustDomainFederation } from "./spire-federation/component";
import { WorkloadFiles, type WorkloadFilesEntry } from "./workload/component";

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
    nodes: { hostnames: m.nodes.map((n) => n.hostname), exposure: m.spire.server.exposure },
    oidc: m.oidc,
    ...(m.federation === undefined
      ? {}
      : {
          federation: {
            bundleEndpoint: m.federation.bundleEndpoint,
            // Istio's proxies trust the peers only when SPIRE's SDS hands them every bundle.
            istioSds: m.istio !== undefined && m.federation.trustDomains.length > 0,
          },
        }),
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
  /** Entries and agent files for machines outside Kubernetes (when `nodes` lists any). */
  readonly nodes?: Nodes;
  /** Peer trust domains and this trust domain's bundle endpoint (when `federation` is set). */
  readonly trustDomainFederation?: TrustDomainFederation;
  /** The record of the anchored values that refuses their change (see anchor-guard.ts). */
  readonly anchorGuard: AnchorGuard;
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
  /**
   * Each workload's ConfigMaps and pod patch (absent when `workloadFiles.enabled` is false or no
   * workload has files on).
   */
  readonly workloadFiles?: WorkloadFiles;

  constructor(name: string, args: SpireFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    const exposure = args.model.spire.server.exposure;
    rejectProblems(
      "SpireFederation",
      name,
      args.model.nodes.length > 0 && exposure === undefined
        ? ["nodes need model.spire.server.exposure (agents reach the server through it)"]
        : [],
    );
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
        protectAnchors: m.anchors.protect,
      },
      { parent: this },
    );

    this.spire = new Spire(
      `${name}-spire`,
      {
        ...spireValuesArgs(m, this.certManager.clusterIssuerName),
        chartVersion: m.spire.chartVersion,
        crdsChartVersion: m.spire.crdsChartVersion,
        // ClusterSPIFFEIDs select pods; node workloads get ClusterStaticEntries below.
        workloads: m.workloads.filter((w): w is PodWorkload & typeof w => w.mode === "pod"),
        upstreamReady: this.certManager.ready,
        protectAnchors: m.anchors.protect,
      },
      { parent: this },
    );

    if (m.nodes.length > 0 && exposure !== undefined) {
      this.nodes = new Nodes(
        `${name}-nodes`,
        {
          trustDomain: m.trustDomain,
          className: CONTROLLER_CLASS_NAME,
          server: {
            address: exposure.mode === "ingress" ? exposure.host : exposure.address,
            port: SERVER_PORT,
          },
          nodes: m.nodes,
          workloads: m.workloads.filter((w): w is NodeWorkload & typeof w => w.mode === "node"),
          trustBundlePem: this.certManager.rootCertificatePem,
          ready: [this.spire.release],
        },
        { parent: this },
      );
    }

    // Relying parties, in registry order. Only those that fetch the discovery endpoint wait on
    // the cluster (through `trust.spireRelease`); the others take the issuer from config and the
    // root from the root of trust, so they deploy in parallel with Kubernetes.
    this.relyingParties = {};
    this.extraOutputs = {};
    this.federation = Object.fromEntries(m.workloads.map((w) => [w.name, {}]));
    const parties: readonly AnyRelyingParty[] = relyingParties;
    const blocks = m as unknown as Record<string, unknown>;
    const anchored: AnchoredValues = {
      trustDomain: m.trustDomain,
      issuer: m.oidc.issuerUrl,
      clusterName: m.clusterName,
    };
    for (const party of parties) {
      const block = blocks[party.key];
      if (block === undefined) continue;
      const ctx = {
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
      };
      Object.assign(anchored, party.anchoredValues?.(ctx));
      const built = party.build(`${name}-${componentSuffix(party.key)}`, ctx, { parent: this });
      this.relyingParties[party.key as RelyingPartyKey] = built.component;
      Object.assign(this.extraOutputs, built.outputs);
      for (const [workload, login] of Object.entries(built.logins)) {
        (this.federation[workload] as Record<string, unknown>)[party.key] = login;
      }
    }

    if (m.federation !== undefined) {
      this.trustDomainFederation = new TrustDomainFederation(
        `${name}-trust-domains`,
        {
          trustDomain: m.trustDomain,
          className: CONTROLLER_CLASS_NAME,
          bundleEndpoint: m.federation.bundleEndpoint,
          peers: m.federation.trustDomains,
          rootCertificatePem: this.certManager.rootCertificatePem,
          spireRelease: this.spire.release,
        },
        { parent: this },
      );
      Object.assign(this.extraOutputs, this.trustDomainFederation.outputs);
    }

    // The workload's half: what each workload's pods need to use the logins above. The files
    // ConfigMaps wait on nothing; values that exist only after deploy (Azure's client ID) reach
    // the env ConfigMaps as Outputs, so those wait on exactly the resources that make them.
    const paths = workloadPaths(m.workloadFiles.certDir);
    // Pod workloads only: a node workload's processes run outside Kubernetes.
    const withFiles: WorkloadFilesEntry[] = m.workloads
      .flatMap((w) => (w.mode === "pod" && w.files ? [w] : []))
      .map((w) => ({
        name: w.name,
        namespace: w.namespace,
        contributions: parties.flatMap((party) => {
          const grant = (w as unknown as Record<string, unknown>)[party.key];
          const login = (this.federation[w.name] as Record<string, unknown>)[party.key];
          if (party.workloadFiles === undefined || grant === undefined || login === undefined) {
            return [];
          }
          const block = blocks[party.key];
          return [
            {
              party: party.key,
              ...party.workloadFiles({ core: m, block, workload: w, grant, login, paths }),
            },
          ];
        }),
      }));
    // A workload whose grants need no files (none, or only relying parties without a
    // contribution such as Istio) gets no helper.
    const needFiles = withFiles.filter((w) => w.contributions.length > 0);
    if (needFiles.length > 0) {
      this.workloadFiles = new WorkloadFiles(
        `${name}-workload-files`,
        {
          helperImage: m.workloadFiles.helperImage,
          certDir: m.workloadFiles.certDir,
          workloads: needFiles,
        },
        { parent: this },
      );
    }

    // The guard: the anchored values a deployed stack keeps (see anchor-guard.ts).
    this.anchorGuard = new AnchorGuard(
      `${name}-anchors`,
      {
        anchors: { ...anchored, root: this.certManager.rootCertificatePem.apply(rootFingerprint) },
        allowMigration: m.anchors.allowMigration,
        protect: m.anchors.protect,
        spireChart: m.spire.chartVersion,
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
      federation: this.federation,
    });
  }
}
