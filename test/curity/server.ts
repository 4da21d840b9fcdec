/**
 * A local Curity RESTCONF API (admin service) on 127.0.0.1 for the provider tests, held to the
 * carried contract (test/contracts/curity: restconf.json and Curity's own SPIFFE configuration
 * files):
 *
 * - routing comes from the contract's data paths (RFC 8040 §3.5.3: the first node and every
 *   change of module qualified — `base:`, `profile-oauth:` —, other prefixes optional, keys
 *   percent-encoded, a token profile keyed by id and type `oauth-service`);
 * - `application/yang-data+json` both ways (another body type is 415), HTTP Basic (401 with an
 *   `ietf-restconf:errors` body otherwise);
 * - entries are validated against the contract's fields (an unknown member, a wrong type, two
 *   verifiers, a key in the body other than the URI's are 400 `ietf-restconf:errors`), and
 *   leafrefs as ConfD validates them: a client's `trusted-ca` must name a client trust store
 *   entry and its `jwks-uri/http-client` an HTTP client, and neither can be deleted while a
 *   client names it;
 * - GET answers `{"<module>:<list>": [entry]}`, PUT creates (201) or replaces (204), DELETE
 *   answers 204, a missing node 404 `invalid-value` "uri keypath not found" (ConfD's);
 * - the trust store actions take Curity's flat `{id, keystore}` (base64 of a PEM), answer 200,
 *   replace an entry of the same id, and store the keystore encrypted: a GET shows
 *   `data:application/pem;aes,…`, different on every write, never the PEM.
 *
 * Details the contract marks unconfirmed (201/204/404/409 codes, error bodies) follow RFC 8040
 * and ConfD. {@link CurityTestServer.handle} is the whole API as one function of a request, so
 * it runs as the handler of test/support/fault-server.ts, whose faults spoil its real answers
 * (a lost response after a PUT has really stored the entry).
 */
import { randomBytes } from "node:crypto";
import {
  startFaultServer,
  type FaultServer,
  type RecordedRequest,
  type Reply,
} from "../support/fault-server";
import { CURITY_CONTRACT, entryProblems, type EntityName } from "../contracts/curity/contract";
import {
  ACTIONS,
  ENTITY_TEMPLATES,
  errorReply,
  JSON_TYPE,
  leafrefError,
  matches,
  MISSING,
  ok,
  parseSegments,
  references,
  type CurityStore,
  type StoredProfile,
} from "./restconf";

export type { CurityStore, StoredProfile, StoredTrust } from "./restconf";

const C = CURITY_CONTRACT;

/** The test server. */
export class CurityTestServer {
  /** What it holds; tests change it behind the provider's back. */
  readonly store: CurityStore = {
    profiles: new Map(),
    clientTrust: new Map(),
    serverTrust: new Map(),
    httpClients: new Map(),
  };
  /** Each request as `METHOD path` (path below the RESTCONF base, still encoded). */
  readonly log: string[] = [];
  /** Requests that broke the contract in a way a real server might not reject (Accept). */
  readonly violations: string[] = [];
  /** The fault server it runs behind, once started. */
  fault?: FaultServer;

  constructor(readonly credentials: { username: string; password: string }) {}

  /** Adds a token profile (type oauth-service) with these algorithms and scopes. */
  addProfile(id: string, algorithms?: string[], scopes: string[] = []): StoredProfile {
    const p: StoredProfile = {
      clients: new Map(),
      mappings: new Map(),
      scopes: new Map(scopes.map((s) => [s, { id: s }])),
      algorithms,
    };
    this.store.profiles.set(id, p);
    return p;
  }

  /** Starts HTTPS on 127.0.0.1 behind the fault server. */
  async start(): Promise<FaultServer> {
    this.fault = await startFaultServer({ tls: true, handler: (r) => this.handle(r) });
    return this.fault;
  }

  /** Stops it. */
  async stop(): Promise<void> {
    await this.fault?.close();
  }

