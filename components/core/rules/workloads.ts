/**
 * The core's rules on workloads and their IDs: unique names, where each runs (pods or a node),
 * a valid SPIFFE ID path outside SPIRE's reserved namespace, labels that keep a custom ID to its
 * own pods, unique SPIFFE IDs, and a relying party's block for each grant. Every entry is checked
 * field by field: a bad grant or a bad label does not hide a duplicate ID, and a rule skips only
 * when a field it reads is invalid.
 */
import type { AnyRelyingParty, GrantEntry } from "../../federation/contract";
import type { CoreWorkload, UnixSelectors } from "../../model";
import { workloadPlacement, type NodesContext } from "../../nodes/schema";
import { formatSpiffeId, parseSpiffePath, SpiffeIdError } from "../../spiffe-id";
import {
  defaultSpiffeIdPath,
  reservedSpiffePathProblem,
  selectorsOverlap,
} from "../../spire-rules";
import { CONFIG_NAMESPACE, type Report } from "../problems";

/** One entry of `workloads`, parsed field by field (a field is absent when unset or invalid). */
export interface ParsedWorkload {
  /** The core fields that are valid. */
  fields: {
    name?: string;
    namespace?: string;
    serviceAccount?: string;
    spiffeIdPath?: string;
    podLabels?: Record<string, string>;
    files?: boolean;
    federatesWith?: string[];
    node?: string;
    unix?: UnixSelectors;
  };
  /** Names of the fields that are set and invalid. */
  invalid: ReadonlySet<string>;
  /** Each relying party's grant that is set and valid, by party key. */
  grants: ReadonlyMap<string, unknown>;
  /** Party keys whose grant is set (valid or not). */
  grantKeys: readonly string[];
}

/** What the workload rules read besides the entries. */
export interface WorkloadsInput {
  /** The raw `workloads` entries. */
  entries: readonly unknown[];
  /** The trust domain, when valid. */
  trustDomain?: string;
  /** `workloadFiles.enabled`, default true. */
  filesEnabled: boolean;
  /** Names listed in `nodes` (undefined when `nodes` is invalid). */
  nodeNames: ReadonlySet<string> | undefined;
  /** The relying parties, in registry order. */
  parties: readonly AnyRelyingParty[];
  /** Whether the stack config sets a top-level key (a party's block). */
  hasKey(key: string): boolean;
  /** Parses one entry, reporting its shape problems. */
  parse(entry: unknown, index: number): ParsedWorkload;
}

/** What the workload rules produce for the model and the other rules. */
export interface WorkloadsResult {
  /** The workloads whose core is valid, with their SPIFFE IDs. */
  workloads: CoreWorkload[];
  /** Per party key: the valid grants of valid workloads. */
  grants: Map<string, GrantEntry<unknown>[]>;
  /** Node workloads, for the node rules. */
  nodeWorkloads: { index: number; node: string; unix: UnixSelectors }[];
}

