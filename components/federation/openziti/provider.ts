/**
 * A Pulumi dynamic provider for OpenZiti entities (no Pulumi provider exists, and bridging the
 * Terraform one needs the Pulumi CLI's code generation): CAs, CA verification, identities,
 * external JWT signers and auth policies, managed through the Edge Management API.
 *
 * - create: adopt the entity that already has our name (names are unique per kind: a create
 *   whose response was lost left it behind) by PATCHing our fields onto it, else POST; after a
 *   failed POST, check the name once more and adopt what the POST may have made. An entity of
 *   our name that differs in a field the API cannot change is an error. Then GET for computed
 *   fields (a CA's verificationToken);
 * - read: GET; the API's 404 NOT_FOUND (not a proxy's page) returns no id, so Pulumi drops the resource and the next update recreates
 *   it (a 2xx that is not the API's JSON is an error, never "gone"); otherwise the controller's values replace ours, read in the shape we send them (an
 *   identity's `type` is an entity reference on read, its `typeId` the string we send), so drift
 *   shows in the next diff and nothing else does;
 * - diff: replace only where the API cannot update in place (a CA's certPem, an identity's type,
 *   a verification's CA), update otherwise (a changed connection alone changes nothing remote);
 * - a verification is one-time: once the CA is verified, a new verification certificate (the
 *   generated one lives 24 h and is then replaced) is no change, and create/update of a
 *   verification never POST for a verified CA (and take the controller's 409
 *   CA_ALREADY_VERIFIED as done);
 * - update: PATCH of the changed fields; delete: DELETE, idempotent (404 is fine).
 * Every body is validated before any call.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  createEntity,
  deleteEntity,
  findByName,
  getEntity,
  patchEntity,
  verifyCa,
  type ZitiConnection,
  type ZitiEntityData,
  type ZitiKind,
  type ZitiSession,
} from "./api";

/**
 * Sessions by connection (in memory only), so that one deployment logs in once per controller.
 * A plain object, not a Map: Pulumi serializes this provider, and its serializer turns a Map into
 * an object that has Map's methods but not its internal slots.
 */
const sessions: Record<string, ZitiSession> = {};

function sessionFor(connection: ZitiConnection): ZitiSession {
  const key = JSON.stringify([
    connection.controllerUrl,
    connection.username,
    connection.password,
    connection.caPem ?? "",
    connection.limits ?? {},
  ]);
  sessions[key] ??= { connection };
  return sessions[key];
}

/** Where an external ID is read from in a client certificate. */
export type ExternalIdLocation = "COMMON_NAME" | "SAN_URI" | "SAN_EMAIL";

/** A CA's `externalIdClaim` (all fields required by the API). */
export interface ExternalIdClaim {
  /** Certificate field. */
  location: ExternalIdLocation;
  /** How to pick a value there. */
  matcher: "ALL" | "PREFIX" | "SUFFIX" | "SCHEME";
  /** Prefix, suffix or scheme for the matcher. */
  matcherCriteria: string;
  /** How to split the picked value. */
  parser: "NONE" | "SPLIT";
  /** Separator for SPLIT. */
  parserCriteria: string;
  /** Which split part (or match) to use. */
  index: number;
}

const MATCHERS_BY_LOCATION: Record<ExternalIdLocation, string[]> = {
  COMMON_NAME: ["ALL"],
  SAN_URI: ["ALL", "SCHEME"],
  SAN_EMAIL: ["ALL", "PREFIX", "SUFFIX"],
};

/** The combinations the controller rejects, as sentences; empty when the claim is usable. */
export function externalIdClaimProblems(c: ExternalIdClaim): string[] {
  const problems: string[] = [];
  const allowed = MATCHERS_BY_LOCATION[c.location];
  if (!allowed) {
    problems.push(`location ${String(c.location)} is not COMMON_NAME, SAN_URI or SAN_EMAIL`);
  } else if (!allowed.includes(c.matcher)) {
    problems.push(
      `${c.location} allows only the ${allowed.join(" or ")} matcher, not ${c.matcher}`,
    );
  }
  if (c.matcher !== "ALL" && !c.matcherCriteria) {
    problems.push(`the ${c.matcher} matcher needs matcherCriteria`);
  }
  if (c.parser === "SPLIT" && !c.parserCriteria)
    problems.push("the SPLIT parser needs parserCriteria");
  if (!Number.isInteger(c.index) || c.index < 0) problems.push("index must be a whole number ≥ 0");
  return problems;
}

/** Why an entity name is unusable, or `undefined`. */
export function zitiNameProblem(name: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,127}$/.test(name)
    ? undefined
    : "must be 1–128 characters of letters, digits, space and . _ @ : -, starting with a letter or digit";
}

const text = (v: unknown): string => (typeof v === "string" ? v : "");

