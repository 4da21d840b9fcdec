/**
 * Istio on SPIRE: the mesh's mTLS identities come from this trust domain. Istio's proxies take
 * their certificates from SPIRE's Workload API (through the SPIFFE CSI driver) instead of
 * istiod's CA.
 *
 * What Istio enforces, and how this component meets it:
 * - a proxy accepts only peers of `meshConfig.trustDomain` (default `cluster.local`): istiod's
 *   values set it to SPIRE's trust domain (and the `istio-trust-domain` policy checks both
 *   releases agree);
 * - SPIFFE IDs must read `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`: mesh
 *   workloads must keep that path (a config rule), and the gateway's ClusterSPIFFEID issues it;
 * - istio-agent uses SPIRE only when the Workload API socket is at
 *   `/var/run/secrets/workload-spiffe-uds/socket` when it starts: the `spire` injection template
 *   puts the CSI volume there, the gateway and every mesh pod ask for it, and Istio is installed
 *   only after SPIRE (whose release brings the CSI driver);
 * - the gateway's identity must be registered before its pods start: the gateway release waits
 *   on its ClusterSPIFFEID, which waits on SPIRE (whose webhook rejects it before);
 * - istiod's injection webhook must run before the gateway's pods are created: the gateway
 *   release waits on istiod, istiod on base (the CRDs).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { formatSpiffeId, trustDomainProblem } from "../../spiffe-id";
import { rejectProblems } from "../args";
import {
  chartVersionProblem,
  ISTIO_NAMESPACE,
  ISTIO_REPO,
  meshSpiffePath,
  revisionProblem,
  type MtlsMode,
} from "./rules";
import {
  baseValues,
  gatewayClusterSpiffeIdName,
  gatewayClusterSpiffeIdSpec,
  gatewayValues,
  istiodValues,
  meshPodMetadata,
  type IstioGateway,
  type IstioPodMetadata,
} from "./values";

/** One workload that joins the mesh. */
export interface IstioGrantArgs {
  /** Workload name (the key of its login). */
  workload: string;
  /** Its namespace. */
  namespace: string;
  /** Its service account. */
  serviceAccount: string;
  /** Its SPIFFE ID; must be `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. */
  spiffeId: string;
}

/** Arguments of {@link IstioFederation}. Plain values, validated before registration. */
export interface IstioFederationArgs {
  /** SPIRE's trust domain; becomes `meshConfig.trustDomain`. */
  trustDomain: string;
  /** Controller class of SPIRE's controller manager; the gateway's ClusterSPIFFEID carries it. */
  className: string;
  /** Install Istio's charts; when false, {@link IstioFederation.values} holds what to merge. */
  install: boolean;
  /** Version of the base, istiod and gateway charts (= the Istio version). Default: 1.30.3. */
  chartVersion: string;
  /** istiod revision (a DNS-1123 label); unset for the default revision. */
  revision?: string;
  /** The ingress gateway, when there is one. */
  ingressGateway?: IstioGateway;
  /** Mesh-wide PeerAuthentication mode; unset: no PeerAuthentication (Istio's PERMISSIVE). */
  mtls?: MtlsMode;
  /** Workloads that join the mesh. */
  grants: IstioGrantArgs[];
  /** What Istio waits on: the SPIRE release (CSI driver, controller manager). */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

/** A mesh workload's login: what its pods must carry. */
export type IstioLogin = IstioPodMetadata;

/** The values a user merges into an existing Istio installation (`install: false`). */
export interface IstioValues {
  /** For the istiod chart (or IstioOperator `spec.values` / `spec.meshConfig`). */
  istiod: Record<string, unknown>;
  /** For the gateway chart, when there is an ingress gateway. */
  gateway?: Record<string, unknown>;
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function istioArgsProblems(args: IstioFederationArgs): string[] {
  const problems: string[] = [];
  const td = trustDomainProblem(args.trustDomain);
  if (td) problems.push(`trust domain ${JSON.stringify(args.trustDomain)}: ${td}`);
  const cv = chartVersionProblem(args.chartVersion);
  if (cv) problems.push(`chart version ${JSON.stringify(args.chartVersion)} ${cv}`);
  if (args.revision !== undefined) {
    const rv = revisionProblem(args.revision);
    if (rv) problems.push(`revision ${JSON.stringify(args.revision)} ${rv}`);
  }
  if (td) return problems;
  for (const g of args.grants) {
    const want = formatSpiffeId(args.trustDomain, meshSpiffePath(g.namespace, g.serviceAccount));
    if (g.spiffeId !== want) {
      problems.push(`SPIFFE ID of ${g.workload} is ${g.spiffeId}; Istio requires ${want}`);
    }
    if (args.ingressGateway?.namespace === g.namespace) {
      problems.push(`${g.workload} is in the ingress gateway's namespace ${g.namespace}`);
    }
  }
  return problems;
}

/** Istio's releases (or the values for an existing Istio), the gateway's identity, mTLS. */
export class IstioFederation extends pulumi.ComponentResource {
  /** The base release (CRDs), when installing. */
  readonly baseRelease?: k8s.helm.v3.Release;
  /** The istiod release, when installing. */
  readonly istiodRelease?: k8s.helm.v3.Release;
  /** The gateway release, when installing with an ingress gateway. */
  readonly gatewayRelease?: k8s.helm.v3.Release;
  /** The gateway's ClusterSPIFFEID, when there is an ingress gateway. */
  readonly gatewayId?: k8s.apiextensions.CustomResource;
  /** The mesh-wide PeerAuthentication, when `mtls` is set. */
  readonly peerAuthentication?: k8s.apiextensions.CustomResource;
  /** The values this component sets (or would set), per chart. */
  readonly values: IstioValues;
  /** Login outputs by workload name. */
  readonly logins: Record<string, IstioLogin>;

