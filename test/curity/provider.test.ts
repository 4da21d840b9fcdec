/**
 * The Curity client and dynamic provider against a local RESTCONF API over HTTPS on 127.0.0.1
 * (test/curity-server.ts, held to test/contracts/curity): create, read, diff, update and delete
 * of every entity, drift and deletion behind Pulumi's back, adoption, leafrefs, the profile's
 * algorithms, and the faults of test/support/fault-server.ts.
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CURITY_MEMBERS,
  CurityApiError,
  curityPaths,
  getEntry,
  type CurityConnection,
} from "../../components/federation/curity/api";
import { curityClientBody } from "../../components/federation/curity/component";
import {
  curityProvider,
  stateProblems,
  type CurityState,
} from "../../components/federation/curity/provider";
import { HttpError } from "../../components/http/client";
import { CURITY_TEST_PASSWORD, useCurityServer } from "./harness";
import type { CurityTestServer } from "./server";
import { CURITY_CONTRACT } from "../contracts/curity/contract";
import { makeCertificate } from "../fixtures";
import type { FaultServer } from "../support/fault-server";
import { shippedProvider } from "../support/shipped-provider";

const p = curityProvider as Required<typeof curityProvider>;
const PASSWORD = CURITY_TEST_PASSWORD;
const BASIC = Buffer.from(`admin:${PASSWORD}`).toString("base64");
const PROFILE = "token-service";
const TD = "spiffe://prod.example.com";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

const h = useCurityServer(["ES256", "RS256"]);
let server: CurityTestServer;
let fault: FaultServer;
let conn: CurityConnection;
let root: string;
beforeAll(() => ({ server, fault, conn, root } = h));

const trust = (
  key: string,
  pem: string,
  kind: CurityState["kind"] = "clientTrustStore",
): CurityState => ({
  kind,
  connection: conn,
  key,
  pem,
});

function clientState(
  workload: string,
  auth: "jwt" | "x509" | "both",
  extra: Partial<Parameters<typeof curityClientBody>[0]> = {},
): CurityState {
  const clientId = `spiffe-${workload}`;
  const body = curityClientBody({
    clientId,
    workload,
    spiffeId: `${TD}/ns/apps/sa/${workload}`,
    scopes: ["reports", "orders:read"],
    auth,
    jwksUri: "https://oidc.prod.example.com/keys",
    issuer: "https://oidc.prod.example.com",
    trustedCa: auth === "jwt" ? undefined : "spiffe-root-ca",
    ...extra,
  });
  return {
    kind: "client",
    connection: conn,
    profile: PROFILE,
    key: clientId,
    body,
    assertion:
      auth === "x509"
        ? undefined
        : {
            audience: "https://login.example.com/oauth/v2/oauth-token",
            tokenUrl: "https://login.example.com/oauth/v2/oauth-token",
            issuer: "https://oidc.prod.example.com",
            algorithm: "ES256",
          },
  };
}

const mapping = (workload: string): CurityState => ({
  kind: "clientIdMapping",
  connection: conn,
  profile: PROFILE,
  key: `${TD}/ns/apps/sa/${workload}`,
  body: { sub: `${TD}/ns/apps/sa/${workload}`, "client-id": `spiffe-${workload}` },
});

const CLIENT_PATH = (id: string) => curityPaths.client(PROFILE, id);
const storedClient = (id: string) => server.store.profiles.get(PROFILE)!.clients.get(id);

describe("client trust store: the stable root", () => {
  it("create stores the PEM through Curity's action and keeps hashes of what was sent and stored", async () => {
    const created = await p.create(trust("spiffe-root-ca", root));
    expect(created.id).toBe("spiffe-root-ca");
    expect(server.log).toEqual([
      "GET base:facilities/crypto/ssl/client-truststore/client-certificate=spiffe-root-ca",
      "POST base:facilities/crypto/add-ssl-client-truststore",
      "GET base:facilities/crypto/ssl/client-truststore/client-certificate=spiffe-root-ca",
    ]);
    expect(JSON.parse(fault.requests.find((r) => r.method === "POST")!.body)).toEqual({
      id: "spiffe-root-ca",
      keystore: Buffer.from(root).toString("base64"),
    });
    const stored = server.store.clientTrust.get("spiffe-root-ca")!;
    expect(stored.pem).toBe(root);
    expect(stored.keystore).toMatch(/^data:application\/pem;aes,/);
    expect(created.outs.pemSha256).toBe(sha256(root));
    expect(created.outs.storedSha256).toBe(sha256(stored.keystore));
    const read = await p.read(created.id, created.outs);
    expect(read).toEqual({ id: "spiffe-root-ca", props: created.outs });
    expect(await p.diff(created.id, created.outs, trust("spiffe-root-ca", root))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("a new root is an update (the action again); a new id replaces", async () => {
    const created = await p.create(trust("spiffe-root-ca", root));
    const next = (await makeCertificate({ subject: "CN=next root", ca: true })).pem;
    expect(await p.diff(created.id, created.outs, trust("spiffe-root-ca", next))).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(await p.diff(created.id, created.outs, trust("other-root", root))).toMatchObject({
      changes: true,
      replaces: ["key"],
    });
    const updated = await p.update(created.id, created.outs, trust("spiffe-root-ca", next));
    expect(server.store.clientTrust.get("spiffe-root-ca")!.pem).toBe(next);
    expect(updated.outs.pemSha256).toBe(sha256(next));
    expect(updated.outs.storedSha256).not.toBe(created.outs.storedSha256);
  });

  it("an entry replaced behind Pulumi's back reads as drift and is neither overwritten nor deleted; one that existed before is refused", async () => {
    const created = await p.create(trust("spiffe-root-ca", root));
    const other = (await makeCertificate({ subject: "CN=someone else", ca: true })).pem;
    // someone re-ran the action with another certificate: a new ciphertext
    server.handle({
      method: "POST",
      path: `/admin/api/restconf/data/${curityPaths.addClientTrustStore}`,
      headers: {
        authorization: `Basic ${BASIC}`,
        "content-type": "application/yang-data+json",
        accept: "application/yang-data+json",
      },
      body: JSON.stringify({
        id: "spiffe-root-ca",
        keystore: Buffer.from(other).toString("base64"),
      }),
    });
    const read = await p.read(created.id, created.outs);
    expect(read.props.pemSha256).toBe("replaced");
    expect(await p.diff(created.id, read.props, trust("spiffe-root-ca", root))).toMatchObject({
      changes: true,
      replaces: [],
    });
    const refused =
      "Curity client trust store entry spiffe-root-ca: was replaced since Pulumi stored it and Curity keeps it encrypted, so it cannot be proven this package's: not overwriting it; delete the entry in Curity (or choose another curity.idPrefix) and run again";
    await expect(p.update(created.id, read.props, trust("spiffe-root-ca", root))).rejects.toThrow(
      refused,
    );
    await p.delete(created.id, created.outs);
    expect(server.store.clientTrust.get("spiffe-root-ca")!.pem).toBe(other); // not ours: kept
    expect(server.log.filter((l) => l.startsWith("DELETE") || l.startsWith("POST"))).toEqual([
      "POST base:facilities/crypto/add-ssl-client-truststore", // ours
      "POST base:facilities/crypto/add-ssl-client-truststore", // someone else's
    ]);
    await expect(p.create(trust("spiffe-root-ca", root))).rejects.toThrow(
      "Curity client trust store entry spiffe-root-ca: exists and Curity keeps it encrypted, so it cannot be proven this package's",
    );

    server.store.clientTrust.delete("spiffe-root-ca");
    expect(await p.read(created.id, created.outs)).toEqual({});
    await expect(p.delete(created.id, created.outs)).resolves.toBeUndefined();
    // gone (e.g. the admin pod restarted): an update stores it again
    await p.update(created.id, created.outs, trust("spiffe-root-ca", root));
    expect(server.store.clientTrust.get("spiffe-root-ca")!.pem).toBe(root);
  });

  it("refuses a leaf, a bundle or an expired CA before any call", async () => {
    const ca = await makeCertificate({ subject: "CN=issuer", ca: true });
    const leaf = await makeCertificate({
      subject: "CN=workload",
      ca: false,
      issuer: { subject: "CN=issuer", privateKey: ca.keys.privateKey },
    });
    const expired = await makeCertificate({
      subject: "CN=old root",
      ca: true,
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
    });
    await expect(p.create(trust("spiffe-root-ca", leaf.pem))).rejects.toThrow(
      "Curity client trust store entry spiffe-root-ca: the certificate is a leaf certificate (CN=workload), not a CA: chains cannot be anchored to it",
    );
    await expect(p.create(trust("spiffe-root-ca", root + ca.pem))).rejects.toThrow(
      "the certificate holds 2 certificates: a trust store entry holds one (the root that anchors the chain)",
    );
    await expect(p.create(trust("spiffe-root-ca", expired.pem))).rejects.toThrow(
      "the certificate expired on Jan  1 00:00:00 2021 GMT",
    );
    expect(server.log).toEqual([]);
  });

  it("cannot be deleted while a client trusts it: Curity's leafref error surfaces", async () => {
    const t = await p.create(trust("spiffe-root-ca", root));
    await p.create(clientState("batch", "x509"));
    await expect(p.delete(t.id, t.outs)).rejects.toThrow(
      `Curity client trust store entry spiffe-root-ca: DELETE base:facilities/crypto/ssl/client-truststore/client-certificate=spiffe-root-ca: HTTP 400 invalid-value: illegal reference: client spiffe-batch trusts spiffe-root-ca`,
    );
    expect(server.store.clientTrust.has("spiffe-root-ca")).toBe(true);
  });
});

describe("server trust store and the JWKS HTTP client", () => {
  it("stores the discovery CA in the server trust store and an HTTP client that uses it", async () => {
    const ca = (await makeCertificate({ subject: "CN=private discovery CA", ca: true })).pem;
    const s = await p.create(trust("spiffe-discovery-ca", ca, "serverTrustStore"));
    expect(server.log[1]).toBe("POST base:facilities/crypto/add-ssl-server-truststore");
    expect(server.store.serverTrust.get("spiffe-discovery-ca")!.pem).toBe(ca);
    expect(server.store.clientTrust.size).toBe(0);
    expect((await p.read(s.id, s.outs)).props).toEqual(s.outs);

    const http: CurityState = {
      kind: "httpClient",
      connection: conn,
      key: "spiffe-jwks",
      body: { id: "spiffe-jwks", tls: { "use-truststore": true } },
    };
    server.log.length = 0;
    await p.create(http);
    expect(server.log).toEqual([
      "GET base:facilities/http/client=spiffe-jwks",
      "PUT base:facilities/http/client=spiffe-jwks",
    ]);
    expect(server.store.httpClients.get("spiffe-jwks")).toEqual(http.body);
    // someone turned the trust store off: drift, and the update turns it on again
    server.store.httpClients.set("spiffe-jwks", {
      id: "spiffe-jwks",
      tls: { "use-truststore": false },
    });
    const read = await p.read("spiffe-jwks", http);
    expect(read.props.body).toEqual({ id: "spiffe-jwks", tls: { "use-truststore": false } });
    expect((await p.diff("spiffe-jwks", read.props, http)).changes).toBe(true);
    await p.update("spiffe-jwks", read.props, http);
    expect(server.store.httpClients.get("spiffe-jwks")).toEqual(http.body);
  });
});

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

describe("faults (test/support/fault-server.ts in front of the RESTCONF double)", () => {
  const MISSING = CURITY_CONTRACT.errors.missing;
  /** The profile's scopes as the double answers them (a scripted fault answers in its place). */
  const scopesOk = () => ({
    kind: "reply" as const,
    reply: {
      status: 200,
      headers: { "content-type": "application/yang-data+json" },
      body: JSON.stringify({
        [CURITY_MEMBERS.scopes]: { scope: [{ id: "reports" }, { id: "orders:read" }] },
      }),
    },
  });
  const missing = {
    kind: "reply" as const,
    reply: {
      status: 404,
      headers: { "content-type": "application/yang-data+json" },
      body: JSON.stringify(MISSING.body),
    },
  };
  const x509 = (c: CurityConnection = conn) => ({ ...clientState("batch", "x509"), connection: c });
  const noSecret = (e: unknown) => {
    const text = `${(e as Error).message} ${(e as Error).stack ?? ""}`;
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(BASIC);
  };

  it("a body reset mid-way is retried (GET is idempotent)", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const created = await p.create(x509());
    fault.reset();
    fault.next({ kind: "reset-mid-body" });
    expect((await p.read(created.id, created.outs)).props).toEqual(created.outs);
    expect(fault.requests.map((r) => r.method)).toEqual(["GET", "GET"]);
  });

  it("a lost response after the create: the retries run out, and the next run adopts what was created", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const once = { ...conn, limits: { ...conn.limits, retries: 1 } };
    fault.reset();
    // GET: not there yet; PUT: the handler stores the client, the answer is lost, twice
    fault.next(missing, scopesOk(), { kind: "lose-response" }, { kind: "lose-response" });
    const err = await p.create(x509(once)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as Error).message).toBe(
      `Curity client spiffe-batch (profile ${PROFILE}): PUT ${fault.url}/admin/api/restconf/data/${CLIENT_PATH("spiffe-batch")}: no response: the connection closed (socket hang up) (2 attempts)`,
    );
    expect(storedClient("spiffe-batch")).toBeDefined();
    fault.reset();
    const again = await p.create(x509(once));
    expect(again.id).toBe("spiffe-batch");
    // the client and the profile's scopes are read; nothing is written: adopted as it is
    expect(fault.requests.map((r) => r.method)).toEqual(["GET", "GET"]);
    expect(server.store.profiles.get(PROFILE)!.clients.size).toBe(1);
  });

  it("429 with Retry-After is waited out, and a trust store action is retried too", async () => {
    fault.next(missing, { kind: "retry-after", retryAfter: "1" });
    const started = Date.now();
    await p.create(trust("spiffe-root-ca", root));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fault.requests.map((r) => r.method)).toEqual(["GET", "POST", "POST", "GET"]);
  });

  it("a 502 is retried; a 500 is not, and reads as an error, never as 'gone'", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const created = await p.create(x509());
    fault.reset();
    fault.next({ kind: "status", status: 502, body: "<html>bad gateway</html>" });
    expect((await p.read(created.id, created.outs)).id).toBe("spiffe-batch");
    fault.reset();
    fault.next({ kind: "status", status: 500 });
    await expect(p.read(created.id, created.outs)).rejects.toThrow(
      `Curity client spiffe-batch (profile ${PROFILE}): GET ${CLIENT_PATH("spiffe-batch")}: HTTP 500 (no RESTCONF error body)`,
    );
    expect(fault.requests).toHaveLength(1);
  });

  it("a slow drip hits the attempt timeout", async () => {
    const tight = { ...conn, limits: { attemptTimeoutMs: 600, retries: 0 } };
    fault.next({ kind: "drip", everyMs: 200, count: 20 });
    const err = await getEntry(tight, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect((err as HttpError).kind).toBe("timeout");
    expect((err as Error).message).toMatch(
      /^Curity client x: GET https:\/\/127\.0\.0\.1:\d+\/admin\/api\/restconf\/data\/.*: no complete answer within 600 ms \(attempt timeout\) while reading the body \(\d+ bytes\)$/,
    );
  });

  it("an oversized answer is refused at the size limit", async () => {
    const small = { ...conn, limits: { ...conn.limits, maxBytes: 4096 } };
    fault.next({ kind: "oversized", bytes: 200_000, declareLength: false });
    const err = await getEntry(small, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect((err as HttpError).kind).toBe("too-large");
    expect((err as Error).message).toContain("HTTP 200 body exceeds the limit of 4096 bytes");
  });

  it("a 2xx that is not JSON is an error, never 'gone'", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const created = await p.create(x509());
    fault.reset();
    fault.next({ kind: "not-json" });
    const err = await p.read(created.id, created.outs).catch((e: unknown) => e);
    expect((err as HttpError).kind).toBe("malformed");
    expect((err as Error).message).toBe(
      `Curity client spiffe-batch (profile ${PROFILE}): GET ${fault.url}/admin/api/restconf/data/${CLIENT_PATH("spiffe-batch")}: HTTP 200 body is not JSON (45 bytes, text/html)`,
    );
  });

  it("an answer that echoes the credentials never puts them in a message", async () => {
    await p.create(trust("spiffe-root-ca", root));
    fault.reset();
    fault.next(missing, scopesOk(), { kind: "echo", status: 400 });
    const put = await p.create(x509()).catch((e: unknown) => e);
    expect((put as Error).message).toBe(
      `Curity client spiffe-batch (profile ${PROFILE}): PUT ${CLIENT_PATH("spiffe-batch")}: HTTP 400 (no RESTCONF error body)`,
    );
    noSecret(put);
    fault.next({ kind: "echo", status: 200 });
    const get = await getEntry(conn, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect((get as Error).message).toBe(
      `Curity client x: GET ${CLIENT_PATH("x")}: HTTP 200 answer has no profile-oauth:client entry`,
    );
    noSecret(get);
    // a RESTCONF error message that quotes the password or the Basic credentials
    fault.next({
      kind: "reply",
      reply: {
        status: 400,
        body: JSON.stringify({
          "ietf-restconf:errors": {
            error: [
              {
                "error-type": "protocol",
                "error-tag": "malformed-message",
                "error-message": `bad header Basic ${BASIC} for ${PASSWORD}`,
              },
            ],
          },
        }),
      },
    });
    const quoted = await p.update("x", x509(), x509()).catch((e: unknown) => e);
    expect((quoted as Error).message).toContain(
      "HTTP 400 malformed-message: bad header Basic [redacted] for [redacted]",
    );
    noSecret(quoted);
  });

  it("wrong credentials: 401 with a hint, never the password", async () => {
    const wrong = { ...conn, password: "wrong-Password-9" };
    const err = await getEntry(wrong, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CurityApiError);
    expect((err as Error).message).toBe(
      `Curity client x: GET ${CLIENT_PATH("x")}: HTTP 401 access-denied; check curity.username and curity.password`,
    );
    expect((err as Error).message).not.toContain("wrong-Password-9");
  });

  it("trusts the admin service only through its CA bundle", async () => {
    const err = await getEntry(
      { ...conn, caPem: undefined },
      "client x",
      CLIENT_PATH("x"),
      "profile-oauth:client",
    ).catch((e: unknown) => e);
    expect((err as HttpError).kind).toBe("network");
    expect((err as Error).message).toMatch(/self-signed|unable to verify|certificate/i);
    await expect(
      getEntry(conn, "client x", CLIENT_PATH("x"), "profile-oauth:client"),
    ).resolves.toBeUndefined();
  });
});

describe("the provider as Pulumi ships it", () => {
  it("still works after Pulumi serializes it for the dynamic provider host", async () => {
    const {
      text,
      containsSecrets,
      provider: shipped,
    } = await shippedProvider("components/federation/curity/provider.js", "curityProvider");
    expect(containsSecrets).toBe(false);
    expect(text).not.toContain(PASSWORD);
    const t = await shipped.create(trust("spiffe-root-ca", root));
    const created = await shipped.create(clientState("ledger", "both"));
    expect(storedClient("spiffe-ledger")).toEqual(created.outs.body);
    expect((await shipped.read(created.id, created.outs)).props).toEqual(created.outs);
    await shipped.delete(created.id, created.outs);
    await shipped.delete(t.id, t.outs);
    expect(storedClient("spiffe-ledger")).toBeUndefined();
    expect(server.store.clientTrust.size).toBe(0);
  });
});

function PROFILE_AS(): string {
  return `base:profiles/profile=${PROFILE},oauth-service/settings/profile-oauth:authorization-server`;
}
