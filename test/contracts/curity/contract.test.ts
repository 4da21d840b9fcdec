/**
 * The package's RESTCONF paths and bodies against the carried contract: Curity's own SPIFFE
 * configuration (workload-identities, Apache-2.0) gives the tree and the element names, which
 * RFC 7951 makes the JSON member names; restconf.json gives the paths, members and fields the
 * test server enforces.
 */
import { describe, expect, it } from "vitest";
import { CURITY_MEMBERS, curityPaths } from "../../../components/federation/curity/api";
import { curityClientBody } from "../../../components/federation/curity/component";
import { CurityTestServer } from "../../curity/server";
import {
  carriedXml,
  CURITY_CONTRACT,
  entryProblems,
  findXml,
  xmlToJson,
  type EntityName,
  type XmlNode,
} from "./contract";

const JWT_XML = "3-spiffe-and-spire/idsvr/client-settings.xml";
const JWT_TRUST_XML = "3-spiffe-and-spire/idsvr/trust.xml";
const X509_XML = "4-spiffe-and-spire-x509-svids/idsvr/client-settings.xml";
const X509_TRUST_XML = "4-spiffe-and-spire-x509-svids/idsvr/trust.xml";

/** Element names from the root to the first element called `name`. */
function xmlPath(node: XmlNode, name: string, trail: string[] = []): string[] | undefined {
  for (const c of node.children) {
    if (c.name === name) return [...trail, c.name];
    const hit = xmlPath(c, name, [...trail, c.name]);
    if (hit) return hit;
  }
  return undefined;
}

/** Node names of a RESTCONF data path (prefixes and keys dropped). */
const names = (p: string) => p.split("/").map((s) => s.replace(/=.*$/, "").replace(/^[\w-]+:/, ""));

const body = (auth: "jwt" | "x509" | "both") =>
  curityClientBody({
    clientId: "spiffe-a",
    workload: "a",
    spiffeId: "spiffe://td/ns/n/sa/a",
    scopes: ["reports"],
    auth,
    jwksUri: "https://oidc.td/keys",
    issuer: "https://oidc.td",
    httpClient: "spiffe-jwks",
    trustedCa: "spiffe-root-ca",
  });

describe("Curity's own SPIFFE configuration read as YANG JSON", () => {
  it("its JWT and X.509 clients fit the contract's client fields", () => {
    for (const file of [JWT_XML, X509_XML]) {
      const client = xmlToJson(
        findXml(carriedXml(file), "client")!,
        CURITY_CONTRACT.entities.client.fields,
      );
      expect(entryProblems("client", client)).toEqual([]);
    }
  });

  it("our JWT client has Curity's JWT verifier: jwks-uri {uri, http-client} and assertion-jwt-validation {issuer}", () => {
    const theirs = xmlToJson(
      findXml(carriedXml(JWT_XML), "client")!,
      CURITY_CONTRACT.entities.client.fields,
    );
    const ours = body("jwt");
    expect(entryProblems("client", ours)).toEqual([]);
    for (const k of ["jwks-uri", "assertion-jwt-validation", "capabilities"]) {
      expect(Object.keys(ours[k] as object).sort()).toEqual(
        Object.keys(theirs[k] as object).sort(),
      );
    }
    expect(ours.capabilities).toEqual(theirs.capabilities); // {"client-credentials": [null]}
    expect(Array.isArray(theirs.scope) && Array.isArray(ours.scope)).toBe(true);
  });

  it("our X.509 client has Curity's verifier: client-uri (the SPIFFE ID) and trusted-ca (a list)", () => {
    const theirs = xmlToJson(
      findXml(carriedXml(X509_XML), "client")!,
      CURITY_CONTRACT.entities.client.fields,
    );
    const ours = body("x509");
    expect(Object.keys(ours["mutual-tls"] as object).sort()).toEqual(
      Object.keys(theirs["mutual-tls-by-proxy"] as object).sort(),
    );
    expect((theirs["mutual-tls-by-proxy"] as any)["trusted-ca"]).toEqual([
      "workload_root_ca",
      "workload_intermediate_ca",
    ]);
    expect(entryProblems("client", body("x509"))).toEqual([]);
    expect(entryProblems("client", body("both"))).toEqual([]);
  });

  it("the client-id mapping, HTTP client and trust store entries have Curity's element names", () => {
    const jwt = carriedXml(JWT_XML);
    const mapping = xmlToJson(
      findXml(jwt, "client-id-mapping")!,
      CURITY_CONTRACT.entities.clientIdMappings.items!["client-id-mapping"].fields,
    );
    expect(mapping).toEqual({
      sub: "spiffe://curitydemo/ns/applications/sa/workload-client",
      "client-id": "jwt_assertion_client",
    });
    expect(entryProblems("clientIdMappings", { "client-id-mapping": [mapping] })).toEqual([]);
    const http = xmlToJson(
      findXml(carriedXml(JWT_TRUST_XML), "client")!,
      CURITY_CONTRACT.entities.httpClient.fields,
    );
    expect(http).toEqual({ id: "workload_trust_client", tls: { "use-truststore": true } });
    expect(entryProblems("httpClient", http)).toEqual([]);
    const algorithms = xmlToJson(
      findXml(jwt, "asymmetrically-signed-jwt")!,
      CURITY_CONTRACT.entities.signatureAlgorithms.fields,
    );
    expect(algorithms).toEqual({ "signature-algorithm": ["ES256"] });
    const store = xmlToJson(
      findXml(carriedXml(X509_TRUST_XML), "client-certificate")!,
      CURITY_CONTRACT.entities.clientTrustStore.fields,
    );
    expect(Object.keys(store)).toContain("keystore");
  });
});