  /** Answers one request. */
  handle(req: RecordedRequest): Reply {
    // Jetty 12 (Servlet 6) refuses an encoded separator or percent in a path before Curity sees it.
    const ambiguous = /%2f/i.test(req.path)
      ? "separator"
      : /%25/.test(req.path)
        ? "encoding"
        : undefined;
    if (ambiguous !== undefined) {
      this.log.push(`${req.method} ${req.path} (refused by Jetty)`);
      return {
        status: 400,
        headers: { "content-type": "text/html;charset=iso-8859-1" },
        body: `<html><head><title>Error 400 Ambiguous URI path ${ambiguous}</title></head><body><h2>HTTP ERROR 400 Ambiguous URI path ${ambiguous}</h2></body></html>`,
      };
    }
    const url = new URL(req.path, "https://127.0.0.1");
    if (!url.pathname.startsWith(C.base)) return { status: 404, body: "" };
    const rel = url.pathname.slice(C.base.length);
    this.log.push(`${req.method} ${rel.replace(/^\//, "")}`);
    const { username, password } = this.credentials;
    const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      return errorReply(401, "access-denied", undefined, "protocol");
    }
    const accept = req.headers.accept ?? "";
    if (!accept.includes(JSON_TYPE) && !accept.includes("*/*")) {
      this.violations.push(`${req.method} ${rel}: Accept ${accept}`);
    }
    let body: unknown;
    if (req.body !== "") {
      if (!(req.headers["content-type"] ?? "").startsWith(JSON_TYPE)) {
        return errorReply(
          415,
          "invalid-value",
          `unsupported media type ${String(req.headers["content-type"])}`,
          "protocol",
        );
      }
      try {
        body = JSON.parse(req.body);
      } catch {
        return errorReply(400, "malformed-message", "malformed JSON", "protocol");
      }
    }
    if (rel === "" || rel === "/")
      return req.method === "GET" ? ok(200, {}) : errorReply(405, "operation-not-supported");
    const segs = parseSegments(rel);
    if (typeof segs === "string") return errorReply(400, "unknown-element", segs, "protocol");

