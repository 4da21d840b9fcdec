/**
 * A Pulumi dynamic provider for the Curity entities this package manages through RESTCONF (no
 * Pulumi provider for Curity exists): client and server trust store entries, an HTTP client
 * facility, config-backed OAuth clients and profile-level client-id mappings. Nothing else of a
 * token profile is written; its allowed assertion algorithms are read.
 *
 * - create: adopt before creating. A data node (client, mapping, HTTP client) is read first; an
 *   entry that is this package's (a client whose description names the same SPIFFE ID, a
 *   mapping of the same `sub` to the same client) is adopted, one that is someone else's is
 *   refused; then PUT (create or replace, idempotent: a lost response is retried, and should the
 *   retries run out the next run finds the entry and adopts it). A trust store entry is stored
 *   with Curity's action (`add-ssl-*-truststore`, which replaces an entry of the same id);
 * - read: GET; a 404 returns no id, so Pulumi drops the resource and the next update recreates
 *   it. A data node's managed fields are read back in the shape we send them (leaf-lists
 *   compared as sets, server defaults inside our objects ignored; a verifier or secondary
 *   method added behind our back shows). Curity stores a trust store's keystore encrypted, so
 *   what was sent is kept as a SHA-256 in the state, and the stored ciphertext's hash is kept
 *   too: a different ciphertext on read means the entry was replaced behind Pulumi's back;
 * - diff: replace when the entity's identity changes (kind, key, profile, admin URL), update
 *   otherwise; a trust store's certificate is compared by its hash;
 * - update: PUT of the whole entry, or the trust store action again;
 * - delete: DELETE, idempotent (404 is fine); a client or mapping that is no longer this
 *   package's (someone replaced it) is left alone.
 *
 * Before a JWT client is written, the token profile's allowed assertion algorithms are read:
 * Curity would otherwise accept the client and reject every JWT-SVID at token time.
 *
 * Plain functions and objects only, no module state: Pulumi serializes this provider.
 */
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  CURITY_MEMBERS,
  curityPaths,
  deleteEntry,
  getEntry,
  putEntry,
  runTrustStoreAction,
  type CurityConnection,
} from "./api";
import { trustStorePemProblems } from "./rules";

/** What an entity is. */
export type CurityKind =
  "clientTrustStore" | "serverTrustStore" | "httpClient" | "client" | "clientIdMapping";

/** What a JWT client's workloads put in their JWT-SVIDs (not sent to Curity). */
export interface CurityAssertion {
  /** The `aud` of the JWT-SVIDs: the token endpoint. */
  audience: string;
  /** The token endpoint Curity checks the audience against. */
  tokenEndpoint: string;
  /** The `iss` of the JWT-SVIDs (SPIRE's JWT issuer). */
  issuer: string;
  /** The JWS algorithm SPIRE signs them with. */
  algorithm: string;
  /** The algorithms the token profile allows, as declared in config (checked by the policies). */
  allowedAlgorithms?: string[];
}

/** The provider's inputs and outputs. */
export interface CurityState {
  /** What the entity is. */
  kind: CurityKind;
  /** Admin URL and credentials (a secret). */
  connection: CurityConnection;
  /** Token profile id (client, clientIdMapping). */
  profile?: string;
  /** The entity's key: its id, or a mapping's `sub`. */
  key: string;
  /** A data node's entry as sent, in YANG JSON (without the module-qualified wrapper). */
  body?: Record<string, unknown>;
  /** A trust store entry's certificate (PEM). */
  pem?: string;
  /** A JWT client's assertion expectations. */
  assertion?: CurityAssertion;
  /** SHA-256 of the PEM last sent (computed); `replaced` once Curity holds something else. */
  pemSha256?: string;
  /** SHA-256 of the keystore value Curity stored (encrypted), as read after writing (computed). */
  storedSha256?: string;
}

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

const sha256 = (s: string): string => crypto.createHash("sha256").update(s).digest("hex");

const isObject = (v: unknown): v is Record<string, unknown> =>
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

/**
 * What Curity holds, in the shape we send it: inside our objects only our members (a server
 * default is no drift), at the top the members we send plus, for a client, every
 * authentication member (one added behind our back is drift).
 */
export function observed(
  kind: CurityKind,
  ours: Record<string, unknown>,
  theirs: Record<string, unknown>,
): Record<string, unknown> {
  const pick = (o: unknown, t: unknown): unknown => {
    if (!isObject(o) || !isObject(t)) return t;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) if (t[k] !== undefined) out[k] = pick(o[k], t[k]);
    return out;
  };
  const keys = new Set(Object.keys(ours));
  if (kind === "client") for (const k of CLIENT_AUTH_KEYS) if (theirs[k] !== undefined) keys.add(k);
  const out: Record<string, unknown> = {};
  for (const k of keys) if (theirs[k] !== undefined) out[k] = pick(ours[k], theirs[k]);
  return out;
}

