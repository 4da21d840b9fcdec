/**
 * A Pulumi dynamic provider for the Curity entities this package manages through RESTCONF (no
 * Pulumi provider for Curity exists): client and server trust store entries, an HTTP client
 * facility, config-backed OAuth clients and profile-level client-id mappings. Nothing else of a
 * token profile is written; its allowed assertion algorithms and its scopes are read.
 *
 * - create: reads first; adopts what is provably this package's, refuses the rest (the rules
 *   per kind are in entities.ts), then writes only the leaves it owns;
 * - read: GET; RESTCONF's own 404 (or a mapping missing from its container) returns no id, so a refresh
 *   drops the resource and the next update creates it again: that is how the loss of
 *   everything written over RESTCONF (an admin pod restarted without persistent configuration)
 *   shows. A data node's managed fields are read back in the shape we send them (leaf-lists
 *   compared as sets, server defaults inside our objects ignored; a verifier or secondary
 *   method added behind our back shows). Curity stores a trust store's keystore encrypted, so
 *   what was sent is kept as a SHA-256 in the state, and the stored ciphertext's hash too;
 * - diff: replace when the entity's identity changes (kind, key, profile, admin URL), update
 *   otherwise; a trust store's certificate is compared by its hash;
 * - update: like create when the entity is gone; otherwise the owned leaves, over what is there;
 * - delete: only what is still provably this package's; 404 is fine.
 *
 * Before a client is written, the token profile is read: its allowed assertion algorithms (a
 * JWT client) and its scopes (a client's `scope` is a leafref to them). Curity would otherwise
 * refuse the client, or accept it and reject every JWT-SVID at token time.
 *
 * Plain functions and objects only, no module state: Pulumi serializes this provider.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  CURITY_MEMBERS,
  curityPaths,
  deleteEntry,
  getEntry,
  writeNode,
  type CurityConnection,
} from "./api";
import {
  CLIENT_AUTH_KEYS,
  deleteMapping,
  deleteTrust,
  fetchEntity,
  foreign,
  isObject,
  sameValue,
  isTrustStore,
  label,
  location,
  sha256,
  writeClient,
  writeMapping,
  writeTrust,
} from "./entities";
import { trustStorePemProblems } from "./rules";

export { CLIENT_AUTH_KEYS, sameValue } from "./entities";

/** What an entity is. */
export type CurityKind =
  "clientTrustStore" | "serverTrustStore" | "httpClient" | "client" | "clientIdMapping";

/** What a JWT client's workloads put in their JWT-SVIDs (not sent to Curity). */
export interface CurityAssertion {
  /** The `aud` of the JWT-SVIDs: the token endpoint as Curity publishes it (base URL + path). */
  audience: string;
  /** The URL the workloads post them to (may differ, e.g. http inside a mesh). */
  tokenUrl: string;
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
  /** Whether this package created the entity (computed); an adopted HTTP client is never deleted. */
  created?: boolean;
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
 * A client's scopes must be defined in the token profile (`scope` is a leafref to
 * `authorization-server/scopes/scope`): checked first, for a message that says which are missing.
 */
async function checkScopes(s: CurityState): Promise<void> {
  if (s.kind !== "client") return;
  const profile = String(s.profile);
  const wanted = Array.isArray(s.body?.scope) ? s.body.scope.map(String) : [];
  const found = await getEntry(
    s.connection,
    `token profile ${profile}`,
    curityPaths.scopes(profile),
    CURITY_MEMBERS.scopes,
  );
  if (found === undefined) return; // no profile (the write answers 404) or no scope at all (400)
  const defined = Array.isArray(found.scope) ? found.scope.filter(isObject) : [];
  const known = (scope: string) =>
    defined.some(
      (d) => d.id === scope || (d["is-prefix"] === true && scope.startsWith(String(d.id))),
    );
  const missing = wanted.filter((w) => !known(w));
  if (missing.length > 0) {
    throw new Error(
      `Curity ${label(s)}: the token profile defines no scope ${missing.map((m) => JSON.stringify(m)).join(", ")} (authorization-server/scopes/scope), and a client's scope must name one: define ${missing.length === 1 ? "it" : "them"} in the profile, or remove ${missing.length === 1 ? "it" : "them"} from the workload's curity.scopes`,
    );
  }
}

/** An HTTP client as the package writes it: theirs, with our leaves merged in. */
function mergedHttpClient(
  theirs: Record<string, unknown> | undefined,
  ours: Record<string, unknown>,
): Record<string, unknown> {
  const tls = {
    ...(isObject(theirs?.tls) ? theirs.tls : {}),
    ...(isObject(ours.tls) ? ours.tls : {}),
  };
  return { ...(theirs ?? {}), ...ours, tls };
}

/** Creates or updates an entity (olds: the state of an update). */
async function write(s: CurityState, olds?: CurityState): Promise<CurityState> {
  check(s);
  if (isTrustStore(s.kind)) return writeTrust(s, olds);
  const theirs = await fetchEntity(s);
  if (s.kind === "httpClient") {
    const body = s.body ?? {};
    if (theirs !== undefined && olds === undefined) {
      if (!sameValue(observed(s.kind, body, theirs), body)) {
        throw new Error(
          `Curity ${label(s)}: exists and is not what this package writes (${JSON.stringify(theirs)}): choose another curity.idPrefix, or delete the HTTP client`,
        );
      }
      return { ...s, created: false };
    }
    const { path, member } = location(s);
    await writeNode(s.connection, label(s), "PUT", path, member, [mergedHttpClient(theirs, body)]);
    return { ...s, created: olds === undefined || theirs === undefined ? true : olds.created };
  }
  const why = theirs === undefined ? undefined : foreign(s, theirs);
  if (why !== undefined) throw new Error(`Curity ${label(s)}: ${why}`);
  await checkAlgorithm(s);
  await checkScopes(s);
  if (s.kind === "client") await writeClient(s, theirs);
  else await writeMapping(s, theirs);
  return { ...s, created: olds?.created ?? theirs === undefined };
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
    return { id: inputs.key, outs: await write(inputs) };
  },

  async read(id: string, props: CurityState) {
    const theirs = await fetchEntity(props);
    if (theirs === undefined) return {};
    if (isTrustStore(props.kind)) {
      const stored = typeof theirs.keystore === "string" ? sha256(theirs.keystore) : undefined;
      const replaced = props.storedSha256 !== undefined && stored !== props.storedSha256;
      return { id, props: { ...props, ...(replaced ? { pemSha256: "replaced" } : {}) } };
    }
    return { id, props: { ...props, body: observed(props.kind, props.body ?? {}, theirs) } };
  },

  async update(_id: string, olds: CurityState, news: CurityState) {
    return { outs: await write(news, olds) };
  },

  async delete(_id: string, props: CurityState) {
    if (isTrustStore(props.kind)) return deleteTrust(props);
    if (props.kind === "clientIdMapping") return deleteMapping(props);
    const theirs = await fetchEntity(props);
    if (theirs === undefined) return;
    if (props.kind === "client" && foreign(props, theirs) !== undefined) return;
    if (props.kind === "httpClient") {
      const body = props.body ?? {};
      if (props.created !== true || !sameValue(observed(props.kind, body, theirs), body)) return;
    }
    await deleteEntry(props.connection, label(props), location(props).path);
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
      { ...args, pemSha256: undefined, storedSha256: undefined, created: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "curity",
      TYPE_NAMES[args.kind],
    );
  }
}
