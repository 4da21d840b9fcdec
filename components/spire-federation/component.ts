/**
 * SPIRE-to-SPIRE federation: one ClusterFederatedTrustDomain per peer trust domain, and the
 * outputs a peer's stack reads to federate back (`trustBundle`, `bundleEndpoint`).
 *
 * What SPIRE and its controller manager enforce, and how this component meets it:
 * - the controller manager reconciles a ClusterFederatedTrustDomain only when its `className`
 *   equals its own class: each carries this stack's class (the one its ClusterSPIFFEIDs carry);
 * - its webhook rejects the object until the release runs, and rejects a bad spec
 *   (spire-controller-manager `ParseClusterFederatedTrustDomainSpec`): each waits on the spire
 *   release; `endpointSPIFFEID` is set exactly for `https_spiffe`; the URL is https without user
 *   info; `trustDomainBundle` is SPIFFE bundle JSON (PEM from config is converted);
 * - with `https_spiffe` SPIRE authenticates the peer's endpoint with the peer's bundle, so the
 *   first fetch fails without a bootstrap bundle: config rules require one (inline, or the peer
 *   stack's `trustBundle` output through a StackReference);
 * - a peer read from its stack must be the trust domain this stack names: a mismatch fails the
 *   update with the stack's name, before the object reaches the cluster.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rejectProblems } from "../federation/args";
import {
  type BundleEndpointOutput,
  bundleEndpointUrlProblem,
  endpointSpiffeIdProblem,
  parsePeerOutput,
  pemToSpiffeBundle,
  peerTrustDomainProblem,
  serverSpiffeId,
} from "./rules";
import type { BundleEndpointModel, PeerModel } from "./schema";

/** Arguments of {@link TrustDomainFederation}. Plain values from config, validated before. */
export interface TrustDomainFederationArgs {
  /** This stack's trust domain (no peer may name it). */
  trustDomain: string;
  /** The controller manager's class; every ClusterFederatedTrustDomain carries it. */
  className: string;
  /** This trust domain's bundle endpoint, when it publishes one (then the outputs exist). */
  bundleEndpoint?: BundleEndpointModel;
  /** The peers. */
  peers: PeerModel[];
  /** PEM of the root CA (SPIRE's upstream root, so the X.509 part of its bundle); an Output. */
  rootCertificatePem: pulumi.Input<string>;
  /** The spire release: the controller manager's webhook rejects the objects before it runs. */
  spireRelease: pulumi.Input<pulumi.Resource>;
}

/** Type of the ClusterFederatedTrustDomain objects (for tests and policies). */
export const CLUSTER_FEDERATED_TRUST_DOMAIN = {
  apiVersion: "spire.spiffe.io/v1alpha1",
  kind: "ClusterFederatedTrustDomain",
} as const;

/** Problems of the args that would register a bad object, each as a sentence. */
export function trustDomainFederationProblems(args: TrustDomainFederationArgs): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const p of args.peers) {
    const td = peerTrustDomainProblem(p.trustDomain, args.trustDomain);
    if (td !== undefined) problems.push(`peer ${p.trustDomain}: ${td}`);
    if (seen.has(p.trustDomain)) problems.push(`peer ${p.trustDomain} is listed twice`);
    seen.add(p.trustDomain);
    if (p.fromStack === undefined) {
      if (p.bundleEndpointUrl === undefined) {
        problems.push(`peer ${p.trustDomain}: bundleEndpointUrl or fromStack is required`);
      }
      if ((p.profile ?? "https_spiffe") === "https_spiffe" && p.bundle === undefined) {
        problems.push(`peer ${p.trustDomain}: https_spiffe needs a bootstrap bundle or fromStack`);
      }
    }
    const url =
      p.bundleEndpointUrl === undefined ? undefined : bundleEndpointUrlProblem(p.bundleEndpointUrl);
    if (url !== undefined) problems.push(`peer ${p.trustDomain}: bundleEndpointUrl ${url}`);
    if (p.endpointSpiffeId !== undefined && p.profile !== "https_web") {
      const id = endpointSpiffeIdProblem(p.endpointSpiffeId, p.trustDomain);
      if (id !== undefined) problems.push(`peer ${p.trustDomain}: endpointSpiffeId ${id}`);
    }
  }
  return problems;
}

/** The spec of a peer whose every field is known (from config, or the peer's resolved outputs). */
export function clusterFederatedTrustDomainSpec(
  peer: Required<Pick<PeerModel, "trustDomain" | "bundleEndpointUrl" | "profile">> &
    Pick<PeerModel, "endpointSpiffeId" | "bundle">,
  className: string,
): Record<string, unknown> {
  return {
    className,
    trustDomain: peer.trustDomain,
    bundleEndpointURL: peer.bundleEndpointUrl,
    bundleEndpointProfile:
      peer.profile === "https_spiffe"
        ? {
            type: "https_spiffe",
            endpointSPIFFEID: peer.endpointSpiffeId ?? serverSpiffeId(peer.trustDomain),
          }
        : { type: "https_web" },
    ...(peer.bundle === undefined ? {} : { trustDomainBundle: peer.bundle }),
  };
}

