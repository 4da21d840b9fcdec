/**
 * What the Curity provider does to each kind of entity, with the ownership rules that keep it
 * to what it owns:
 *
 * - a client is this package's when its `description` is the marker naming its SPIFFE ID. A
 *   write reads the client first and PUTs it back with only the leaves this package owns
 *   replaced (`client-name`, `description`, `scope`, the `client-credentials` capability and the
 *   authentication: verifier, `assertion-jwt-validation`, secondary method): whatever else an
 *   operator set (access-token TTL, audience, properties, …) stays;
 * - a client-id mapping is keyed by a SPIFFE ID: `/` in a key would be `%2F` in the URL, which
 *   Jetty 12 (Curity's web server) refuses, so the mappings container is read and merged into
 *   (PATCH) or, to remove one entry, written back without it (PUT); an entry mapping the `sub` to
 *   another client is someone else's;
 * - a trust store entry holds what Curity stores encrypted: the package cannot read whose
 *   certificate it is, so an entry that exists before create is refused, and one whose stored
 *   value is not the one recorded after the package's write is neither overwritten nor deleted;
 * - an HTTP client that exists before create is adopted only when it is what the package would
 *   write, and is then never deleted (`created` false); one the package created is deleted only
 *   while it still is what the package wrote.
 *
 * Plain functions (the dynamic provider that calls them is serialized by Pulumi).
 */
import * as crypto from "node:crypto";
import {
  CURITY_MEMBERS,
  curityPaths,
  deleteEntry,
  getEntry,
  runTrustStoreAction,
  writeNode,
} from "./api";
import type { CurityState } from "./provider";

/** The verifier cases of a client (a YANG choice: only one appears), plus what extends them. */
export const CLIENT_AUTH_KEYS = [
  "secret",
  "asymmetric-key",
  "jwks",
  "jwks-uri",
  "symmetric-key",
  "no-authentication",
  "credential-manager",
  "mutual-tls",
  "mutual-tls-by-proxy",
  "secondary-authentication-method",
  "assertion-jwt-validation",
] as const;

/** SHA-256 (hex) of a string. */
export const sha256 = (s: string): string => crypto.createHash("sha256").update(s).digest("hex");

/** Whether a value is a plain object. */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Leaf-lists compare as sets (Curity may return them sorted); undefined members drop out. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(normalize);
    return items.every((x) => typeof x === "string") ? [...items].sort() : items;
  }
  if (isObject(v)) {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, normalize(x)]),
    );
  }
  return v;
}

/** Whether two values are the same as Curity holds them. */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

/** What each kind is called in messages, with its key. */
export function label(s: Pick<CurityState, "kind" | "key" | "profile">): string {
  switch (s.kind) {
    case "clientTrustStore":
      return `client trust store entry ${s.key}`;
    case "serverTrustStore":
      return `server trust store entry ${s.key}`;
    case "httpClient":
      return `HTTP client ${s.key}`;
    case "client":
      return `client ${s.key} (profile ${String(s.profile)})`;
    case "clientIdMapping":
      return `client-id mapping of ${s.key} (profile ${String(s.profile)})`;
  }
}

/** Data path and JSON member of an entity (a mapping: its container). */
export function location(s: CurityState): { path: string; member: string } {
  const profile = String(s.profile);
  switch (s.kind) {
    case "clientTrustStore":
      return { path: curityPaths.clientTrustStore(s.key), member: CURITY_MEMBERS.clientTrustStore };
    case "serverTrustStore":
      return { path: curityPaths.serverTrustStore(s.key), member: CURITY_MEMBERS.serverTrustStore };
    case "httpClient":
      return { path: curityPaths.httpClient(s.key), member: CURITY_MEMBERS.httpClient };
    case "client":
      return { path: curityPaths.client(profile, s.key), member: CURITY_MEMBERS.client };
    case "clientIdMapping":
      return {
        path: curityPaths.clientIdMappings(profile),
        member: CURITY_MEMBERS.clientIdMappings,
      };
  }
}

/** Whether the entity is a trust store entry. */
export const isTrustStore = (kind: CurityState["kind"]): boolean =>
  kind === "clientTrustStore" || kind === "serverTrustStore";

const fail = (s: CurityState, why: string): never => {
  throw new Error(`Curity ${label(s)}: ${why}`);
};

