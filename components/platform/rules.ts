/**
 * Pure rules of team stacks on a platform stack, written once and used by the config parser
 * (`schema.ts`), the component and the policy pack: which keys a team stack may set, which
 * namespaces and SPIFFE ID paths it may claim, and what the platform reserves.
 */
import { SPIRE_SERVER_NAMESPACE } from "../spire-rules";

/** A fully qualified stack name, as a StackReference takes it: `org/project/stack`. */
export const STACK_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** A stack name (the last part of `org/project/stack`), as `teamStacks` keys it. */
export const STACK_SHORT_NAME = /^[A-Za-z0-9_.-]+$/;

/** The keys a team stack may set; every other key of the namespace is refused. */
export const TEAM_STACK_KEYS = ["platform", "workloads", "workloadFiles", "vault"] as const;

/**
 * Why a team stack may not set a key the platform owns, by key. The trust domain, issuer and
 * root are the platform's: a team that changed them would cut its workloads off from every
 * relying party that trusts the platform.
 */
export const TEAM_REFUSED_KEYS: Readonly<Record<string, string>> = {
  trustDomain: "the trust domain is the platform's (its trustDomain output)",
  clusterName: "the cluster is the platform's (its clusterName output)",
  oidc: "the issuer and its discovery endpoint are the platform's (its issuerUrl and jwksUri outputs)",
  ca: "the root of trust is the platform's (its rootCaPem output)",
  certManager: "cert-manager is deployed by the platform stack",
  spire: "SPIRE is deployed and configured by the platform stack",
  nodes:
    "agents outside Kubernetes attest to the platform's SPIRE server: list them in the platform stack",
  teamStacks: "only the platform stack lists team stacks and their namespaces",
  azure:
    "the Entra ID setup is shared and the platform's; a team stack takes Vault grants only: ask the platform team",
  gcp: "the Google pool is shared and the platform's; a team stack takes Vault grants only: ask the platform team",
  openziti:
    "the OpenZiti CA is shared and the platform's; a team stack takes Vault grants only: ask the platform team",
  istio: "the mesh is shared and the platform's: ask the platform team",
  curity:
    "the Curity setup is shared and the platform's; a team stack takes Vault grants only: ask the platform team",
};

/** Why a team's `vault` block may not set a key, by key (the backend is the platform's). */
export const TEAM_REFUSED_VAULT_KEYS: Readonly<Record<string, string>> = {
  path: "the JWT auth backend is the platform's (its shared.vault.path output)",
  discoveryCaPem: "the JWT auth backend and its discovery settings are the platform's",
};

/** Namespaces no team may use, whatever the platform's config: Kubernetes' own. */
export const KUBERNETES_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** SPIRE's reserved ID path: its servers' and agents' own IDs live below it. */
export const SPIRE_RESERVED_PATH = "/spire";

/**
 * Why a team stack may not give IDs in `namespace`, or undefined when it may: the namespace must
 * be one the platform lists for this team stack, and none the platform reserves.
 */
export function teamNamespaceProblem(
  namespace: string,
  teamStack: string,
  allowed: readonly string[],
  reserved: readonly string[],
): string | undefined {
  if (reserved.includes(namespace)) {
    return `namespace ${namespace} is reserved by the platform (SPIRE, cert-manager, Kubernetes or the platform's own workloads): use one of your team's namespaces`;
  }
  if (!allowed.includes(namespace)) {
    return `namespace ${namespace} is not one the platform lists for team stack ${teamStack} (${allowed.length === 0 ? "none" : allowed.join(", ")}): use one of them, or ask the platform team to add it to teamStacks.${teamStack}.namespaces`;
  }
  return undefined;
}

/** Whether `path` is `reserved` or below it. */
export function underPath(path: string, reserved: string): boolean {
  const base = reserved.replace(/\/+$/, "");
  return path === base || path.startsWith(`${base}/`);
}