/** What each kind is called in messages, with its key. */
function label(s: Pick<CurityState, "kind" | "key" | "profile">): string {
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

/** Data path and JSON member of an entity. */
function location(s: CurityState): { path: string; member: string } {
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
        path: curityPaths.clientIdMapping(profile, s.key),
        member: CURITY_MEMBERS.clientIdMapping,
      };
  }
}

const isTrustStore = (kind: CurityKind): boolean =>
  kind === "clientTrustStore" || kind === "serverTrustStore";

/** Problems of the inputs, before any call is made. */
export function stateProblems(s: CurityState): string[] {
  const problems: string[] = [];
  if (isTrustStore(s.kind)) {
    problems.push(...trustStorePemProblems(s.pem ?? "").map((p) => `the certificate ${p}`));
    return problems;
  }
  const body = s.body ?? {};
  const keyField = s.kind === "clientIdMapping" ? "sub" : "id";
  if (body[keyField] !== s.key) {
    problems.push(`body.${keyField} ${JSON.stringify(body[keyField])} is not the key ${s.key}`);
  }
  if ((s.kind === "client" || s.kind === "clientIdMapping") && !s.profile) {
    problems.push("no token profile");
  }
  if (s.kind === "client") {
    const verifiers = CLIENT_AUTH_KEYS.filter(
      (k) =>
        body[k] !== undefined &&
        k !== "secondary-authentication-method" &&
        k !== "assertion-jwt-validation",
    );
    if (verifiers.length !== 1) {
      problems.push(
        `a client has exactly one verifier (${verifiers.length === 0 ? "none" : verifiers.join(", ")} given)`,
      );
    }
  }
  return problems;
}

function check(s: CurityState): void {
  const problems = stateProblems(s);
  if (problems.length > 0) throw new Error(`Curity ${label(s)}: ${problems.join("; ")}`);
}

/**
 * A JWT client's profile must allow the algorithm SPIRE signs with; Curity would take the
 * client and reject its assertions at token time.
 */
async function checkAlgorithm(s: CurityState): Promise<void> {
  if (s.kind !== "client" || s.assertion === undefined) return;
  const profile = String(s.profile);
  const found = await getEntry(
    s.connection,
    `token profile ${profile}`,
    curityPaths.signatureAlgorithms(profile),
    CURITY_MEMBERS.signatureAlgorithms,
  );
  const raw = found?.["signature-algorithm"];
  const allowed = Array.isArray(raw) ? raw.map(String) : [];
  if (!allowed.includes(s.assertion.algorithm)) {
    throw new Error(
      `Curity ${label(s)}: the token profile allows ${found === undefined ? "no asymmetric algorithm (or does not exist)" : allowed.join(", ")} for client assertions (client-authentication/asymmetrically-signed-jwt/signature-algorithm), and SPIRE signs JWT-SVIDs with ${s.assertion.algorithm}: allow ${s.assertion.algorithm} in the profile (or change spire.caKeyType)`,
    );
  }
}

/**
 * Whether an existing data node is this package's, so that it may be adopted: a client whose
 * description names the same SPIFFE ID, a mapping to the same client; an HTTP client is
 * identified by its id alone. Otherwise the reason it is refused.
 */
function foreign(s: CurityState, existing: Record<string, unknown>): string | undefined {
  const body = s.body ?? {};
  if (s.kind === "client" && existing.description !== body.description) {
    return `exists and is not this package's (its description is ${JSON.stringify(existing.description ?? "")}, not ${JSON.stringify(body.description)}): choose another curity.idPrefix, or delete the client`;
  }
  if (s.kind === "clientIdMapping" && existing["client-id"] !== body["client-id"]) {
    return `exists and maps ${s.key} to client ${String(existing["client-id"])}: a sub maps to one client; remove that mapping or that workload's grant`;
  }
  return undefined;
}

/** Stores a trust store entry with Curity's action and reads back the stored (encrypted) value. */
async function storeTrust(s: CurityState): Promise<CurityState> {
  const pem = String(s.pem);
  const server = s.kind === "serverTrustStore";
  await runTrustStoreAction(
    s.connection,
    label(s),
    server ? curityPaths.addServerTrustStore : curityPaths.addClientTrustStore,
    { id: s.key, keystore: Buffer.from(pem).toString("base64") },
  );
  const { path, member } = location(s);
  const stored = await getEntry(s.connection, label(s), path, member);
  const keystore = stored?.keystore;
  if (typeof keystore !== "string") {
    throw new Error(`Curity ${label(s)}: not found after the action stored it`);
  }
  return { ...s, pemSha256: sha256(pem), storedSha256: sha256(keystore) };
}