    for (const kind of ["clientTrustStore", "serverTrustStore"] as const) {
      if (matches(segs, ACTIONS[kind])) {
        return req.method === "POST"
          ? this.trustAction(kind, body)
          : errorReply(405, "operation-not-supported");
      }
    }
    const entity = (Object.keys(ENTITY_TEMPLATES) as EntityName[]).find((e) =>
      matches(segs, ENTITY_TEMPLATES[e]),
    );
    if (entity === undefined) return MISSING();
    const keys = segs.flatMap((s) => s.keys);
    if (
      entity === "client" ||
      entity === "clientIdMappings" ||
      entity === "scopes" ||
      entity === "signatureAlgorithms"
    ) {
      const [profileId, type] = keys;
      const profile = this.store.profiles.get(profileId);
      if (!profile || !["oauth-service", "profile-oauth:oauth-service"].includes(type))
        return MISSING();
      if (entity === "signatureAlgorithms") {
        if (req.method !== "GET") return errorReply(405, "operation-not-supported");
        return profile.algorithms === undefined
          ? MISSING()
          : ok(200, {
              [C.entities.signatureAlgorithms.member]: {
                "signature-algorithm": profile.algorithms,
              },
            });
      }
      if (entity === "scopes") {
        if (req.method !== "GET") return errorReply(405, "operation-not-supported");
        return ok(200, { [C.entities.scopes.member]: { scope: [...profile.scopes.values()] } });
      }
      if (entity === "clientIdMappings") return this.mappings(profile, req.method, body);
      return this.listEntry("client", profile.clients, keys[2], req.method, body, profile);
    }
    if (entity === "httpClient")
      return this.listEntry(entity, this.store.httpClients, keys[0], req.method, body);
    return this.trustEntry(entity, keys[0], req.method);
  }

  private clients(): Record<string, unknown>[] {
    return [...this.store.profiles.values()].flatMap((p) => [...p.clients.values()]);
  }

  /** The profile's client-id-mappings container: GET, PUT (replace the list), PATCH (merge by sub). */
  private mappings(profile: StoredProfile, method: string, body: unknown): Reply {
    const member = C.entities.clientIdMappings.member;
    if (method === "GET") {
      return profile.mappings.size === 0
        ? MISSING()
        : ok(200, { [member]: { "client-id-mapping": [...profile.mappings.values()] } });
    }
    if (method !== "PUT" && method !== "PATCH") return errorReply(405, "operation-not-supported");
    const container = (body as Record<string, unknown> | undefined)?.[member];
    const problems = entryProblems("clientIdMappings", container);
    if (problems.length > 0) return errorReply(400, "invalid-value", problems.join("; "));
    const list = ((container as Record<string, unknown>)["client-id-mapping"] ?? []) as Record<
      string,
      unknown
    >[];
    if (method === "PUT") profile.mappings.clear();
    for (const m of list) profile.mappings.set(String(m.sub), structuredClone(m));
    return ok(204);
  }

  private listEntry(
    entity: "client" | "httpClient",
    map: Map<string, Record<string, unknown>>,
    key: string,
    method: string,
    body: unknown,
    profile?: StoredProfile,
  ): Reply {
    const spec = C.entities[entity];
    switch (method) {
      case "GET": {
        const entry = map.get(key);
        return entry === undefined ? MISSING() : ok(200, { [spec.member]: [entry] });
      }
      case "DELETE": {
        if (!map.has(key)) return MISSING();
        if (entity === "httpClient") {
          const user = this.clients().find((c) => references(c).http.includes(key));
          if (user)
            return errorReply(
              400,
              "invalid-value",
              `illegal reference: client ${String(user.id)} uses http client ${key}`,
            );
        }
        map.delete(key);
        return ok(204);
      }
      case "PUT": {
        const list = (body as Record<string, unknown> | undefined)?.[spec.member];
        if (!Array.isArray(list) || list.length !== 1) {
          return errorReply(
            400,
            "malformed-message",
            `expected {"${spec.member}": [entry]}`,
            "protocol",
          );
        }
        const entry = list[0] as Record<string, unknown>;
        const problems = entryProblems(entity, entry);
        if (problems.length > 0) return errorReply(400, "invalid-value", problems.join("; "));
        if (entry[spec.key as string] !== key) {
          return errorReply(
            400,
            "invalid-value",
            "the key leaf in the body does not match the URI",
          );
        }
        if (entity === "client" && profile !== undefined) {
          const scopes = Array.isArray(entry.scope) ? (entry.scope as string[]) : [];
          const defined = [...profile.scopes.values()];
          const undefinedScope = scopes.find(
            (sc) =>
              !defined.some(
                (d) => d.id === sc || (d["is-prefix"] === true && sc.startsWith(String(d.id))),
              ),
          );
          if (undefinedScope !== undefined) {
            return leafrefError(`client[id='${key}']/scope`, `scope ${undefinedScope}`);
          }
          const refs = references(entry);
          const badTrust = refs.trust.find((t) => !this.store.clientTrust.has(t));
          if (badTrust)
            return errorReply(400, "invalid-value", `illegal reference: trusted-ca ${badTrust}`);
          const badHttp = refs.http.find((h) => !this.store.httpClients.has(h));
          if (badHttp)
            return errorReply(400, "invalid-value", `illegal reference: http-client ${badHttp}`);
        }
        const existed = map.has(key);
        map.set(key, structuredClone(entry));
        return ok(existed ? 204 : 201);
      }
      default:
        return errorReply(405, "operation-not-supported");
    }
  }

  private trustEntry(
    kind: "clientTrustStore" | "serverTrustStore",
    id: string,
    method: string,
  ): Reply {
    const map = kind === "clientTrustStore" ? this.store.clientTrust : this.store.serverTrust;
    const entry = map.get(id);
    if (method === "GET") {
      return entry === undefined
        ? MISSING()
        : ok(200, { [C.entities[kind].member]: [{ id: entry.id, keystore: entry.keystore }] });
    }
    if (method === "DELETE") {
      if (entry === undefined) return MISSING();
      if (kind === "clientTrustStore") {
        const user = this.clients().find((c) => references(c).trust.includes(id));
        if (user)
          return errorReply(
            400,
            "invalid-value",
            `illegal reference: client ${String(user.id)} trusts ${id}`,
          );
      }
      map.delete(id);
      return ok(204);
    }
    return errorReply(405, "operation-not-supported");
  }

  private trustAction(kind: "clientTrustStore" | "serverTrustStore", body: unknown): Reply {
    const input = body as Record<string, unknown> | undefined;
    const unknown = Object.keys(input ?? {}).filter((k) => !(k in C.actionInput.fields));
    if (unknown.length > 0)
      return errorReply(
        400,
        "unknown-element",
        `unknown element: ${unknown.join(", ")}`,
        "protocol",
      );
    if (typeof input?.id !== "string" || typeof input.keystore !== "string") {
      return errorReply(400, "missing-element", "id and keystore are required", "protocol");
    }
    const pem = Buffer.from(input.keystore, "base64").toString("utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      return errorReply(400, "invalid-value", "keystore is not a base64-encoded PEM certificate");
    }
    const map = kind === "clientTrustStore" ? this.store.clientTrust : this.store.serverTrust;
    const keystore = `data:application/pem;aes,v:S.${randomBytes(48).toString("base64")}`;
    map.set(input.id, { id: input.id, keystore, pem });
    return ok(200);
  }
}
