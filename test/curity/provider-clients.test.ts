/**
 * The Curity provider's OAuth clients and client-id mappings against the local RESTCONF API:
 * the profile's algorithms, JWT and X.509 clients, leafrefs, diff and drift, deletion behind
 * Pulumi's back, adoption of its own entries and refusal of others'.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { curityPaths, type CurityConnection } from "../../components/federation/curity/api";
import { curityProvider, stateProblems } from "../../components/federation/curity/provider";
import { useCurityServer } from "./harness";
import { BASIC, CLIENT_PATH, curityStates, PROFILE, PROFILE_AS, TD } from "./provider-states";
import type { CurityTestServer } from "./server";
import type { FaultServer } from "../support/fault-server";

const p = curityProvider as Required<typeof curityProvider>;
const h = useCurityServer(["ES256", "RS256"]);
const { trust, clientState, mapping, storedClient } = curityStates(h);
let server: CurityTestServer;
let fault: FaultServer;
let conn: CurityConnection;
let root: string;
beforeAll(() => ({ server, fault, conn, root } = h));

describe("OAuth clients and client-id mappings", () => {
  it("a JWT client: the profile's algorithms are read, then the client is PUT as YANG JSON", async () => {
    const state = clientState("payments", "jwt");
    const created = await p.create(state);
    expect(created.id).toBe("spiffe-payments");
    expect(server.log).toEqual([
      `GET ${CLIENT_PATH("spiffe-payments")}`,
      `GET ${curityPaths.signatureAlgorithms(PROFILE)}`,
      `GET ${curityPaths.scopes(PROFILE)}`,
      `PUT ${CLIENT_PATH("spiffe-payments")}`,
    ]);
    const put = fault.requests.find((r) => r.method === "PUT")!;
    expect(put.headers["content-type"]).toBe("application/yang-data+json");
    expect(put.headers.authorization).toBe(`Basic ${BASIC}`);
    expect(JSON.parse(put.body)).toEqual({
      "profile-oauth:client": [
        {
          id: "spiffe-payments",
          "client-name": "payments",
          description: `spire-federation: ${TD}/ns/apps/sa/payments`,
          scope: ["orders:read", "reports"],
          capabilities: { "client-credentials": [null] },
          "jwks-uri": { uri: "https://oidc.prod.example.com/keys" },
          "assertion-jwt-validation": { issuer: "https://oidc.prod.example.com" },
        },
      ],
    });
    expect((await p.read(created.id, created.outs)).props).toEqual(created.outs);

    const m = await p.create(mapping("payments"));
    expect(m.id).toBe(`${TD}/ns/apps/sa/payments`);
    expect(server.store.profiles.get(PROFILE)!.mappings.get(`${TD}/ns/apps/sa/payments`)).toEqual({
      sub: `${TD}/ns/apps/sa/payments`,
      "client-id": "spiffe-payments",
    });
    expect(server.log.at(-1)).toBe(
      `PATCH ${PROFILE_AS()}/client-authentication/using-jwt/client-id-mappings`,
    );
    expect(server.log.join("\n")).not.toContain("%2F");
  });

  it("an X.509 client is bound to the SPIFFE ID and the root's trust store entry; both adds JWT as secondary method", async () => {
    await p.create(trust("spiffe-root-ca", root));
    await p.create(clientState("batch", "x509"));
    expect(storedClient("spiffe-batch")).toMatchObject({
      "mutual-tls": { "client-uri": `${TD}/ns/apps/sa/batch`, "trusted-ca": ["spiffe-root-ca"] },
    });
    expect(server.log).not.toContain(`GET ${curityPaths.signatureAlgorithms(PROFILE)}`);
    await p.create(clientState("ledger", "both"));
    expect(storedClient("spiffe-ledger")).toMatchObject({
      "mutual-tls": { "client-uri": `${TD}/ns/apps/sa/ledger`, "trusted-ca": ["spiffe-root-ca"] },
      "secondary-authentication-method": {
        "jwks-uri": { uri: "https://oidc.prod.example.com/keys" },
        "assertion-jwt-validation": { issuer: "https://oidc.prod.example.com" },
      },
    });
  });

  it("an X.509 client naming a trust store entry that does not exist is Curity's 400", async () => {
    await expect(p.create(clientState("batch", "x509"))).rejects.toThrow(
      `Curity client spiffe-batch (profile ${PROFILE}): PUT ${CLIENT_PATH("spiffe-batch")}: HTTP 400 invalid-value: illegal reference: trusted-ca spiffe-root-ca`,
    );
  });

  it("refuses a JWT client when the profile does not allow SPIRE's algorithm, before writing", async () => {
    server.store.profiles.get(PROFILE)!.algorithms = ["RS256"];
    await expect(p.create(clientState("payments", "jwt"))).rejects.toThrow(
      "Curity client spiffe-payments (profile token-service): the token profile allows RS256 for client assertions (client-authentication/asymmetrically-signed-jwt/signature-algorithm), and SPIRE signs JWT-SVIDs with ES256: allow ES256 in the profile (or change spire.caKeyType)",
    );
    server.store.profiles.get(PROFILE)!.algorithms = undefined;
    await expect(p.create(clientState("payments", "jwt"))).rejects.toThrow(
      "the token profile allows no asymmetric algorithm (or does not exist) for client assertions",
    );
    expect(server.log.filter((l) => l.startsWith("PUT"))).toEqual([]);
    expect(storedClient("spiffe-payments")).toBeUndefined();
  });

  it("a missing token profile is a 404 with a RESTCONF error, never 'created'", async () => {
    const state = { ...clientState("batch", "jwt"), profile: "nope" };
    await expect(p.create(state)).rejects.toThrow(
      "Curity client spiffe-batch (profile nope): the token profile allows no asymmetric algorithm (or does not exist) for client assertions",
    );
    const x509 = { ...clientState("batch", "x509", { trustedCa: undefined }), profile: "nope" };
    delete (x509.body as any)["mutual-tls"]["trusted-ca"];
    await expect(p.create(x509)).rejects.toThrow(
      `PUT ${curityPaths.client("nope", "spiffe-batch")}: HTTP 404 invalid-value: uri keypath not found; what it belongs to does not exist (a client's: the token profile)`,
    );
  });

  it("diff: scopes are a set; a new scope updates in place; a new profile or id replaces", async () => {
    const a = clientState("payments", "jwt");
    const reordered = { ...a, body: { ...a.body, scope: ["reports", "orders:read"] } };
    expect((await p.diff("x", a, reordered)).changes).toBe(false);
    const more = { ...a, body: { ...a.body, scope: ["orders:read", "reports", "refunds"] } };
    expect(await p.diff("x", a, more)).toMatchObject({ changes: true, replaces: [] });
    expect(await p.diff("x", a, { ...a, profile: "other" })).toMatchObject({
      replaces: ["profile"],
    });
    expect(
      await p.diff("x", a, { ...a, connection: { ...conn, password: "rotated" } }),
    ).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(
      await p.diff("x", a, { ...a, connection: { ...conn, adminUrl: "https://other:6749" } }),
    ).toMatchObject({ replaces: ["connection"] });
  });

  it("read shows drift: a scope changed, the verifier swapped for a secret, a secondary method added", async () => {
    const state = clientState("payments", "jwt");
    const created = await p.create(state);
    const stored = storedClient("spiffe-payments")!;
    // server defaults Curity adds are not drift
    stored["access-token-ttl"] = 300;
    (stored["jwks-uri"] as any)["some-default"] = true;
    expect(
      (await p.diff(created.id, (await p.read(created.id, created.outs)).props, state)).changes,
    ).toBe(false);

    stored.scope = ["reports", "admin"];
    let read = await p.read(created.id, created.outs);
    expect(read.props.body.scope).toEqual(["reports", "admin"]);
    expect((await p.diff(created.id, read.props, state)).changes).toBe(true);

    delete stored["jwks-uri"];
    stored.secret = "let-me-in";
    read = await p.read(created.id, created.outs);
    expect(read.props.body).toMatchObject({ secret: "let-me-in" });
    expect(read.props.body["jwks-uri"]).toBeUndefined();

    await p.update(created.id, read.props, state);
    // the update replaces what the package owns and keeps what an operator set
    expect(storedClient("spiffe-payments")).toEqual({ ...state.body, "access-token-ttl": 300 });

    storedClient("spiffe-payments")!["secondary-authentication-method"] = { secret: "backdoor" };
    read = await p.read(created.id, created.outs);
    expect((await p.diff(created.id, read.props, state)).changes).toBe(true);
    await p.update(created.id, read.props, state);
    expect(storedClient("spiffe-payments")!["secondary-authentication-method"]).toBeUndefined();
  });

  it("a client deleted behind Pulumi's back reads as gone and is created again; delete is idempotent", async () => {
    const created = await p.create(clientState("payments", "jwt"));
    server.store.profiles.get(PROFILE)!.clients.delete("spiffe-payments");
    expect(await p.read(created.id, created.outs)).toEqual({});
    await p.create(clientState("payments", "jwt"));
    await p.delete(created.id, created.outs);
    expect(storedClient("spiffe-payments")).toBeUndefined();
    await expect(p.delete(created.id, created.outs)).resolves.toBeUndefined();
  });

  it("adopts its own client (same SPIFFE ID) and refuses someone else's, writing nothing", async () => {
    const state = clientState("payments", "jwt");
    server.store.profiles
      .get(PROFILE)!
      .clients.set("spiffe-payments", structuredClone(state.body!));
    await p.create(state);
    expect(server.log.filter((l) => l.startsWith("PUT"))).toEqual([]);

    server.store.profiles.get(PROFILE)!.clients.set("spiffe-orders", {
      id: "spiffe-orders",
      description: "the orders team's client",
      secret: "x",
    });
    await expect(p.create(clientState("orders", "jwt"))).rejects.toThrow(
      `Curity client spiffe-orders (profile ${PROFILE}): exists and is not this package's (its description is "the orders team's client", not "spire-federation: ${TD}/ns/apps/sa/orders"): choose another curity.idPrefix, or delete the client`,
    );
    expect(storedClient("spiffe-orders")!.secret).toBe("x");
    // and delete leaves a client that is not ours alone
    await p.delete("spiffe-orders", clientState("orders", "jwt"));
    expect(storedClient("spiffe-orders")).toBeDefined();
  });

  it("a mapping of the same sub to another client is refused; its own is adopted; drift shows", async () => {
    const mappings = server.store.profiles.get(PROFILE)!.mappings;
    mappings.set(`${TD}/ns/apps/sa/payments`, {
      sub: `${TD}/ns/apps/sa/payments`,
      "client-id": "legacy",
    });
    await expect(p.create(mapping("payments"))).rejects.toThrow(
      `exists and maps ${TD}/ns/apps/sa/payments to client legacy: a sub maps to one client; remove that mapping or that workload's grant`,
    );
    await p.delete(`${TD}/ns/apps/sa/payments`, mapping("payments"));
    expect(mappings.get(`${TD}/ns/apps/sa/payments`)!["client-id"]).toBe("legacy");

    mappings.set(`${TD}/ns/apps/sa/payments`, {
      sub: `${TD}/ns/apps/sa/payments`,
      "client-id": "spiffe-payments",
    });
    server.log.length = 0;
    const m = await p.create(mapping("payments"));
    expect(server.log).toEqual([expect.stringMatching(/^GET /)]);
    mappings.delete(`${TD}/ns/apps/sa/payments`);
    expect(await p.read(m.id, m.outs)).toEqual({});
    await p.delete(m.id, m.outs);
  });

  it("refuses bodies Curity would reject, before any call", async () => {
    const bad = clientState("payments", "jwt");
    (bad.body as any).secret = "also";
    expect(stateProblems(bad)).toEqual([
      "a client has exactly one verifier (secret, jwks-uri given)",
    ]);
    expect(stateProblems({ ...mapping("x"), key: "spiffe://other" })).toEqual([
      `body.sub "${TD}/ns/apps/sa/x" is not the key spiffe://other`,
    ]);
    await expect(p.create(bad)).rejects.toThrow("exactly one verifier");
    expect(server.log).toEqual([]);
  });
});