describe("the provider's data paths follow Curity's configuration tree", () => {
  const tree: [string, string, string, string][] = [
    [
      JWT_XML,
      "client",
      curityPaths.client("p", "c"),
      "profiles/profile/settings/authorization-server/client-store/config-backed/client",
    ],
    [
      JWT_XML,
      "client-id-mappings",
      curityPaths.clientIdMappings("p"),
      "profiles/profile/settings/authorization-server/client-authentication/using-jwt/client-id-mappings",
    ],
    [
      JWT_XML,
      "asymmetrically-signed-jwt",
      curityPaths.signatureAlgorithms("p"),
      "profiles/profile/settings/authorization-server/client-authentication/asymmetrically-signed-jwt",
    ],
    [
      X509_TRUST_XML,
      "client-certificate",
      curityPaths.clientTrustStore("r"),
      "facilities/crypto/ssl/client-truststore/client-certificate",
    ],
    [
      JWT_TRUST_XML,
      "server-certificate",
      curityPaths.serverTrustStore("d"),
      "facilities/crypto/ssl/server-truststore/server-certificate",
    ],
    [JWT_TRUST_XML, "client", curityPaths.httpClient("h"), "facilities/http/client"],
  ];
  it.each(tree)("%s %s", (file, element, ours, expected) => {
    expect(xmlPath(carriedXml(file), element)!.slice(1).join("/")).toBe(expected);
    expect(names(ours).join("/")).toBe(expected);
  });

  it("each path and JSON member is the contract's", () => {
    const spec = CURITY_CONTRACT.entities;
    const fill = (t: string) => t.replace("{profile}", "p").replace(/\{\w+\}/, "k");
    expect(curityPaths.client("p", "k")).toBe(fill(spec.client.path));
    expect(curityPaths.clientIdMappings("p")).toBe(fill(spec.clientIdMappings.path));
    expect(curityPaths.scopes("p")).toBe(fill(spec.scopes.path));
    expect(curityPaths.signatureAlgorithms("p")).toBe(fill(spec.signatureAlgorithms.path));
    expect(curityPaths.clientTrustStore("k")).toBe(fill(spec.clientTrustStore.path));
    expect(curityPaths.serverTrustStore("k")).toBe(fill(spec.serverTrustStore.path));
    expect(curityPaths.httpClient("k")).toBe(fill(spec.httpClient.path));
    expect(curityPaths.addClientTrustStore).toBe(spec.clientTrustStore.action);
    expect(curityPaths.addServerTrustStore).toBe(spec.serverTrustStore.action);
    for (const [k, member] of Object.entries(CURITY_MEMBERS)) {
      expect(spec[k as EntityName].member).toBe(member);
    }
  });

  it("no path holds a SPIFFE ID (Jetty 12 refuses %2F); keys are percent-encoded", () => {
    expect(curityPaths.clientIdMappings("token-service")).not.toContain("%");
    expect(curityPaths.client("a,b", "c")).toContain("profile=a%2Cb,oauth-service/");
  });
});

describe("the test server answers as the contract says", () => {
  const server = new CurityTestServer({ username: "u", password: "p" });
  server.addProfile("token-service", ["ES256"]);
  const auth = {
    authorization: `Basic ${Buffer.from("u:p").toString("base64")}`,
    accept: CURITY_CONTRACT.mediaType,
  };
  const req = (method: string, path: string, b?: unknown) =>
    server.handle({
      method,
      path: `${CURITY_CONTRACT.base}/${path}`,
      headers: b === undefined ? auth : { ...auth, "content-type": CURITY_CONTRACT.mediaType },
      body: b === undefined ? "" : JSON.stringify(b),
    });

  it("missing nodes, bad prefixes, foreign media types and unknown fields", () => {
    const missing = req("GET", curityPaths.client("token-service", "nope"));
    expect(missing.status).toBe(CURITY_CONTRACT.errors.missing.status);
    expect(JSON.parse(missing.body!)).toEqual(CURITY_CONTRACT.errors.missing.body);
    expect(req("GET", "profiles/profile=token-service,oauth-service").status).toBe(400);
    expect(
      req(
        "GET",
        "base:profiles/profile=token-service,oauth-service/settings/authorization-server/client-store",
      ).status,
    ).toBe(400); // authorization-server changes module: it must be qualified
    const put = req("PUT", curityPaths.client("token-service", "c"), {
      [CURITY_MEMBERS.client]: [{ id: "c", "client-secret": "x" }],
    });
    expect(put.status).toBe(400);
    expect(JSON.parse(put.body!)["ietf-restconf:errors"].error[0]["error-message"]).toBe(
      "unknown element: client-secret",
    );
    const wrongType = server.handle({
      method: "PUT",
      path: `${CURITY_CONTRACT.base}/${curityPaths.httpClient("h")}`,
      headers: { ...auth, "content-type": "application/json" },
      body: "{}",
    });
    expect(wrongType.status).toBe(415);
    expect(
      req("PUT", curityPaths.httpClient("h"), { [CURITY_MEMBERS.httpClient]: [{ id: "other" }] })
        .status,
    ).toBe(400);
    expect(
      req("PUT", curityPaths.httpClient("h"), { [CURITY_MEMBERS.httpClient]: [{ id: "h" }] })
        .status,
    ).toBe(201);
    expect(
      req("PUT", curityPaths.httpClient("h"), { [CURITY_MEMBERS.httpClient]: [{ id: "h" }] })
        .status,
    ).toBe(204);
    expect(req("DELETE", curityPaths.httpClient("h")).status).toBe(204);
    expect(req("DELETE", curityPaths.httpClient("h")).status).toBe(404);
  });
});