/**
 * The spec of a peer read from its stack: its published `bundleEndpoint` and `trustBundle`, under
 * what config sets. Throws a RunError naming the stack when the outputs do not fit (the engine
 * prints a RunError's message without a stack and fails the update).
 */
export function publishedPeerSpec(
  peer: PeerModel,
  stack: string,
  endpoint: unknown,
  bundle: unknown,
  className: string,
): Record<string, unknown> {
  const published = parsePeerOutput(endpoint, bundle, peer.trustDomain);
  if (endpoint === undefined && bundle === undefined && "problem" in published) {
    // No outputs at all: the stack reference itself fails the update with its reason.
    return clusterFederatedTrustDomainSpec(
      { ...peer, bundleEndpointUrl: "", profile: peer.profile ?? "https_spiffe" },
      className,
    );
  }
  if ("problem" in published) {
    throw new pulumi.RunError(
      `spire-federation:federation.trustDomains (${peer.trustDomain}): stack ${stack} ${published.problem}`,
    );
  }
  return clusterFederatedTrustDomainSpec(
    {
      trustDomain: peer.trustDomain,
      bundleEndpointUrl: peer.bundleEndpointUrl ?? published.endpoint.url,
      profile: peer.profile ?? published.endpoint.profile,
      endpointSpiffeId: peer.endpointSpiffeId ?? published.endpoint.endpointSpiffeId,
      bundle: published.bundle,
    },
    className,
  );
}

/** A stack's peers and its own bundle endpoint. */
export class TrustDomainFederation extends pulumi.ComponentResource {
  /** One ClusterFederatedTrustDomain per peer, by trust domain. */
  readonly peers: Record<string, k8s.apiextensions.CustomResource>;
  /** The StackReference of each peer read from its stack, by `org/project/stack`. */
  readonly stackReferences: Record<string, pulumi.StackReference>;
  /**
   * The stack outputs peers read (`fromStack`), present when this trust domain publishes a bundle
   * endpoint: `trustBundle` (SPIFFE bundle JSON of the root) and `bundleEndpoint`.
   */
  readonly outputs: Record<string, pulumi.Input<unknown>>;

  constructor(
    name: string,
    args: TrustDomainFederationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    rejectProblems("TrustDomainFederation", name, trustDomainFederationProblems(args));
    super("spire-federation:index:TrustDomainFederation", name, {}, opts);

    this.peers = {};
    this.stackReferences = {};
    for (const peer of args.peers) {
      let spec: pulumi.Input<Record<string, unknown>>;
      if (peer.fromStack === undefined) {
        spec = clusterFederatedTrustDomainSpec(
          {
            ...peer,
            bundleEndpointUrl: peer.bundleEndpointUrl ?? "",
            profile: peer.profile ?? "https_spiffe",
          },
          args.className,
        );
      } else {
        const stack = peer.fromStack;
        const ref = new pulumi.StackReference(
          `${name}-stack-${stack.replaceAll("/", "-")}`,
          { name: stack },
          { parent: this },
        );
        this.stackReferences[stack] = ref;
        spec = pulumi
          .all([ref.getOutput("bundleEndpoint"), ref.getOutput("trustBundle")])
          .apply(([endpoint, bundle]) =>
            publishedPeerSpec(peer, stack, endpoint, bundle, args.className),
          );
      }
      this.peers[peer.trustDomain] = new k8s.apiextensions.CustomResource(
        `${name}-peer-${peer.resourceName}`,
        {
          ...CLUSTER_FEDERATED_TRUST_DOMAIN,
          metadata: { name: peer.resourceName },
          spec,
        },
        // The controller manager's webhook rejects the object until the release runs.
        { parent: this, dependsOn: [args.spireRelease] },
      );
    }

    this.outputs = {};
    const e = args.bundleEndpoint;
    if (e !== undefined) {
      const endpoint: BundleEndpointOutput = {
        trustDomain: args.trustDomain,
        url: e.url,
        profile: e.profile,
        ...(e.endpointSpiffeId === undefined ? {} : { endpointSpiffeId: e.endpointSpiffeId }),
        refreshHint: e.refreshHint,
      };
      this.outputs.bundleEndpoint = endpoint;
      // With cert-manager as SPIRE's upstream authority, the X.509 part of SPIRE's bundle is the
      // upstream root; the JWT keys follow with the peer's first refresh.
      this.outputs.trustBundle = pulumi.output(args.rootCertificatePem).apply((pem) => {
        const b = pemToSpiffeBundle(pem);
        if ("problem" in b) throw new Error(`the root certificate ${b.problem}`);
        return b.bundle;
      });
    }
    this.registerOutputs(this.outputs);
  }
}