/** Problems of a body for a kind, before any call is made. */
export function bodyProblems(kind: ZitiEntityKind, body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (kind !== "caVerification") {
    const n = zitiNameProblem(text(body.name));
    if (n) problems.push(`name ${JSON.stringify(body.name ?? "")} ${n}`);
  }
  if (kind === "ca") {
    if (!text(body.certPem).includes("BEGIN CERTIFICATE"))
      problems.push("certPem is not a PEM certificate");
    if (body.externalIdClaim !== undefined) {
      problems.push(...externalIdClaimProblems(body.externalIdClaim as ExternalIdClaim));
    }
  }
  if (kind === "caVerification" && !text(body.certPem).includes("BEGIN CERTIFICATE")) {
    problems.push("certPem is not a PEM certificate");
  }
  return problems;
}

/** Entity kinds of the provider: the API's, plus a CA's verification. */
export type ZitiEntityKind = ZitiKind | "caVerification";

/** Fields the API cannot change in place: a change replaces the entity. */
const IMMUTABLE: Record<ZitiEntityKind, string[]> = {
  ca: ["certPem"],
  identity: ["type"],
  extJwtSigner: [],
  authPolicy: [],
  caVerification: ["caId"],
};

/** The provider's inputs and outputs. */
export interface ZitiState {
  /** What the entity is. */
  kind: ZitiEntityKind;
  /** Controller and credentials (a secret). */
  connection: ZitiConnection;
  /** The entity's fields as the API takes them (for a verification: caId and certPem). */
  body: Record<string, unknown>;
  /** A CA's verification token (computed). */
  verificationToken?: string;
  /** Whether a CA is verified (computed). */
  isVerified?: boolean;
}

function normalize(v: unknown): unknown {
  if (typeof v === "string") return v.trim();
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, normalize(x)]),
    );
  }
  return v;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function changedKeys(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => !same(olds[k], news[k]));
}

function check(state: ZitiState): void {
  const problems = bodyProblems(state.kind, state.body);
  if (problems.length > 0) throw new Error(`OpenZiti ${state.kind}: ${problems.join("; ")}`);
}

function computed(kind: ZitiEntityKind, server: Record<string, unknown> | undefined) {
  if (kind !== "ca" || server === undefined) return {};
  return {
    verificationToken: server.verificationToken as string | undefined,
    isVerified: server.isVerified as boolean | undefined,
  };
}

/**
 * A field of an entity as the API returns it, in the shape we send it: an identity's `type` is
 * an entity reference on read (`{id, name, entity, _links}`), the string is `typeId`
 * (edge-api management.yml, identityDetail).
 */
function asSent(kind: ZitiKind, key: string, server: ZitiEntityData): unknown {
  if (kind === "identity" && key === "type") return server.typeId;
  return server[key];
}

/**
 * Takes over an entity found by our name: our fields that differ are PATCHed onto it; a field
 * the API cannot change (a CA's certificate, an identity's type) must already match.
 */
async function adopt(
  session: ZitiSession,
  kind: ZitiKind,
  body: Record<string, unknown>,
  found: ZitiEntityData,
): Promise<string> {
  const changed = Object.keys(body).filter((k) => !same(asSent(kind, k, found), body[k]));
  const fixed = changed.filter((k) => IMMUTABLE[kind].includes(k));
  if (fixed.length > 0) {
    throw new Error(
      `OpenZiti ${kind} ${String(body.name)}: one with this name exists (id ${found.id}) with another ${fixed.join(" and ")}, which the API cannot change: delete it or choose another name`,
    );
  }
  if (changed.length > 0) {
    const patch = Object.fromEntries(changed.map((k) => [k, body[k] ?? null]));
    await patchEntity(session, kind, found.id, patch);
  }
  return found.id;
}

/** Adopts the entity with our name, or creates it (and adopts it after a failed POST). */
async function adoptOrCreate(
  session: ZitiSession,
  kind: ZitiKind,
  body: Record<string, unknown>,
): Promise<string> {
  const name = String(body.name);
  const existing = await findByName(session, kind, name);
  if (existing !== undefined) return adopt(session, kind, body, existing);
  try {
    return await createEntity(session, kind, body);
  } catch (e) {
    // The POST may have been processed (a lost answer, a gateway's 502/504): check, once.
    let made: ZitiEntityData | undefined;
    try {
      made = await findByName(session, kind, name);
    } catch (check) {
      throw new Error(
        `OpenZiti ${kind} ${name}: ${(e as Error).message}; checking whether it was created failed too: ${(check as Error).message}; run again: an existing ${kind} of this name is adopted`,
      );
    }
    if (made === undefined) throw e;
    return adopt(session, kind, body, made);
  }
}

