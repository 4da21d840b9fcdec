/**
 * A team stack on a platform stack: the team's workloads in the platform's trust domain, and
 * nothing of the platform's. cert-manager, SPIRE, the issuer and the shared relying-party setup
 * stay in the platform stack; this component reads them from the platform's outputs (the
 * contract in `contract.ts`) and registers only the team's own resources.
 *
 * What the platform enforces, and how this component meets it:
 * - every ClusterSPIFFEID carries the platform controller manager's class, or it is ignored: the
 *   class is the platform's `controllerClassName` output;
 * - a ClusterSPIFFEID is cluster-scoped: it selects pods of the namespace its selector names, so
 *   each selects exactly one of the namespaces the platform gives this team stack
 *   (`teamStacks.<stack>.namespaces`), never a reserved one, and claims no reserved ID path;
 * - cluster-scoped names and Vault names are global: each carries the team stack's name;
 * - Vault roles are written on the platform's JWT auth backend (`shared.vault.path`), whose
 *   issuer and discovery settings the team cannot change.
 * Every Kubernetes object goes through one provider for the platform's cluster.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { rejectProblems } from "../federation/args";
import { workloadPaths } from "../federation/paths";
import { vaultJwtRole, vaultLogin, type VaultLogin } from "../federation/vault/component";
import type { VaultBlock, VaultGrant } from "../federation/vault/schema";
import { vaultWorkloadFiles } from "../federation/vault/workload-files";
import type { CoreWorkload, WorkloadFilesModel } from "../model";
import { clusterSpiffeIdSpec } from "../spire";
import { TEAM_STACK_TYPE } from "../policy-kit";
import { needsClusterSpiffeId } from "../spire-rules";
import { WorkloadFiles } from "../workload/component";
import type { PlatformOutputs } from "./contract";
import {
  RESERVED_PATHS_ANNOTATION,
  spiffePathOf,
  TEAM_NAMESPACES_ANNOTATION,
  TEAM_STACK_ANNOTATION,
  teamNamespaceProblem,
  teamSpiffePathProblem,
} from "./rules";

/** Arguments of {@link TeamStack}. */
export interface TeamStackArgs {
  /** This stack's name, as the platform's `teamStacks` keys it (prefixes global names). */
  teamStack: string;
  /** The platform's outputs, as read and validated (plain values). */
  platform: PlatformOutputs;
  /** The team's workloads, their SPIFFE IDs in the platform's trust domain, with Vault grants. */
  workloads: (CoreWorkload & { vault?: VaultGrant })[];
  /** The workload's half: helper image, cert dir. */
  workloadFiles: WorkloadFilesModel;
  /** The team's Vault policies on the platform's backend (`path` is the platform's). */
  vault?: VaultBlock;
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function teamStackArgsProblems(args: TeamStackArgs): string[] {
  const grant = args.platform.teamStacks[args.teamStack];
  if (grant === undefined) return [`the platform lists no team stack ${args.teamStack}`];
  return args.workloads.flatMap((w) => {
    const ns =
      w.mode === "pod"
        ? teamNamespaceProblem(
            w.namespace,
            args.teamStack,
            grant.namespaces,
            args.platform.reservedNamespaces,
          )
        : `workload ${w.name} runs on a node; nodes are the platform's`;
    const id = teamSpiffePathProblem(spiffePathOf(w.spiffeId), args.platform.reservedSpiffeIdPaths);
    return [ns, id].flatMap((p) => (p === undefined ? [] : [`workload ${w.name}: ${p}`]));
  });
}

/** A team's workloads on a platform stack: ClusterSPIFFEIDs, Vault roles, workload files. */
export class TeamStack extends pulumi.ComponentResource {
  /** The Kubernetes provider for the platform's cluster (ambient kubeconfig). */
  readonly cluster: k8s.Provider;
  /** One ClusterSPIFFEID per workload with a custom SPIFFE ID, by workload name. */
  readonly clusterSpiffeIds: Record<string, k8s.apiextensions.CustomResource>;
  /** The team's Vault policies, by the name in config. */
  readonly vaultPolicies: Record<string, vault.Policy>;
  /** What each workload needs to use its grants, by workload name. */
  readonly federation: Record<string, { vault?: VaultLogin }>;
  /** Each workload's ConfigMaps and pod patch (absent when no workload needs files). */
  readonly workloadFiles?: WorkloadFiles;
  /** SPIFFE ID of each workload, by workload name. */
  readonly workloads: Record<string, string>;

