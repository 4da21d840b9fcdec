/**
 * The top-level component: wires cert-manager, SPIRE and (in later config blocks) the relying
 * parties from the validated {@link StackModel}. Federation inputs come from config and the root
 * certificate, never from a cluster resource, so relying parties need not wait for Kubernetes.
 */
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "./cert-manager";
import type { StackModel } from "./config";
import { EntraFederation, type EntraIdentityArgs, type EntraLogin } from "./federation/azure/component";
import { GcpFederation, type GcpLogin } from "./federation/gcp/component";
import { OpenZitiFederation, type ZitiIdentityFile } from "./federation/openziti/component";
import { VaultFederation, type VaultLogin } from "./federation/vault/component";
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

/** What one workload needs to use its grants in each relying party (outputs). */
export interface WorkloadFederationOutputs {
  /** Vault role, login path and audience. */
  vault?: VaultLogin;
  /** Entra client, tenant and principal IDs. */
  azure?: EntraLogin;
  /** Google Cloud principal, audiences and credential configurations. */
  gcp?: GcpLogin;
  /** The OpenZiti identity file a tunneler or SDK loads. */
  openziti?: ZitiIdentityFile;
}

/** Groups workloads with Azure grants by identity: one credential each, grants deduplicated. */
export function entraIdentities(m: StackModel): EntraIdentityArgs[] {
  const byName = new Map<string, EntraIdentityArgs>();
  for (const w of m.workloads) {
    if (!w.azure) continue;
    const identity = byName.get(w.azure.identity) ?? {
      name: w.azure.identity,
      credentials: [],
      roleAssignments: [],
    };
    identity.credentials.push({ name: w.name, subject: w.spiffeId });
    for (const a of w.azure.roleAssignments) {
      if (!identity.roleAssignments.some((x) => x.role === a.role && x.scope === a.scope)) {
        identity.roleAssignments.push(a);
      }
    }
    byName.set(identity.name, identity);
  }
  return [...byName.values()];
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
  /** Vault JWT auth, when configured. */
  readonly vault?: VaultFederation;
  /** Entra ID federation, when configured. */
  readonly entra?: EntraFederation;
  /** Google Cloud federation, when configured. */
  readonly gcp?: GcpFederation;
  /** OpenZiti federation, when configured. */
  readonly openziti?: OpenZitiFederation;
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

    // Relying parties. Only Vault waits on the cluster (its backend fetches the discovery
    // document when written); Entra and Google Cloud take the issuer from config and the root
    // from the root of trust, so they deploy in parallel with Kubernetes.
    if (m.vault !== undefined) {
      this.vault = new VaultFederation(
        `${name}-vault`,
        {
          issuerUrl: m.oidc.issuerUrl,
          path: m.vault.path,
          discoveryCaPem: m.vault.discoveryCaPem,
          policies: m.vault.policies,
          roles: m.workloads.flatMap((w) =>
            w.vault ? [{ name: w.name, spiffeId: w.spiffeId, ...w.vault }] : [],
          ),
          waitFor: [this.spire.release],
        },
        { parent: this },
      );
    }
    if (m.azure !== undefined) {
      this.entra = new EntraFederation(
        `${name}-entra`,
        {
          issuerUrl: m.oidc.issuerUrl,
          audience: m.azure.audience,
          resourceGroupName: m.azure.resourceGroupName,
          location: m.azure.location,
          subscriptionId: m.azure.subscriptionId,
          identities: entraIdentities(m),
        },
        { parent: this },
      );
    }
    if (m.gcp !== undefined) {
      this.gcp = new GcpFederation(
        `${name}-gcp`,
        {
          ...m.gcp,
          issuerUrl: m.oidc.issuerUrl,
          trustDomain: m.trustDomain,
          rootCaPem: this.certManager.rootCertificatePem,
          grants: m.workloads.flatMap((w) =>
            w.gcp ? [{ workload: w.name, spiffeId: w.spiffeId, roles: w.gcp.roles }] : [],
          ),
        },
        { parent: this },
      );
    }
    if (m.openziti !== undefined) {
      const z = m.openziti;
      const root = this.certManager.rootPrivateKeyPem;
      this.openziti = new OpenZitiFederation(
        `${name}-openziti`,
        {
          connection: {
            controllerUrl: z.controllerUrl,
            username: z.username,
            password: z.password,
            caPem: z.controllerCaPem,
          },
          caName: z.caName,
          x509: z.x509,
          jwt: z.jwt,
          audience: z.audience,
          issuerUrl: m.oidc.issuerUrl,
          jwksUri: m.oidc.jwksUri,
          rootCaPem: this.certManager.rootCertificatePem,
          verification: root
            ? { mode: "sign", caPrivateKeyPem: root }
            : z.verificationCertPem
              ? { mode: "pem", certPem: z.verificationCertPem }
              : { mode: "none" },
          identities: m.workloads.flatMap((w) =>
            w.openziti
              ? [
                  {
                    name: w.name,
                    spiffeId: w.spiffeId,
                    roleAttributes: w.openziti.roleAttributes,
                    admin: w.openziti.admin,
                  },
                ]
              : [],
          ),
        },
        { parent: this },
      );
    }
    this.federation = {};
    for (const w of m.workloads) {
      const entry: WorkloadFederationOutputs = {};
      const vaultLogin = this.vault?.logins[w.name];
      if (vaultLogin) entry.vault = vaultLogin;
      if (w.azure && this.entra) entry.azure = this.entra.logins[w.azure.identity];
      const gcpLogin = this.gcp?.logins[w.name];
      if (gcpLogin) entry.gcp = gcpLogin;
      const zitiFile = this.openziti?.identityFiles[w.name];
      if (zitiFile) entry.openziti = zitiFile;
      this.federation[w.name] = entry;
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
