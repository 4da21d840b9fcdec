/**
 * The Curity provider's trust stores against a local RESTCONF API over HTTPS on 127.0.0.1
 * (test/curity/server.ts, held to test/contracts/curity): the stable root in the client trust
 * store through Curity's action, drift and replacement behind Pulumi's back, CAs refused before
 * any call, leafrefs; the discovery CA in the server trust store and the JWKS HTTP client.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { curityPaths, type CurityConnection } from "../../components/federation/curity/api";
import { curityProvider, type CurityState } from "../../components/federation/curity/provider";
import { useCurityServer } from "./harness";
import { BASIC, curityStates, sha256 } from "./provider-states";
import type { CurityTestServer } from "./server";
import { makeCertificate } from "../fixtures";
import type { FaultServer } from "../support/fault-server";

const p = curityProvider as Required<typeof curityProvider>;
const h = useCurityServer(["ES256", "RS256"]);
const { trust, clientState } = curityStates(h);
let server: CurityTestServer;
let fault: FaultServer;
let conn: CurityConnection;
let root: string;
beforeAll(() => ({ server, fault, conn, root } = h));

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
