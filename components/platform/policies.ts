/**
 * CrossGuard rules of team stacks, where what a team may not do is visible in its resources: a
 * team ClusterSPIFFEID that selects pods outside the namespaces the platform gives the team (or
 * every namespace), one that claims a path the platform reserves, and a team stack that deploys
 * a part of the platform (SPIRE, cert-manager's issuer, a shared relying-party setup). A team
 * ClusterSPIFFEID carries its team stack's name and the platform's lists as annotations (written
 * from the platform's outputs, see component.ts); the rules check the spec against them.
 */
import { CORE_TYPES, obj, resourcePolicy, str, TEAM_STACK_TYPE } from "../policy-kit";
import type { Policy } from "../federation/contract";
import { GCP_TYPES } from "../federation/gcp/policies";
import { OPENZITI_TYPES } from "../federation/openziti/policies";
import { VAULT_TYPES } from "../federation/vault/policies";
import {
  RESERVED_PATHS_ANNOTATION,
  spiffePathOf,
  TEAM_NAMESPACES_ANNOTATION,
  TEAM_STACK_ANNOTATION,
  teamSpiffePathProblem,
} from "./rules";

export { TEAM_STACK_TYPE };

/** The label a namespace selector names a namespace by (Kubernetes sets it on every namespace). */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** Parts of the platform a team stack must not deploy, with what each is. */
const PLATFORM_PARTS: Readonly<Record<string, string>> = {
  [CORE_TYPES.helmRelease]: "a Helm release (SPIRE and cert-manager are the platform's)",
  "kubernetes:cert-manager.io/v1:ClusterIssuer":
    "a ClusterIssuer (the root of trust is the platform's)",
  [VAULT_TYPES.backend]: "a Vault JWT auth backend (the platform's is shared)",
  [GCP_TYPES.provider]: "a Google workload identity pool provider (the platform's pool is shared)",
  [OPENZITI_TYPES.ca]: "an OpenZiti CA (the platform's is shared)",
};

function list(v: unknown): string[] {
  const s = str(v);
  return s === undefined || s === "" ? [] : s.split(",");
}

/** The namespaces a ClusterSPIFFEID's namespace selector names, or why it names none. */
export function selectedNamespaces(spec: Record<string, unknown>): string[] | string {
  const selector = obj(spec.namespaceSelector);
  if (spec.namespaceSelector === undefined || Object.keys(selector).length === 0) {
    return "has no namespaceSelector, so it selects pods in every namespace";
  }
  if (Array.isArray(selector.matchExpressions) && selector.matchExpressions.length > 0) {
    return "selects namespaces by matchExpressions, which may match namespaces the team does not own";
  }
  const name = str(obj(selector.matchLabels)[NAMESPACE_NAME_LABEL]);
  if (name === undefined) {
    return `does not name its namespace by the ${NAMESPACE_NAME_LABEL} label, so labels the team does not control decide which namespaces it selects`;
  }
  return [name];
}

/**
 * A rule (mandatory, high) on the ClusterSPIFFEIDs of team stacks: `check` gets the team stack's
 * name, the ClusterSPIFFEID's annotations and spec; ClusterSPIFFEIDs of no team are left alone.
 */
function teamIdPolicy(p: {
  name: string;
  description: string;
  check: (
    team: string,
    annotations: Record<string, unknown>,
    spec: Record<string, unknown>,
    report: (message: string) => void,
  ) => void;
}): Policy {
  return resourcePolicy({
    name: p.name,
    description: p.description,
    severity: "high",
    enforcementLevel: "mandatory",
    types: [CORE_TYPES.clusterSpiffeId],
    check: (props, _args, report) => {
      const annotations = obj(obj(props.metadata).annotations);
      const team = str(annotations[TEAM_STACK_ANNOTATION]);
      if (team !== undefined) p.check(team, annotations, obj(props.spec), (m) => report(m));
    },
  });
}

/** The rules. */
export const platformPolicies: Policy[] = [
  teamIdPolicy({
    name: "platform-team-namespace",
    description:
      "A team stack's ClusterSPIFFEID selects pods in exactly one namespace the platform gives the team.",
    check: (team, annotations, spec, report) => {
      const allowed = list(annotations[TEAM_NAMESPACES_ANNOTATION]);
      const selected = selectedNamespaces(spec);
      if (typeof selected === "string") {
        report(
          `team stack ${team}'s ClusterSPIFFEID ${selected}; a team may give IDs only in its namespaces (${allowed.join(", ") || "none"}): select one with matchLabels ${NAMESPACE_NAME_LABEL}`,
        );
        return;
      }
      for (const ns of selected.filter((n) => !allowed.includes(n))) {
        report(
          `team stack ${team}'s ClusterSPIFFEID selects namespace ${ns}, which the platform does not give it (${allowed.join(", ") || "none"}): its pods would get IDs the team does not own; use one of its namespaces or ask the platform team to add ${ns} to teamStacks.${team}.namespaces`,
        );
      }
    },
  }),
  teamIdPolicy({
    name: "platform-team-reserved-path",
    description: "A team stack's ClusterSPIFFEID claims no SPIFFE ID path the platform reserves.",
    check: (team, annotations, spec, report) => {
      const template = str(spec.spiffeIDTemplate);
      if (template === undefined) return;
      const problem = teamSpiffePathProblem(
        spiffePathOf(template),
        list(annotations[RESERVED_PATHS_ANNOTATION]),
      );
      if (problem !== undefined) {
        report(
          `team stack ${team}'s ClusterSPIFFEID spiffeIDTemplate ${template}: ${problem}; two entries for one ID let the team's pods act as the platform's workload`,
        );
      }
    },
  }),
  {
    name: "platform-team-no-platform-parts",
    description:
      "A team stack deploys none of the platform's parts (SPIRE, cert-manager, shared relying-party setup).",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      if (!args.resources.some((r) => r.type === TEAM_STACK_TYPE)) return;
      for (const r of args.resources) {
        const part = PLATFORM_PARTS[r.type];
        if (part !== undefined) {
          report(
            `${r.name} is ${part}; a team stack builds on its platform stack and must not deploy it: remove it, or move it to the platform stack`,
            r.urn,
          );
        }
        const annotations = obj(obj(r.props.metadata).annotations);
        if (
          r.type === CORE_TYPES.clusterSpiffeId &&
          annotations[TEAM_STACK_ANNOTATION] === undefined
        ) {
          report(
            `${r.name} is a ClusterSPIFFEID without the ${TEAM_STACK_ANNOTATION} annotation in a team stack, so the team rules cannot check it: create it through TeamStack`,
            r.urn,
          );
        }
      }
    },
  },
];
