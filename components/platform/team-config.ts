/**
 * Config of team stacks on a platform stack: `spire-federation:platform` (the team side) and
 * `spire-federation:teamStacks` (the platform side), and the team stack's parser. A team stack is
 * checked twice, both times before any resource but the platform's StackReference is registered:
 * {@link teamKeyProblems} refuses the keys the platform owns as soon as the config is read;
 * {@link parseTeamConfig} checks the workloads against the platform's outputs once they are in.
 */
import { ConfigError, isRecord, Problems } from "../core/problems";
import { checkWorkloads } from "../core/rules/workloads";
import { coreSchemas, parseWorkload } from "../core/schema";
import { workloadFilesModel } from "../core/model-build";
import { relyingParties } from "../federation/registry";
import type { GrantEntry } from "../federation/contract";
import type { VaultBlock, VaultGrant, VaultGrantInput } from "../federation/vault/schema";
import { vault } from "../federation/vault/index";
import type { CoreWorkload, WorkloadFilesModel } from "../model";
import { PLATFORM_OUTPUT_NAMES, platformOutputsSchema, type PlatformOutputs } from "./contract";
import { platformRefSchema } from "./schema";
import {
  spiffePathOf,
  TEAM_REFUSED_KEYS,
  TEAM_REFUSED_VAULT_KEYS,
  TEAM_STACK_KEYS,
  teamNamespaceProblem,
  teamSpiffePathProblem,
} from "./rules";

/** One workload of a team stack: its core and its Vault grant. */
export type TeamWorkload = CoreWorkload & { vault?: VaultGrant };

/** The validated config of a team stack, with what it read from its platform. */
export interface TeamModel {
  /** The platform stack, `org/project/stack`. */
  platform: string;
  /** This stack's name, as the platform's `teamStacks` keys it. */
  teamStack: string;
  /** The platform's outputs (the contract). */
  outputs: PlatformOutputs;
  /** The team's workloads, IDs in the platform's trust domain. */
  workloads: TeamWorkload[];
  /** The workload's half, with defaults. */
  workloadFiles: WorkloadFilesModel;
  /** Vault: the team's policies on the platform's backend (when the team sets `vault`). */
  vault?: VaultBlock;
}

/** Whether the raw config is a team stack's (it names a platform). */
export function isTeamConfig(raw: Readonly<Record<string, unknown>>): boolean {
  return raw.platform !== undefined;
}

/**
 * The problems a team stack's config has on its own (before the platform's outputs are read):
 * each key the platform owns, with the reason; an unknown key; a malformed `platform`.
 */
export function teamKeyProblems(raw: Readonly<Record<string, unknown>>): string[] {
  const problems = new Problems();
  for (const key of Object.keys(raw)) {
    const reason = TEAM_REFUSED_KEYS[key];
    if (reason !== undefined) {
      problems.add([key], `a team stack may not set it; ${reason}`);
    } else if (!(TEAM_STACK_KEYS as readonly string[]).includes(key)) {
      problems.add([key], "unknown key");
    }
  }
  problems.parse(platformRefSchema, raw.platform, ["platform"]);
  if (isRecord(raw.vault)) {
    for (const key of Object.keys(raw.vault)) {
      const reason = TEAM_REFUSED_VAULT_KEYS[key];
      if (reason !== undefined)
        problems.add(["vault", key], `a team stack may not set it; ${reason}`);
    }
  }
  if (raw.workloads === undefined) problems.add(["workloads"], "required");
  if (Array.isArray(raw.workloads)) {
    raw.workloads.forEach((w, i) => {
      if (!isRecord(w)) return;
      for (const p of relyingParties) {
        if (p.key !== "vault" && w[p.key] !== undefined) {
          problems.add(
            ["workloads", i, p.key],
            `a team stack may not grant ${p.product} access; ${TEAM_REFUSED_KEYS[p.key]}`,
          );
        }
      }
    });
  }
  return problems.lines;
}

/**
 * Validates a team stack's config against its platform's outputs and returns the model.
 * @throws ConfigError listing every problem, each at the key the team must change (or at
 * `platform` when the platform's outputs break the contract or do not list this team stack).
 */