  constructor(name: string, args: TeamStackArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("TeamStack", name, teamStackArgsProblems(args));
    super(TEAM_STACK_TYPE, name, {}, opts);
    const { platform, teamStack } = args;
    const allowed = platform.teamStacks[teamStack]?.namespaces ?? [];

    // The team's CI must reach the platform's cluster; one explicit provider makes every team
    // object go there (and nowhere else) and shows the cluster in the plan.
    this.cluster = new k8s.Provider(`${name}-platform-cluster`, {}, { parent: this });

    this.clusterSpiffeIds = {};
    for (const w of args.workloads) {
      if (w.mode !== "pod" || !needsClusterSpiffeId(w, platform.trustDomain)) continue;
      this.clusterSpiffeIds[w.name] = new k8s.apiextensions.CustomResource(
        `${name}-id-${w.name}`,
        {
          apiVersion: "spire.spiffe.io/v1alpha1",
          kind: "ClusterSPIFFEID",
          metadata: {
            name: `spire-federation-${teamStack}-${w.name}`,
            annotations: {
              [TEAM_STACK_ANNOTATION]: teamStack,
              [TEAM_NAMESPACES_ANNOTATION]: allowed.join(","),
              [RESERVED_PATHS_ANNOTATION]: platform.reservedSpiffeIdPaths.join(","),
            },
          },
          spec: clusterSpiffeIdSpec(w, platform.controllerClassName),
        },
        { parent: this, provider: this.cluster },
      );
    }

    // Vault: the team's policies and one role per workload on the platform's backend. Names are
    // global in Vault, so each carries the team stack's name.
    this.vaultPolicies = {};
    this.federation = Object.fromEntries(args.workloads.map((w) => [w.name, {}]));
    const block = args.vault;
    if (block !== undefined) {
      for (const [policy, hcl] of Object.entries(block.policies)) {
        this.vaultPolicies[policy] = new vault.Policy(
          `${name}-vault-policy-${policy}`,
          { name: `${teamStack}-${policy}`, policy: hcl },
          { parent: this },
        );
      }
      for (const w of args.workloads) {
        if (w.vault === undefined) continue;
        const role = { name: `${teamStack}-${w.name}`, spiffeId: w.spiffeId, ...w.vault };
        const policies = w.vault.policies.map((p) => this.vaultPolicies[p].name);
        vaultJwtRole(`${name}-vault-role-${w.name}`, block.path, role, policies, { parent: this });
        this.federation[w.name].vault = vaultLogin(block.path, role);
      }
    }

    const paths = workloadPaths(args.workloadFiles.certDir);
    const needFiles = args.workloads.flatMap((w) => {
      const login = this.federation[w.name].vault;
      if (w.mode !== "pod" || !w.files || block === undefined || login === undefined) return [];
      const contribution = vaultWorkloadFiles({ block, login, paths });
      return [
        {
          name: w.name,
          namespace: w.namespace,
          contributions: [{ party: "vault", ...contribution }],
        },
      ];
    });
    if (needFiles.length > 0) {
      this.workloadFiles = new WorkloadFiles(
        `${name}-workload-files`,
        {
          helperImage: args.workloadFiles.helperImage,
          certDir: args.workloadFiles.certDir,
          workloads: needFiles,
        },
        { parent: this, providers: [this.cluster] },
      );
    }
    this.workloads = Object.fromEntries(args.workloads.map((w) => [w.name, w.spiffeId]));
    this.registerOutputs({ workloads: this.workloads, federation: this.federation });
  }
}
