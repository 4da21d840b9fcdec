/**
 * A strategic-merge patch as the API server applies one to a pod template, for the lists the pod
 * patch touches (their merge keys are carried in contracts/kubernetes/strategic-merge-keys.json):
 * maps merge key by key, `null` deletes a key, a list with a merge key merges item by item (an
 * item of the patch updates the original's item with the same key, or is appended), any other
 * list or value replaces the original.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

interface MergeKeys {
  lists: Record<string, { patchStrategy: string; patchMergeKey: string }>;
}

const CONTRACT = JSON.parse(
  readFileSync(
    path.join(__dirname, "contracts", "kubernetes", "strategic-merge-keys.json"),
    "utf8",
  ),
) as MergeKeys;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `original` with `patch` applied; `field` is the key the values sit under. */
export function strategicMerge(original: unknown, patch: unknown, field?: string): unknown {
  if (isMap(original) && isMap(patch)) {
    const out: Record<string, unknown> = { ...original };
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith("$")) throw new Error(`directive ${k} is not supported here`);
      if (v === null) delete out[k];
      else out[k] = strategicMerge(original[k], v, k);
    }
    return out;
  }
  const list = field === undefined ? undefined : CONTRACT.lists[field];
  if (Array.isArray(patch) && list !== undefined && list.patchStrategy.startsWith("merge")) {
    const key = list.patchMergeKey;
    const out = Array.isArray(original) ? [...(original as unknown[])] : [];
    for (const item of patch) {
      if (!isMap(item) || item[key] === undefined) {
        throw new Error(`${field}: every item needs its merge key ${key}`);
      }
      const i = out.findIndex((o) => isMap(o) && o[key] === item[key]);
      if (i === -1) out.push(item);
      else out[i] = strategicMerge(out[i], item);
    }
    return out;
  }
  return structuredClone(patch);
}