  constructor(name: string, args: IstioFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("IstioFederation", name, istioArgsProblems(args));
    super("spire-federation:federation:Istio", name, {}, opts);
    const { revision, ingressGateway: gateway } = args;

    this.values = {
      istiod: istiodValues({ trustDomain: args.trustDomain, revision }),
      gateway: gateway && gatewayValues({ gateway, revision }),
    };

    // Registered before the gateway starts: its pods take SPIRE's socket from the first start.
    if (gateway) {
      this.gatewayId = new k8s.apiextensions.CustomResource(
        `${name}-gateway-id`,
        {
          apiVersion: "spire.spiffe.io/v1alpha1",
          kind: "ClusterSPIFFEID",
          metadata: { name: gatewayClusterSpiffeIdName(gateway) },
          spec: gatewayClusterSpiffeIdSpec({
            gateway,
            spiffeId: formatSpiffeId(
              args.trustDomain,
              meshSpiffePath(gateway.namespace, gateway.name),
            ),
            className: args.className,
          }),
        },
        // The controller manager's webhook rejects ClusterSPIFFEIDs until SPIRE is ready.
        { parent: this, dependsOn: args.waitFor },
      );
    }

    if (args.install) {
      const release = (chart: string, releaseName: string, namespace: string) => ({
        name: releaseName,
        chart,
        version: args.chartVersion,
        repositoryOpts: { repo: ISTIO_REPO },
        namespace,
        createNamespace: true,
      });
      // After SPIRE: injected pods mount the CSI driver that the SPIRE release installs.
      this.baseRelease = new k8s.helm.v3.Release(
        `${name}-base`,
        { ...release("base", "istio-base", ISTIO_NAMESPACE), values: baseValues() },
        { parent: this, dependsOn: args.waitFor },
      );
      this.istiodRelease = new k8s.helm.v3.Release(
        `${name}-istiod`,
        {
          ...release("istiod", revision ? `istiod-${revision}` : "istiod", ISTIO_NAMESPACE),
          values: this.values.istiod,
        },
        { parent: this, dependsOn: [...args.waitFor, this.baseRelease] },
      );
      if (gateway && this.gatewayId) {
        this.gatewayRelease = new k8s.helm.v3.Release(
          `${name}-gateway`,
          {
            ...release("gateway", gateway.name, gateway.namespace),
            values: this.values.gateway,
          },
          // istiod injects the gateway's proxy; its identity must exist before it starts.
          { parent: this, dependsOn: [...args.waitFor, this.istiodRelease, this.gatewayId] },
        );
      }
    }

    if (args.mtls) {
      this.peerAuthentication = new k8s.apiextensions.CustomResource(
        `${name}-mtls`,
        {
          apiVersion: "security.istio.io/v1",
          kind: "PeerAuthentication",
          // `default` in the root namespace applies to the whole mesh.
          metadata: { name: "default", namespace: ISTIO_NAMESPACE },
          spec: { mtls: { mode: args.mtls } },
        },
        // The CRD comes with base; istiod's webhook validates it.
        { parent: this, dependsOn: this.istiodRelease ? [this.istiodRelease] : [] },
      );
    }

    this.logins = {};
    for (const g of args.grants) this.logins[g.workload] = meshPodMetadata(revision);
    this.registerOutputs({});
  }
}