/** The mappings container's entries (none when the container is absent). */
async function mappings(s: CurityState): Promise<Record<string, unknown>[]> {
  const { path, member } = location(s);
  const container = await getEntry(s.connection, label(s), path, member);
  const list = container?.["client-id-mapping"];
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** What Curity holds for the entity, in the shape the provider reads it; `undefined`: gone. */
export async function fetchEntity(s: CurityState): Promise<Record<string, unknown> | undefined> {
  if (s.kind === "clientIdMapping") return (await mappings(s)).find((m) => m.sub === s.key);
  const { path, member } = location(s);
  return getEntry(s.connection, label(s), path, member);
}

/** Why an existing entity is not this package's, or `undefined` when it is. */
export function foreign(s: CurityState, existing: Record<string, unknown>): string | undefined {
  const body = s.body ?? {};
  if (s.kind === "client" && existing.description !== body.description) {
    return `exists and is not this package's (its description is ${JSON.stringify(existing.description ?? "")}, not ${JSON.stringify(body.description)}): choose another curity.idPrefix, or delete the client`;
  }
  if (s.kind === "clientIdMapping" && existing["client-id"] !== body["client-id"]) {
    return `exists and maps ${s.key} to client ${String(existing["client-id"])}: a sub maps to one client; remove that mapping or that workload's grant`;
  }
  return undefined;
}

/** A client as the package writes it: theirs, with the leaves the package owns replaced. */
export function mergedClient(
  theirs: Record<string, unknown> | undefined,
  ours: Record<string, unknown>,
): Record<string, unknown> {
  const kept = { ...(theirs ?? {}) };
  for (const k of CLIENT_AUTH_KEYS) delete kept[k];
  const capabilities = { ...(isObject(kept.capabilities) ? kept.capabilities : {}) };
  return {
    ...kept,
    ...ours,
    capabilities: { ...capabilities, ...(isObject(ours.capabilities) ? ours.capabilities : {}) },
  };
}

/** Writes a client over what Curity holds (`theirs`, as just read), after the ownership check. */
export async function writeClient(
  s: CurityState,
  theirs: Record<string, unknown> | undefined,
): Promise<void> {
  const { path, member } = location(s);
  const why = theirs === undefined ? undefined : foreign(s, theirs);
  if (why !== undefined) fail(s, why);
  const merged = mergedClient(theirs, s.body ?? {});
  if (theirs !== undefined && sameValue(merged, theirs)) return; // adopted as it is
  await writeNode(s.connection, label(s), "PUT", path, member, [merged]);
}

/** Merges the mapping into the profile's mappings container, after the ownership check. */
export async function writeMapping(
  s: CurityState,
  existing: Record<string, unknown> | undefined,
): Promise<void> {
  const why = existing === undefined ? undefined : foreign(s, existing);
  if (why !== undefined) fail(s, why);
  if (existing !== undefined && sameValue(existing, s.body)) return; // adopted as it is
  const { path, member } = location(s);
  await writeNode(s.connection, label(s), "PATCH", path, member, {
    "client-id-mapping": [s.body ?? {}],
  });
}

/** Removes the mapping when it is this package's, writing the container back without it. */
export async function deleteMapping(s: CurityState): Promise<void> {
  const { path, member } = location(s);
  const container = await getEntry(s.connection, label(s), path, member);
  const list = Array.isArray(container?.["client-id-mapping"])
    ? container["client-id-mapping"].filter(isObject)
    : [];
  const mine = list.find((m) => m.sub === s.key);
  if (mine === undefined || foreign(s, mine) !== undefined) return;
  const rest = list.filter((m) => m !== mine);
  const { "client-id-mapping": _ours, ...other } = container ?? {};
  await writeNode(s.connection, label(s), "PUT", path, member, {
    ...other,
    ...(rest.length > 0 ? { "client-id-mapping": rest } : {}),
  });
}

/** Stores a trust store entry with Curity's action and reads back the stored (encrypted) value. */
export async function storeTrust(s: CurityState): Promise<CurityState> {
  const pem = String(s.pem);
  await runTrustStoreAction(
    s.connection,
    label(s),
    s.kind === "serverTrustStore"
      ? curityPaths.addServerTrustStore
      : curityPaths.addClientTrustStore,
    { id: s.key, keystore: Buffer.from(pem).toString("base64") },
  );
  const stored = (await fetchEntity(s))?.keystore;
  if (typeof stored !== "string") fail(s, "not found after the action stored it");
  return { ...s, pemSha256: sha256(pem), storedSha256: sha256(String(stored)), created: true };
}

/**
 * Stores a trust store entry unless Curity holds one the package did not store: on create, any
 * entry; on update, one whose stored value is not the one recorded (`olds`).
 */
export async function writeTrust(s: CurityState, olds?: CurityState): Promise<CurityState> {
  const existing = await fetchEntity(s);
  if (existing !== undefined) {
    const stored = typeof existing.keystore === "string" ? sha256(existing.keystore) : "";
    if (olds === undefined || stored !== olds.storedSha256) {
      fail(
        s,
        `${olds === undefined ? "exists" : "was replaced since Pulumi stored it"} and Curity keeps it encrypted, so it cannot be proven this package's: not overwriting it; delete the entry in Curity (or choose another curity.idPrefix) and run again`,
      );
    }
  }
  return storeTrust(s);
}

/** Deletes a trust store entry only while it holds what the package stored. */
export async function deleteTrust(s: CurityState): Promise<void> {
  const existing = await fetchEntity(s);
  if (typeof existing?.keystore !== "string") return;
  if (sha256(existing.keystore) !== s.storedSha256) return;
  await deleteEntry(s.connection, label(s), location(s).path);
}