/** Verifies the CA unless it already is; a verification is one-time. */
async function ensureVerified(session: ZitiSession, body: Record<string, unknown>): Promise<void> {
  const caId = String(body.caId);
  const ca = await getEntity(session, "ca", caId);
  if (ca === undefined) throw new Error(`OpenZiti caVerification: the CA ${caId} does not exist`);
  if (ca.isVerified === true) return;
  await verifyCa(session, caId, String(body.certPem));
}

/** The provider. Exported for tests, which drive it against a local Edge Management API. */
export const zitiProvider: pulumi.dynamic.ResourceProvider = {
  diff(_id: string, olds: ZitiState, news: ZitiState) {
    let changed = changedKeys(olds.body ?? {}, news.body ?? {});
    // A verified CA stays verified: a new verification certificate changes nothing.
    if (news.kind === "caVerification" && olds.isVerified === true) {
      changed = changed.filter((k) => k !== "certPem");
    }
    const replaces = changed
      .filter((k) => IMMUTABLE[news.kind].includes(k))
      .map((k) => `body.${k}`);
    if (olds.kind !== news.kind) replaces.push("kind");
    // A CA found unverified (e.g. replaced behind our back): the update verifies it again.
    const unverified = news.kind === "caVerification" && olds.isVerified === false;
    const connectionChanged = !same(olds.connection, news.connection);
    return Promise.resolve({
      changes: changed.length > 0 || replaces.length > 0 || unverified || connectionChanged,
      replaces,
      deleteBeforeReplace: true,
    });
  },

  async create(inputs: ZitiState) {
    check(inputs);
    const session = sessionFor(inputs.connection);
    if (inputs.kind === "caVerification") {
      await ensureVerified(session, inputs.body);
      return {
        id: `${String(inputs.body.caId)}/verification`,
        outs: { ...inputs, isVerified: true },
      };
    }
    const id = await adoptOrCreate(session, inputs.kind, inputs.body);
    const server = inputs.kind === "ca" ? await getEntity(session, inputs.kind, id) : undefined;
    return { id, outs: { ...inputs, ...computed(inputs.kind, server) } };
  },

  async read(id: string, props: ZitiState) {
    const session = sessionFor(props.connection);
    if (props.kind === "caVerification") {
      const ca = await getEntity(session, "ca", String(props.body.caId));
      if (ca === undefined) return {};
      return { id, props: { ...props, isVerified: ca.isVerified === true } };
    }
    const server = await getEntity(session, props.kind, id);
    if (server === undefined) return {};
    const body: Record<string, unknown> = {};
    for (const [k, ours] of Object.entries(props.body)) {
      const theirs = asSent(props.kind, k, server);
      body[k] = theirs !== undefined && !same(theirs, ours) ? theirs : ours;
    }
    return { id, props: { ...props, body, ...computed(props.kind, server) } };
  },

  async update(id: string, olds: ZitiState, news: ZitiState) {
    check(news);
    const session = sessionFor(news.connection);
    if (news.kind === "caVerification") {
      await ensureVerified(session, news.body);
      return { outs: { ...news, isVerified: true } };
    }
    const changed = changedKeys(olds.body, news.body);
    if (changed.length > 0) {
      await patchEntity(
        session,
        news.kind,
        id,
        Object.fromEntries(changed.map((k) => [k, news.body[k] ?? null])),
      );
    }
    const server = news.kind === "ca" ? await getEntity(session, news.kind, id) : undefined;
    return { outs: { ...news, ...computed(news.kind, server) } };
  },

  async delete(id: string, props: ZitiState) {
    // A verification cannot be undone; deleting the CA removes it.
    if (props.kind === "caVerification") return;
    await deleteEntity(sessionFor(props.connection), props.kind, id);
  },
};

/** Inputs of a {@link ZitiEntity}. */
export interface ZitiEntityArgs {
  /** What the entity is. */
  kind: ZitiEntityKind;
  /** Controller and credentials. */
  connection: pulumi.Input<ZitiConnection>;
  /** The entity's fields (for a verification: `{ caId, certPem }`). */
  body: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
}

const TYPE_NAMES: Record<ZitiEntityKind, string> = {
  ca: "Ca",
  caVerification: "CaVerification",
  identity: "Identity",
  extJwtSigner: "ExternalJwtSigner",
  authPolicy: "AuthPolicy",
};

/** One OpenZiti entity (type `pulumi-nodejs:dynamic/openziti:<Kind>`). */
export class ZitiEntity extends pulumi.dynamic.Resource {
  /** Entity fields as last written or read. */
  declare readonly body: pulumi.Output<Record<string, unknown>>;
  /** A CA's verification token. */
  declare readonly verificationToken: pulumi.Output<string | undefined>;
  /** Whether a CA (or verification) is verified. */
  declare readonly isVerified: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: ZitiEntityArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      zitiProvider,
      name,
      { ...args, verificationToken: undefined, isVerified: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "openziti",
      TYPE_NAMES[args.kind],
    );
  }
}