export function parseTeamConfig(
  raw: Readonly<Record<string, unknown>>,
  platformOutputs: Readonly<Record<string, unknown>>,
  teamStack: string,
): TeamModel {
  const early = teamKeyProblems(raw);
  if (early.length > 0) throw new ConfigError(early);
  const problems = new Problems();
  const platform = raw.platform as string;
  const picked = Object.fromEntries(PLATFORM_OUTPUT_NAMES.map((n) => [n, platformOutputs[n]]));
  const parsed = platformOutputsSchema.safeParse(picked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.map(String).join(".");
      problems.add(
        ["platform"],
        `the output ${name} of ${platform} ${picked[String(issue.path[0])] === undefined ? "is missing" : `is not as the platform contract says (${issue.message})`}; is ${platform} a platform stack of this package, deployed with this version?`,
      );
    }
    throw new ConfigError(problems.lines);
  }
  const outputs: PlatformOutputs = parsed.data;
  const grant = outputs.teamStacks[teamStack];
  if (grant === undefined) {
    problems.add(
      ["platform"],
      `${platform} lists no team stack ${teamStack} in its teamStacks output: ask the platform team to add teamStacks.${teamStack}.namespaces to its config`,
    );
  }
  const workloadList = problems.parse(coreSchemas.workloads, raw.workloads, ["workloads"]);
  const wf = problems.parse(coreSchemas.workloadFiles, raw.workloadFiles ?? {}, ["workloadFiles"]);
  const vaultIn =
    raw.vault === undefined ? undefined : problems.parse(vault.blockSchema, raw.vault, ["vault"]);
  if (raw.vault !== undefined && outputs.shared.vault === undefined) {
    problems.add(
      ["vault"],
      `${platform} has no Vault JWT auth backend (its shared.vault output is empty): remove the block, or ask the platform team to configure vault`,
    );
  }
  const { workloads, grants } = checkWorkloads(
    {
      entries: workloadList ?? [],
      trustDomain: outputs.trustDomain,
      filesEnabled: wf?.enabled ?? true,
      nodeNames: new Set(),
      parties: [vault],
      // Other parties' grants are refused by teamKeyProblems; only vault's needs its block.
      hasKey: (key) => key !== "vault" || raw.vault !== undefined,
      parse: (entry, i) => parseWorkload(problems, entry, i),
    },
    problems.report,
  );
  const vaultGrants = (grants.get("vault") ?? []) as GrantEntry<VaultGrantInput>[];
  workloads.forEach((w) => {
    const i = (workloadList ?? []).findIndex((e) => isRecord(e) && e.name === w.name);
    if (w.mode === "pod") {
      const why = teamNamespaceProblem(
        w.namespace,
        teamStack,
        grant?.namespaces ?? [],
        outputs.reservedNamespaces,
      );
      if (why !== undefined && grant !== undefined)
        problems.add(["workloads", i, "namespace"], why);
    }
    const pathProblem = teamSpiffePathProblem(
      spiffePathOf(w.spiffeId),
      outputs.reservedSpiffeIdPaths,
    );
    if (pathProblem !== undefined) problems.add(["workloads", i, "spiffeIdPath"], pathProblem);
  });
  vault.check?.({
    raw,
    block: vaultIn,
    core: { trustDomain: outputs.trustDomain, caKeyType: "rsa-2048" },
    grants: vaultGrants,
    providerConfig: {},
    report: problems.report,
    reportOther: (fullKey, message) => problems.lines.push(`${fullKey}: ${message}`),
  });
  if (problems.lines.length > 0 || wf === undefined) throw new ConfigError(problems.lines);

  const shared = outputs.shared.vault;
  const vaultBlock: VaultBlock | undefined =
    vaultIn === undefined || shared === undefined
      ? undefined
      : { path: shared.path, policies: vaultIn.policies, address: shared.address };
  const teamWorkloads: TeamWorkload[] = workloads.map((w) => ({ ...w }));
  for (const { workload, grant: g } of vaultGrants) {
    const w = teamWorkloads.find((t) => t.name === workload.name);
    if (w !== undefined && vaultBlock !== undefined) w.vault = vault.grant(g, workload, vaultBlock);
  }
  return {
    platform,
    teamStack,
    outputs,
    workloads: teamWorkloads,
    workloadFiles: workloadFilesModel(wf),
    vault: vaultBlock,
  };
}
