/**
 * What the Curity provider may touch, against the RESTCONF double (test/curity/server.ts): only
 * the leaves it owns, only entities it can prove are its own, no SPIFFE ID in a URL (Jetty 12
 * refuses `%2F`), scopes the profile defines, and the loss of everything written over RESTCONF
 * when the admin pod restarts without persistent configuration.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  CURITY_MEMBERS,
  curityPaths,
  type CurityConnection,
} from "../../components/federation/curity/api";
import { curityClientBody } from "../../components/federation/curity/component";
import { curityProvider, type CurityState } from "../../components/federation/curity/provider";
import { CURITY_CONTRACT } from "../contracts/curity/contract";
import { useCurityServer } from "./harness";
import { curityStates, PASSWORD, PROFILE, TD } from "./provider-states";
import type { CurityTestServer } from "./server";

const p = curityProvider as Required<typeof curityProvider>;

const h = useCurityServer(["ES256"]);
let server: CurityTestServer;
let conn: CurityConnection;
let root: string;
beforeAll(() => ({ server, conn, root } = h));
const restart = () => h.restart();

const client = (workload: string, auth: "jwt" | "x509", scopes = ["reports"]): CurityState => ({
  kind: "client",
  connection: conn,
  profile: PROFILE,
  key: `spiffe-${workload}`,
  body: curityClientBody({
    clientId: `spiffe-${workload}`,
    workload,
    spiffeId: `${TD}/ns/apps/sa/${workload}`,
    scopes,
    auth,
    jwksUri: "https://oidc.prod.example.com/keys",
    issuer: "https://oidc.prod.example.com",
    trustedCa: auth === "x509" ? "spiffe-root-ca" : undefined,
  }),
  assertion:
    auth === "jwt"
      ? {
          audience: "https://login.example.com/oauth/v2/oauth-token",
          tokenUrl: "http://curity-runtime.curity:8443/oauth/v2/oauth-token",
          issuer: "https://oidc.prod.example.com",
          algorithm: "ES256",
        }
      : undefined,
});
const { mapping } = curityStates(h);
const trust = (pem: string): CurityState => ({
  kind: "clientTrustStore",
  connection: conn,
  key: "spiffe-root-ca",
  pem,
});
const http = (): CurityState => ({
  kind: "httpClient",
  connection: conn,
  key: "spiffe-jwks",
  body: { id: "spiffe-jwks", tls: { "use-truststore": true } },
});
const profile = () => server.store.profiles.get(PROFILE)!;
const raw = (method: string, path: string) =>
  server.handle({
    method,
    path: `${CURITY_CONTRACT.base}/${path}`,
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`,
      accept: CURITY_CONTRACT.mediaType,
    },
    body: "",
  });

describe("only the leaves the package owns change", () => {
  it("an update keeps the access-token TTL, audience, properties and refresh TTL an operator set", async () => {
    const created = await p.create(client("payments", "jwt"));
    const operator = {
      "access-token-ttl": 900,
      audience: ["api.example.com"],
      "refresh-token-ttl": 0,
      properties: { property: [{ key: "team", value: "payments" }] },
    };
    Object.assign(profile().clients.get("spiffe-payments")!, structuredClone(operator));
    const next = client("payments", "x509", ["orders:read"]);
    await p.create(trust(root));
    await p.update(created.id, created.outs, next);
    expect(profile().clients.get("spiffe-payments")).toEqual({ ...next.body, ...operator });
    expect(profile().clients.get("spiffe-payments")!["jwks-uri"]).toBeUndefined();
  });
});

describe("no SPIFFE ID in a URL: Jetty 12 refuses %2F", () => {
  it("the double answers an encoded slash or percent as Jetty 12 does, before RESTCONF", () => {
    const path = `${curityPaths.clientIdMappings(PROFILE)}/client-id-mapping=${encodeURIComponent(`${TD}/ns/a/sa/b`)}`;
    const refused = raw("GET", path);
    expect(refused.status).toBe(400);
    expect(refused.headers!["content-type"]).toBe(CURITY_CONTRACT.errors.ambiguousPath.contentType);
    expect(refused.body).toContain("Ambiguous URI path separator");
    expect(raw("GET", `${curityPaths.clientIdMappings(PROFILE)}/x%25y`).body).toContain(
      "Ambiguous URI path encoding",
    );
  });

  it("mappings are read and merged through their container; removing one keeps the others", async () => {
    await p.create(client("payments", "jwt"));
    await p.create(client("orders", "jwt"));
    const a = await p.create(mapping("payments"));
    await p.create(mapping("orders"));
    profile().mappings.set("spiffe://partner.example/x", {
      sub: "spiffe://partner.example/x",
      "client-id": "partner",
    });
    expect((await p.read(a.id, a.outs)).props).toEqual(a.outs);
    await p.delete(a.id, a.outs);
    expect([...profile().mappings.keys()].sort()).toEqual([
      "spiffe://partner.example/x",
      `${TD}/ns/apps/sa/orders`,
    ]);
    expect(server.log.filter((l) => /%2f|%25|refused/i.test(l))).toEqual([]);
    expect(server.log.filter((l) => l.startsWith("PUT") && l.includes("mappings"))).toEqual([
      `PUT ${curityPaths.clientIdMappings(PROFILE)}`,
    ]);
  });
});

describe("ownership before overwriting or deleting", () => {
  it("an HTTP client: someone else's is refused, an identical one adopted and never deleted, its own deleted only as written", async () => {
    server.store.httpClients.set("spiffe-jwks", { id: "spiffe-jwks", scheme: "https" });
    await expect(p.create(http())).rejects.toThrow(
      'Curity HTTP client spiffe-jwks: exists and is not what this package writes ({"id":"spiffe-jwks","scheme":"https"}): choose another curity.idPrefix, or delete the HTTP client',
    );
    server.store.httpClients.set("spiffe-jwks", structuredClone(http().body!));
    const adopted = await p.create(http());
    expect(adopted.outs.created).toBe(false);
    await p.delete(adopted.id, adopted.outs);
    expect(server.store.httpClients.has("spiffe-jwks")).toBe(true);

    server.store.httpClients.clear();
    const mine = await p.create(http());
    expect(mine.outs.created).toBe(true);
    server.store.httpClients.get("spiffe-jwks")!.tls = { "use-truststore": false };
    await p.delete(mine.id, mine.outs); // changed behind Pulumi's back: not provably ours now
    expect(server.store.httpClients.has("spiffe-jwks")).toBe(true);
    server.store.httpClients.get("spiffe-jwks")!.tls = { "use-truststore": true };
    await p.delete(mine.id, mine.outs);
    expect(server.store.httpClients.has("spiffe-jwks")).toBe(false);
  });
});

describe("a client's scope is a leafref to the profile's scopes", () => {
  it("the double refuses an undefined scope with the leafref error; the provider says which, before writing", async () => {
    const body = client("payments", "jwt", ["reports", "payments:write"]).body!;
    const put = server.handle({
      method: "PUT",
      path: `${CURITY_CONTRACT.base}/${curityPaths.client(PROFILE, "spiffe-payments")}`,
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`,
        accept: CURITY_CONTRACT.mediaType,
        "content-type": CURITY_CONTRACT.mediaType,
      },
      body: JSON.stringify({ [CURITY_MEMBERS.client]: [body] }),
    });
    expect(put.status).toBe(400);
    expect(JSON.parse(put.body!)["ietf-restconf:errors"].error[0]).toMatchObject({
      "error-tag": "data-missing",
      "error-app-tag": "instance-required",
      "error-message": "illegal reference: scope payments:write",
    });
    server.log.length = 0;
    await expect(
      p.create(client("payments", "jwt", ["reports", "payments:write"])),
    ).rejects.toThrow(
      `Curity client spiffe-payments (profile ${PROFILE}): the token profile defines no scope "payments:write" (authorization-server/scopes/scope), and a client's scope must name one: define it in the profile, or remove it from the workload's curity.scopes`,
    );
    expect(server.log.filter((l) => !l.startsWith("GET"))).toEqual([]);
    profile().scopes.set("payments:", { id: "payments:", "is-prefix": true });
    await p.create(client("payments", "jwt", ["reports", "payments:write"]));
    expect(profile().clients.get("spiffe-payments")!.scope).toEqual(["payments:write", "reports"]);
  });
});

describe("the admin pod restarts without persistent configuration", () => {
  it("a refresh sees every entity gone, and an update writes each again", async () => {
    const states = [trust(root), http(), client("batch", "x509"), client("payments", "jwt")];
    states.push(mapping("payments"));
    const created = [];
    for (const s of states) created.push(await p.create(s));
    for (const c of created) expect((await p.read(c.id, c.outs)).id).toBe(c.id);

    restart();
    for (const c of created) expect(await p.read(c.id, c.outs)).toEqual({});
    for (const [i, c] of created.entries()) await p.update(c.id, c.outs, states[i]);
    expect(server.store.clientTrust.get("spiffe-root-ca")!.pem).toBe(root);
    expect(server.store.httpClients.get("spiffe-jwks")).toEqual(http().body);
    expect([...profile().clients.keys()].sort()).toEqual(["spiffe-batch", "spiffe-payments"]);
    expect(profile().mappings.get(`${TD}/ns/apps/sa/payments`)).toEqual(mapping("payments").body);
  });
});