/** Writes a data node (after the algorithm check for a JWT client). */
async function writeNode(s: CurityState): Promise<void> {
  await checkAlgorithm(s);
  const { path, member } = location(s);
  await putEntry(s.connection, label(s), path, member, s.body ?? {});
}

/** The provider. Exported for tests, which drive it against a local RESTCONF server. */
export const curityProvider: pulumi.dynamic.ResourceProvider = {
  diff(_id: string, olds: CurityState, news: CurityState) {
    const replaces: string[] = [];
    if (olds.kind !== news.kind) replaces.push("kind");
    if (olds.key !== news.key) replaces.push("key");
    if ((olds.profile ?? "") !== (news.profile ?? "")) replaces.push("profile");
    if (olds.connection?.adminUrl !== news.connection?.adminUrl) replaces.push("connection");
    const changed =
      replaces.length > 0 ||
      (isTrustStore(news.kind)
        ? olds.pemSha256 !== sha256(news.pem ?? "")
        : !sameValue(olds.body, news.body)) ||
      !sameValue(olds.assertion, news.assertion) ||
      !sameValue(olds.connection, news.connection);
    return Promise.resolve({ changes: changed, replaces, deleteBeforeReplace: false });
  },

  async create(inputs: CurityState) {
    check(inputs);
    if (isTrustStore(inputs.kind)) {
      return { id: inputs.key, outs: await storeTrust(inputs) };
    }
    const { path, member } = location(inputs);
    const existing = await getEntry(inputs.connection, label(inputs), path, member);
    if (existing !== undefined) {
      const why = foreign(inputs, existing);
      if (why) throw new Error(`Curity ${label(inputs)}: ${why}`);
    }
    const adoptAsIs =
      existing !== undefined &&
      sameValue(observed(inputs.kind, inputs.body ?? {}, existing), inputs.body);
    if (adoptAsIs) await checkAlgorithm(inputs);
    else await writeNode(inputs);
    return { id: inputs.key, outs: { ...inputs } };
  },

  async read(id: string, props: CurityState) {
    const { path, member } = location(props);
    const theirs = await getEntry(props.connection, label(props), path, member);
    if (theirs === undefined) return {};
    if (isTrustStore(props.kind)) {
      const stored = typeof theirs.keystore === "string" ? sha256(theirs.keystore) : undefined;
      const replaced = props.storedSha256 !== undefined && stored !== props.storedSha256;
      return {
        id,
        props: { ...props, ...(replaced ? { pemSha256: "replaced", storedSha256: stored } : {}) },
      };
    }
    return { id, props: { ...props, body: observed(props.kind, props.body ?? {}, theirs) } };
  },

  async update(_id: string, _olds: CurityState, news: CurityState) {
    check(news);
    if (isTrustStore(news.kind)) return { outs: await storeTrust(news) };
    await writeNode(news);
    return { outs: { ...news } };
  },

  async delete(_id: string, props: CurityState) {
    const { path, member } = location(props);
    if (props.kind === "client" || props.kind === "clientIdMapping") {
      const theirs = await getEntry(props.connection, label(props), path, member);
      if (theirs === undefined || foreign(props, theirs) !== undefined) return;
    }
    await deleteEntry(props.connection, label(props), path);
  },
};

/** Inputs of a {@link CurityEntity}. */
export interface CurityEntityArgs {
  /** What the entity is. */
  kind: CurityKind;
  /** Admin URL and credentials (pass a secret). */
  connection: pulumi.Input<CurityConnection>;
  /** Token profile id (client, clientIdMapping). */
  profile?: string;
  /** The entity's key: its id, or a mapping's `sub`. */
  key: string;
  /** A data node's entry, in YANG JSON. */
  body?: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
  /** A trust store entry's certificate (PEM). */
  pem?: pulumi.Input<string>;
  /** A JWT client's assertion expectations. */
  assertion?: CurityAssertion;
}

const TYPE_NAMES: Record<CurityKind, string> = {
  clientTrustStore: "ClientTrustStore",
  serverTrustStore: "ServerTrustStore",
  httpClient: "HttpClient",
  client: "Client",
  clientIdMapping: "ClientIdMapping",
};

/** One Curity entity (type `pulumi-nodejs:dynamic/curity:<Kind>`). */
export class CurityEntity extends pulumi.dynamic.Resource {
  /** The entity's key (its id, or a mapping's `sub`). */
  declare readonly key: pulumi.Output<string>;
  /** A data node's entry as last written or read. */
  declare readonly body: pulumi.Output<Record<string, unknown> | undefined>;
  /** SHA-256 of a trust store entry's certificate as last sent. */
  declare readonly pemSha256: pulumi.Output<string | undefined>;

  constructor(name: string, args: CurityEntityArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      curityProvider,
      name,
      { ...args, pemSha256: undefined, storedSha256: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "curity",
      TYPE_NAMES[args.kind],
    );
  }
}
