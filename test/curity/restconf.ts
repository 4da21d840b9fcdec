/**
 * RESTCONF as the Curity test server (test/curity/server.ts) speaks it: what it stores, data
 * paths parsed and matched against the carried contract's templates (RFC 8040 §3.5.3), the
 * answers (`ietf-restconf:errors`, ConfD's leafref and missing-node errors), and the leafrefs a
 * client holds.
 */
import type { Reply } from "../support/fault-server";
import { CURITY_CONTRACT, type EntityName } from "../contracts/curity/contract";

const C = CURITY_CONTRACT;
/** The media type both ways: application/yang-data+json. */
export const JSON_TYPE = C.mediaType;

/** A stored trust store entry: what GET shows, and the PEM the action received (for tests). */
export interface StoredTrust {
  /** Its id. */
  id: string;
  /** The keystore as Curity shows it: encrypted. */
  keystore: string;
  /** The PEM that was sent. */
  pem: string;
}

/** One token profile. */
export interface StoredProfile {
  /** Clients by id. */
  clients: Map<string, Record<string, unknown>>;
  /** client-id mappings by sub (the `client-id-mappings` container's list). */
  mappings: Map<string, Record<string, unknown>>;
  /** Scopes defined in the profile by id (a client's `scope` is a leafref to them). */
  scopes: Map<string, Record<string, unknown>>;
  /** `asymmetrically-signed-jwt/signature-algorithm` (undefined: the container is absent). */
  algorithms?: string[];
}

/** What the server holds. */
export interface CurityStore {
  /** Token profiles (type oauth-service) by id. */
  profiles: Map<string, StoredProfile>;
  /** Client trust store by id. */
  clientTrust: Map<string, StoredTrust>;
  /** Server trust store by id. */
  serverTrust: Map<string, StoredTrust>;
  /** HTTP client facilities by id. */
  httpClients: Map<string, Record<string, unknown>>;
}

/** One node of a RESTCONF data path: its module prefix, name and list keys. */
export interface Segment {
  module?: string;
  name: string;
  keys: string[];
}

/** The node names of the `authorization-server` subtree belong to module profile-oauth. */
const MODULE_SWITCH: Record<string, string> = { "authorization-server": "profile-oauth" };

/** The nodes of a data path, or why it is not one (RFC 8040 §3.5.3). */
export function parseSegments(p: string): Segment[] | string {
  const out: Segment[] = [];
  let module: string | undefined;
  for (const raw of p.split("/").filter((s) => s !== "")) {
    const eq = raw.indexOf("=");
    const head = eq === -1 ? raw : raw.slice(0, eq);
    const colon = head.indexOf(":");
    const prefix = colon === -1 ? undefined : head.slice(0, colon);
    const name = colon === -1 ? head : head.slice(colon + 1);
    const own = MODULE_SWITCH[name] ?? module ?? "base";
    if (module === undefined || own !== module) {
      // RFC 8040 §3.5.3: the first node and a change of module are qualified
      if (prefix !== own) return `${name}: missing or wrong module prefix (expected ${own}:)`;
    } else if (prefix !== undefined && prefix !== own) {
      return `${name}: wrong module prefix ${prefix}`;
    }
    module = own;
    let keys: string[] = [];
    try {
      keys =
        eq === -1
          ? []
          : raw
              .slice(eq + 1)
              .split(",")
              .map(decodeURIComponent);
    } catch {
      return `${name}: key is not percent-encoded correctly`;
    }
    out.push({ module: prefix, name, keys });
  }
  return out;
}

interface Template {
  names: string[];
  keyCounts: number[];
}

function template(p: string): Template {
  const segs = parseSegments(p.replace(/\{\w+\}/g, "x")) as Segment[];
  return { names: segs.map((s) => s.name), keyCounts: segs.map((s) => s.keys.length) };
}

/** Each entity's path template, from the contract. */
export const ENTITY_TEMPLATES = Object.fromEntries(
  (Object.keys(C.entities) as EntityName[]).map((e) => [e, template(C.entities[e].path)]),
) as Record<EntityName, Template>;
/** The trust stores' action templates. */
export const ACTIONS = {
  clientTrustStore: template(C.entities.clientTrustStore.action as string),
  serverTrustStore: template(C.entities.serverTrustStore.action as string),
};

/** Whether a parsed path is an instance of a template (same nodes, same key counts). */
export function matches(segs: Segment[], t: Template): boolean {
  return (
    segs.length === t.names.length &&
    segs.every((s, i) => s.name === t.names[i] && s.keys.length === t.keyCounts[i])
  );
}

/** An `ietf-restconf:errors` answer (RFC 8040 §7.1). */
export function errorReply(
  status: number,
  tag: string,
  message?: string,
  type = "application",
): Reply {
  const error: Record<string, string> = { "error-type": type, "error-tag": tag };
  if (message !== undefined) error["error-message"] = message;
  return {
    status,
    headers: { "content-type": JSON_TYPE },
    body: JSON.stringify({ "ietf-restconf:errors": { error: [error] } }),
  };
}

/** A leafref naming nothing (RFC 7950 §15.5; ConfD's message). */
export function leafrefError(path: string, what: string): Reply {
  return {
    status: 400,
    headers: { "content-type": JSON_TYPE },
    body: JSON.stringify({
      "ietf-restconf:errors": {
        error: [
          {
            "error-type": "application",
            "error-tag": "data-missing",
            "error-app-tag": "instance-required",
            "error-path": path,
            "error-message": `illegal reference: ${what}`,
          },
        ],
      },
    }),
  };
}

/** ConfD's 404 for a node that does not exist. */
export const MISSING = (): Reply => errorReply(404, "invalid-value", "uri keypath not found");
/** A success answer, with a JSON body or none. */
export const ok = (status: number, body?: unknown): Reply => ({
  status,
  headers: { "content-type": JSON_TYPE },
  body: body === undefined ? "" : JSON.stringify(body),
});

/** The ids a client's `trusted-ca` and `http-client` leafrefs name (primary and secondary). */
export function references(client: Record<string, unknown>): { trust: string[]; http: string[] } {
  const trust: string[] = [];
  const http: string[] = [];
  const scan = (o: Record<string, unknown>) => {
    for (const k of ["mutual-tls", "mutual-tls-by-proxy"]) {
      const m = o[k] as Record<string, unknown> | undefined;
      if (Array.isArray(m?.["trusted-ca"])) trust.push(...(m["trusted-ca"] as string[]));
    }
    const j = o["jwks-uri"] as Record<string, unknown> | undefined;
    if (typeof j?.["http-client"] === "string") http.push(j["http-client"]);
  };
  scan(client);
  const s = client["secondary-authentication-method"];
  if (typeof s === "object" && s !== null) scan(s as Record<string, unknown>);
  return { trust, http };
}
