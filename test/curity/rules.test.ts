/**
 * Curity's pure rules (admin URL, token URL and endpoint, scopes, trust store PEMs), the
 * component's own refusals before anything registers, and the curl forms of each flow.
 */
import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { adminOriginProblem } from "../../components/federation/admin-connection";
import {
  CurityFederation,
  curityArgsProblems,
  curityCurl,
  type CurityFederationArgs,
} from "../../components/federation/curity/component";
import {
  CURITY_ADMIN_API,
  tokenUrlProblem,
  scopeProblem,
  tokenEndpointProblem,
  trustStorePemProblems,
} from "../../components/federation/curity/rules";
import { makeCertificate } from "../fixtures";
import { TOKEN } from "./stack-config";

let privateCa: string;
beforeAll(async () => {
  privateCa = (await makeCertificate({ subject: "CN=internal TLS CA", ca: true })).pem;
});

describe("Curity rules", () => {
  it.each([
    ["https://curity:6749", undefined],
    ["https://curity:6749/", undefined],
    [
      "https://u:p@curity:6749",
      "must not carry user info (user:password@): set curity.username and curity.password",
    ],
    ["curity:6749", "must be an https:// URL"],
    ["https://curity:6749?x", "must not have a query: use https://curity:6749"],
  ])("adminUrl %s", (url, expected) =>
    expect(adminOriginProblem(CURITY_ADMIN_API, url)).toBe(expected),
  );

  it.each([
    [TOKEN, undefined],
    ["http://curity-runtime.curity:8443/oauth/v2/oauth-token", undefined],
    ["ftp://x/oauth", "must be an http:// or https:// URL"],
    ["http://curity-runtime.curity:8443?a", "must have no credentials, query or fragment"],
    [
      "http://curity-runtime.curity:8443",
      "must be the token endpoint's URL, such as http://curity-runtime.curity:8443/oauth/v2/oauth-token, not a server's origin",
    ],
  ])("tokenUrl %s", (url, expected) => expect(tokenUrlProblem(url)).toBe(expected));

  it.each([
    [TOKEN, undefined],
    [`${TOKEN}?x=1`, "must have no credentials, query or fragment"],
    ["http://login/oauth", "must be an https:// URL"],
  ])("tokenEndpoint %s", (url, expected) => expect(tokenEndpointProblem(url)).toBe(expected));

  it.each([
    ["reports", undefined],
    ["urn:example:read", undefined],
    [
      'say"hi',
      "must be a scope token: printable ASCII without spaces, double quotes or backslashes",
    ],
    ["a\\b", "must be a scope token: printable ASCII without spaces, double quotes or backslashes"],
  ])("scope %s", (s, expected) => expect(scopeProblem(s)).toBe(expected));

  it("a trust store entry is one CA certificate, valid now", () => {
    expect(trustStorePemProblems(privateCa)).toEqual([]);
    expect(trustStorePemProblems("nope")).toEqual(["is not a PEM certificate"]);
    const later = new Date(new X509Certificate(privateCa).validTo).getTime() + 1000;
    expect(trustStorePemProblems(privateCa, new Date(later))).toEqual([
      `expired on ${new X509Certificate(privateCa).validTo}`,
    ]);
  });

  it("the component refuses shared client ids and SPIFFE IDs, and clients without scopes", () => {
    const args: CurityFederationArgs = {
      connection: { adminUrl: "https://c", username: "a", password: "p" },
      profile: "token-service",
      tokenEndpoint: TOKEN,
      mtlsTokenEndpoint: TOKEN,
      idPrefix: "spiffe-",
      issuerUrl: "https://oidc",
      jwksUri: "https://oidc/keys",
      jwtAlgorithm: "RS256",
      rootCaPem: "",
      clients: [
        { workload: "a", spiffeId: "spiffe://td/x", scopes: ["s"], auth: "jwt" },
        { workload: "a", spiffeId: "spiffe://td/x", scopes: [], auth: "jwt" },
      ],
    };
    expect(curityArgsProblems(args)).toEqual([
      "workloads a and a share client id spiffe-a",
      "workloads a and a share the SPIFFE ID spiffe://td/x",
      "client spiffe-a has no scope",
    ]);
    expect(() => new CurityFederation("c", args)).toThrow(
      "CurityFederation c: workloads a and a share client id spiffe-a; ",
    );
  });

  it("curl forms: the JWT-SVID to the token URL; the X509-SVID chain from cert_dir", () => {
    const base = { clientId: "spiffe-a", tokenUrl: TOKEN, scopes: ["a", "b"] };
    expect(
      curityCurl({
        ...base,
        mtlsTokenEndpoint: `${TOKEN}-mutual-tls`,
        auth: "both",
        certDir: "/run/spiffe/certs",
      }),
    ).toEqual({
      jwt: `curl -sS -X POST '${TOKEN}' -H 'Content-Type: application/x-www-form-urlencoded' -d grant_type=client_credentials -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer --data-urlencode "client_assertion=$(cat /run/spiffe/certs/curity-jwt-svid.token)" --data-urlencode 'scope=a b'`,
      x509: `curl -sS -X POST '${TOKEN}-mutual-tls' --cert /run/spiffe/certs/svid.pem --key /run/spiffe/certs/svid_key.pem -H 'Content-Type: application/x-www-form-urlencoded' -d grant_type=client_credentials --data-urlencode 'client_id=spiffe-a' --data-urlencode 'scope=a b'`,
    });
    const mesh = "http://curity-runtime.curity:8443/oauth/v2/oauth-token";
    expect(
      curityCurl({
        ...base,
        tokenUrl: mesh,
        mtlsTokenEndpoint: TOKEN,
        auth: "jwt",
        certDir: "/id",
      }),
    ).toEqual({
      jwt: `curl -sS -X POST '${mesh}' -H 'Content-Type: application/x-www-form-urlencoded' -d grant_type=client_credentials -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer --data-urlencode "client_assertion=$(cat /id/curity-jwt-svid.token)" --data-urlencode 'scope=a b'`,
    });
  });
});
