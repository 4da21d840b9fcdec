/**
 * The deploy critical path of a plan: the longest chain of resources in its dependency graph,
 * next to the longest chain that data dependencies and the relying parties' ordering rules require
 * (so an unneeded `dependsOn` shows up).
 */
import type { Plan, PlanResource } from "../plan-types";

/**
 * Orderings that are required although no input carries them (type of the waiting resource →
 * types it must wait on): each is a fact of the system, documented in DESIGN.md.
 */
const REQUIRED_ORDER: Record<string, string[]> = {
  // cert-manager's CRDs and namespace must exist
  "kubernetes:core/v1:Secret": ["kubernetes:helm.sh/v3:Release"],
  "kubernetes:cert-manager.io/v1:ClusterIssuer": [
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:core/v1:Secret",
  ],
  // spire after spire-crds and its upstream issuer; Istio's gateway after the ClusterSPIFFEID
  // of its service account
  "kubernetes:helm.sh/v3:Release": [
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:cert-manager.io/v1:ClusterIssuer",
    "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID",
  ],
  // Istio's CRDs come with base; istiod's webhook validates Istio config
  "kubernetes:security.istio.io/v1:PeerAuthentication": ["kubernetes:helm.sh/v3:Release"],
  // the controller manager's webhook rejects them before the release is ready
  "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID": ["kubernetes:helm.sh/v3:Release"],
  // the gate polls what the release serves; Vault fetches discovery when the backend is written
  "command:local:Command": ["kubernetes:helm.sh/v3:Release"],
  "vault:jwt/authBackend:AuthBackend": ["command:local:Command"],
  // Entra: credentials under one identity one at a time, after the identity
  "azure-native:managedidentity:FederatedIdentityCredential": [
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:managedidentity:FederatedIdentityCredential",
  ],
  // IAM principals name the pool
  "gcp:projects/iAMMember:IAMMember": ["gcp:iam/workloadIdentityPool:WorkloadIdentityPool"],
  // OpenZiti: identities authenticate through the CA only once it is verified
  "pulumi-nodejs:dynamic/openziti:Identity": [
    "pulumi-nodejs:dynamic/openziti:Ca",
    "pulumi-nodejs:dynamic/openziti:CaVerification",
  ],
  "pulumi-nodejs:dynamic/openziti:CaVerification": ["pulumi-nodejs:dynamic/openziti:Ca"],
};

/** Longest chain (by resource count) in the graph given by `edges` (resource → what it waits on). */
export function longestChain(
  resources: PlanResource[],
  edges: (r: PlanResource) => string[],
): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, string[]>();
  const visit = (urn: string): string[] => {
    const hit = memo.get(urn);
    if (hit) return hit;
    const r = byUrn.get(urn);
    if (!r) return [];
    let best: string[] = [];
    for (const d of edges(r)) {
      const chain = visit(d);
      if (chain.length > best.length) best = chain;
    }
    const result = [...best, r.name];
    memo.set(urn, result);
    return result;
  };
  let longest: string[] = [];
  for (const r of resources) {
    const chain = visit(r.urn);
    if (chain.length > longest.length) longest = chain;
  }
  return longest;
}

/** Critical paths of a plan: all edges, and only the required ones. */
export function criticalPaths(plan: Plan) {
  const custom = plan.resources.filter(
    (r) => !r.type.startsWith("spire-federation:") && r.type !== "pulumi:pulumi:Stack",
  );
  const byUrn = new Map(custom.map((r) => [r.urn, r]));
  const required = (r: PlanResource) =>
    r.dependencies.filter((d) => {
      const dep = byUrn.get(d);
      if (!dep) return false;
      const data = Object.values(r.propertyDependencies ?? {}).some((urns) => urns.includes(d));
      return data || (REQUIRED_ORDER[r.type] ?? []).includes(dep.type);
    });
  const unjustified = custom.flatMap((r) =>
    r.dependencies
      .filter((d) => byUrn.has(d) && !required(r).includes(d))
      .map((d) => `${r.name} → ${byUrn.get(d)?.name}`),
  );
  return {
    longest: longestChain(custom, (r) => r.dependencies),
    required: longestChain(custom, required),
    unjustifiedEdges: unjustified,
  };
}