/** Reports every problem with the workloads and returns what is valid. */
export function checkWorkloads(input: WorkloadsInput, report: Report): WorkloadsResult {
  const { parties } = input;
  const result: WorkloadsResult = {
    workloads: [],
    grants: new Map(parties.map((p) => [p.key, []])),
    nodeWorkloads: [],
  };
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  // Pod workloads with a custom SPIFFE ID path get their own ClusterSPIFFEID (see components/spire.ts).
  const customIds: {
    index: number;
    name: string;
    namespace: string;
    podLabels: Record<string, string>;
  }[] = [];
  const nodesCtx: Pick<NodesContext, "report"> = { report };
  input.entries.forEach((entry, i) => {
    const { fields: w, invalid, grants, grantKeys } = input.parse(entry, i);
    if (w.name !== undefined) {
      const seenName = names.get(w.name);
      if (seenName !== undefined) {
        report(["workloads", i, "name"], `duplicates workloads[${seenName}].name "${w.name}"`);
      }
      names.set(w.name, seenName ?? i);
    }
    const placementInvalid = ["namespace", "serviceAccount", "node", "unix"].some((k) =>
      invalid.has(k),
    );
    const placement = workloadPlacement(
      entry,
      i,
      placementInvalid ? undefined : w,
      input.nodeNames,
      nodesCtx,
    );
    if (placement === undefined || invalid.has("spiffeIdPath")) {
      return;
    }
    if (placement.mode === "node") result.nodeWorkloads.push({ index: i, ...placement });
    // A node workload has no default path (workloadPlacement requires its spiffeIdPath).
    const defaultPath =
      placement.mode === "pod"
        ? defaultSpiffeIdPath(placement.namespace, placement.serviceAccount)
        : undefined;
    const path = w.spiffeIdPath ?? defaultPath;
    if (path === undefined) {
      return;
    }
    if (w.spiffeIdPath !== undefined) {
      try {
        parseSpiffePath(w.spiffeIdPath);
        if (w.spiffeIdPath === "") {
          throw new SpiffeIdError("path must not be empty");
        }
      } catch (e) {
        report(["workloads", i, "spiffeIdPath"], (e as Error).message);
        return;
      }
      const reserved = reservedSpiffePathProblem(w.spiffeIdPath);
      if (reserved !== undefined) {
        report(["workloads", i, "spiffeIdPath"], reserved);
        return;
      }
    }
    // A federating workload gets its own ClusterSPIFFEID too: the chart's default cannot federate.
    const federates = (w.federatesWith?.length ?? 0) > 0;
    const ownEntry = path !== defaultPath || federates;
    if (placement.mode === "pod" && ownEntry && !invalid.has("podLabels")) {
      const { namespace, podLabels } = placement;
      if (Object.keys(podLabels).length === 0) {
        report(
          ["workloads", i, "podLabels"],
          path !== defaultPath
            ? `required with a custom spiffeIdPath; a ClusterSPIFFEID selects pods by labels, and without them it would select every pod in namespace "${namespace}" and replace their default IDs: set labels that only this workload's pods carry`
            : `required with federatesWith; the chart's default ClusterSPIFFEID cannot federate, so the workload gets its own, which selects pods by labels, and without them it would select every pod in namespace "${namespace}": set labels that only this workload's pods carry`,
        );
      } else {
        const other = customIds.find((c) => selectorsOverlap(c, { namespace, podLabels }));
        if (other !== undefined) {
          report(
            ["workloads", i, "podLabels"],
            `overlaps workloads[${other.index}].podLabels ("${other.name}") in namespace "${namespace}"; a pod that matches both would be registered under both custom SPIFFE IDs: give one of them a label value the other does not match`,
          );
        }
        customIds.push({ index: i, name: w.name ?? `workloads[${i}]`, namespace, podLabels });
      }
    }
    if (input.trustDomain === undefined) {
      return;
    }
    let spiffeId: string;
    try {
      spiffeId = formatSpiffeId(input.trustDomain, path);
    } catch (e) {
      report(["workloads", i, "spiffeIdPath"], (e as Error).message);
      return;
    }
    const seenId = ids.get(spiffeId);
    if (seenId !== undefined) {
      report(["workloads", i], `SPIFFE ID ${spiffeId} duplicates the one of workloads[${seenId}]`);
    }
    ids.set(spiffeId, seenId ?? i);
    for (const key of grantKeys) {
      if (!input.hasKey(key)) {
        report(["workloads", i, key], `needs the ${CONFIG_NAMESPACE}:${key} block`);
      }
    }
    if (w.name === undefined || invalid.has("files")) return;
    const workload: CoreWorkload =
      placement.mode === "pod"
        ? {
            name: w.name,
            spiffeId,
            ...placement,
            files: input.filesEnabled && (w.files ?? true),
            ...(federates ? { federatesWith: w.federatesWith } : {}),
          }
        : { name: w.name, spiffeId, ...placement };
    result.workloads.push(workload);
    for (const p of parties) {
      if (!grants.has(p.key)) continue;
      result.grants.get(p.key)?.push({ index: i, workload, grant: grants.get(p.key) });
    }
  });
  return result;
}
