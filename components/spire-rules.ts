/**
 * Which workloads need their own ClusterSPIFFEID, and when two would select the same pods:
 * pure rules shared by the config (which reports them against the workload's keys) and the Spire
 * component (which refuses them before registering anything).
 */

/** Namespace of the SPIRE server and the discovery provider under the chart's recommended layout. */
export const SPIRE_SERVER_NAMESPACE = "spire-server";

/**
 * The SPIFFE ID template of the chart's `default` ClusterSPIFFEID (the chart's own default,
 * pinned in our values so that the IDs the config computes are the IDs pods get).
 */
export const DEFAULT_SPIFFE_ID_TEMPLATE =
  "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}";

/** The path the chart's default ClusterSPIFFEID issues to a pod: `/ns/<namespace>/sa/<sa>`. */
export function defaultSpiffeIdPath(namespace: string, serviceAccount: string): string {
  return `/ns/${namespace}/sa/${serviceAccount}`;
}

/** A workload identity; see {@link needsClusterSpiffeId} for when it is registered. */
export interface SpireWorkload {
  /** Unique workload name (used in the ClusterSPIFFEID name and hint). */
  name: string;
  /** Namespace of the workload's pods. */
  namespace: string;
  /** Service account the pods run as; added as a `k8s:sa:` selector. */
  serviceAccount: string;
  /** The SPIFFE ID to issue. */
  spiffeId: string;
  /**
   * Pod labels that select the workload's pods; required (non-empty) when the SPIFFE ID is not
   * the chart default's, unused otherwise.
   */
  podLabels: Record<string, string>;
  /** Peer trust domains the workload federates with; a non-empty list needs its own entry. */
  federatesWith?: readonly string[];
}

/** Whether the workload's SPIFFE ID is the one the chart's default ClusterSPIFFEID issues. */
function hasDefaultId(w: SpireWorkload, trustDomain: string): boolean {
  return (
    w.spiffeId === `spiffe://${trustDomain}${defaultSpiffeIdPath(w.namespace, w.serviceAccount)}`
  );
}

/**
 * Whether the workload needs its own ClusterSPIFFEID: when its SPIFFE ID is not the one the
 * chart's default ClusterSPIFFEID already issues to its pods, or when it federates (the default
 * entry has no `federatesWith`).
 */
export function needsClusterSpiffeId(w: SpireWorkload, trustDomain: string): boolean {
  return !hasDefaultId(w, trustDomain) || (w.federatesWith?.length ?? 0) > 0;
}

/** Problems that keep workloads from being registered safely, each as a sentence. */
export function spireWorkloadProblems(workloads: SpireWorkload[], trustDomain: string): string[] {
  const problems: string[] = [];
  const custom = workloads.filter((w) => needsClusterSpiffeId(w, trustDomain));
  custom.forEach((w, i) => {
    if (Object.keys(w.podLabels).length === 0) {
      problems.push(
        `workload ${w.name} has ${hasDefaultId(w, trustDomain) ? "federatesWith" : "a custom SPIFFE ID"} and no pod labels; its ClusterSPIFFEID would select every pod in namespace ${w.namespace}`,
      );
    }
    for (const other of custom.slice(0, i)) {
      if (selectorsOverlap(w, other)) {
        problems.push(`workloads ${other.name} and ${w.name} select the same pods`);
      }
    }
  });
  return problems;
}

/**
 * Whether one pod can match both workloads' selectors: same namespace, and no label key that
 * both set to different values (`matchLabels` is a conjunction of equalities).
 */
export function selectorsOverlap(
  a: Pick<SpireWorkload, "namespace" | "podLabels">,
  b: Pick<SpireWorkload, "namespace" | "podLabels">,
): boolean {
  if (a.namespace !== b.namespace) return false;
  return Object.entries(a.podLabels).every(
    ([k, v]) => !Object.hasOwn(b.podLabels, k) || b.podLabels[k] === v,
  );
}

/**
 * The problem with a workload's SPIFFE ID path in SPIRE's reserved namespace (`/spire` and
 * below: the IDs of its servers and agents). SPIRE's entry API refuses such a workload entry
 * ("path is in the reserved namespace", `idutil.IsReservedPath`, spiffe/spire v1.15), so the
 * deployment would succeed and the workload would never get an ID.
 */
export function reservedSpiffePathProblem(path: string): string | undefined {
  return path === "/spire" || path.startsWith("/spire/")
    ? "must not be /spire or below it; SPIRE reserves that namespace for its servers' and agents' own IDs and refuses a workload entry there, so the workload would never get an ID: choose another path"
    : undefined;
}