/**
 * Why a team stack may not claim the SPIFFE ID path `path` (below the trust domain), or
 * undefined when it may: it must not be, or lie below, a path the platform reserves.
 */
export function teamSpiffePathProblem(
  path: string,
  reserved: readonly string[],
): string | undefined {
  const hit = reserved.find((r) => underPath(path, r));
  return hit === undefined
    ? undefined
    : `SPIFFE ID path ${path} is reserved by the platform (${hit}): choose a path of your own`;
}

/**
 * The platform's own problems with `teamStacks`: a namespace it reserves, or one given to two
 * team stacks (each team stack must own its namespaces, or one team could mint another's IDs).
 */
export function teamStacksProblems(
  teamStacks: Readonly<Record<string, { namespaces: readonly string[] }>>,
  reserved: readonly string[],
): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const owner = new Map<string, string>();
  for (const [team, grant] of Object.entries(teamStacks)) {
    grant.namespaces.forEach((ns, i) => {
      const path = ["teamStacks", team, "namespaces", i];
      if (reserved.includes(ns)) {
        problems.push({
          path,
          message: `namespace ${ns} is reserved by the platform (SPIRE, cert-manager, Kubernetes or the platform's own workloads): give the team a namespace of its own`,
        });
      }
      const first = owner.get(ns);
      if (first !== undefined && first !== team) {
        problems.push({
          path,
          message: `namespace ${ns} is already given to team stack ${first}; two team stacks in one namespace could each mint the other's IDs: give each its own`,
        });
      } else {
        owner.set(ns, team);
      }
    });
  }
  return problems;
}

/** A SPIFFE ID's path below its trust domain (`spiffe://td/a/b` → `/a/b`). */
export function spiffePathOf(spiffeId: string): string {
  const rest = spiffeId.replace(/^spiffe:\/\/[^/]*/, "");
  return rest === "" ? "/" : rest;
}

/**
 * The namespaces SPIRE's chart deploys into: the releases' (`SPIRE_MGMT_NAMESPACE` of spire.ts,
 * not imported so that the policy pack loads no Kubernetes SDK; a test holds them equal), the
 * server's and the agents'.
 */
export const SPIRE_NAMESPACES = ["spire-mgmt", SPIRE_SERVER_NAMESPACE, "spire-system"] as const;

/** Annotation naming the team stack a ClusterSPIFFEID belongs to (read by the policy pack). */
export const TEAM_STACK_ANNOTATION = "spire-federation.io/team-stack";
/** Annotation listing, comma-separated, the namespaces the platform gives the team stack. */
export const TEAM_NAMESPACES_ANNOTATION = "spire-federation.io/team-namespaces";
/** Annotation listing, comma-separated, the SPIFFE ID paths the platform reserves. */
export const RESERVED_PATHS_ANNOTATION = "spire-federation.io/reserved-paths";

/**
 * The namespaces a platform reserves: SPIRE's, cert-manager's, Kubernetes' own and those of the
 * platform's own pod workloads (a team there could give its pods the platform's IDs).
 */
export function platformReservedNamespaces(
  certManagerNamespace: string | undefined,
  workloads: readonly { mode: string; namespace?: string }[],
): string[] {
  const own = workloads.flatMap((w) =>
    w.mode === "pod" && w.namespace !== undefined ? [w.namespace] : [],
  );
  return [
    ...new Set([
      ...SPIRE_NAMESPACES,
      certManagerNamespace ?? "cert-manager",
      ...KUBERNETES_NAMESPACES,
      ...own,
    ]),
  ];
}

/** The SPIFFE ID paths a platform reserves: SPIRE's and its own workloads'. */
export function platformReservedPaths(workloads: readonly { spiffeId: string }[]): string[] {
  return [...new Set([SPIRE_RESERVED_PATH, ...workloads.map((w) => spiffePathOf(w.spiffeId))])];
}
