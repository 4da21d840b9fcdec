/**
 * Curity in the stack: the config schema and cross-field rules (exact messages), the component
 * under mocks (resources, bodies, order, secrets, logins), the rules' pure checks, and the
 * `curity` example stack (three workloads: jwt, x509, both) planned with the policy pack.
 */
import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
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
import { policies } from "../../components/policies";
import type { ProgramRun } from "../../tools/harness";
import { runPolicies } from "../../tools/policy-runner";
import { planStack } from "../compiled";
import { baseConfig, makeCertificate } from "../fixtures";
import { all, find, runRaw, runStackFile } from "../helpers";

const CLIENT = "pulumi-nodejs:dynamic/curity:Client";
const MAPPING = "pulumi-nodejs:dynamic/curity:ClientIdMapping";
const ROOT_STORE = "pulumi-nodejs:dynamic/curity:ClientTrustStore";
const SERVER_STORE = "pulumi-nodejs:dynamic/curity:ServerTrustStore";
const HTTP = "pulumi-nodejs:dynamic/curity:HttpClient";
const TOKEN = "https://login.example.com/oauth/v2/oauth-token";
const MESH = "http://curity-idsvr-runtime-svc.curity.svc.cluster.local:8443/oauth/v2/oauth-token";

let privateCa: string;
beforeAll(async () => {
  privateCa = (await makeCertificate({ subject: "CN=internal TLS CA", ca: true })).pem;
});

function ccfg(): Record<string, any> {
  const c: Record<string, any> = baseConfig();
  c.curity = {
    adminUrl: "https://curity-admin.example.com:6749",
    username: "admin",
    password: "admin-pw-123",
    profile: "token-service",
    tokenEndpoint: TOKEN,
  };
  c.workloads[0].curity = { scopes: ["reports"] };
  return c;
}

function problems(c: Record<string, unknown>, secret = true): string[] {
  try {
    parseStackConfig(c, { secretKeys: new Set(secret ? ["curity"] : []) });
  } catch (e) {
    return (e as ConfigError).problems;
  }
  throw new Error("accepted");
}

describe("Curity config", () => {
  it("defaults: jwt, the token endpoint as audience and for both flows, prefix spiffe-", () => {
    const m = parseStackConfig(ccfg(), { secretKeys: new Set(["curity"]) });
    expect({ ...m.curity, password: undefined }).toEqual({
      adminUrl: "https://curity-admin.example.com:6749",
      username: "admin",
      password: undefined,
      profile: "token-service",
      tokenEndpoint: TOKEN,
      tokenUrl: TOKEN,
      mtlsTokenEndpoint: TOKEN,
      adminCaPem: undefined,
      discoveryCaPem: undefined,
      signatureAlgorithms: undefined,
      idPrefix: "spiffe-",
    });
    expect(m.workloads[0].curity).toEqual({ scopes: ["reports"], auth: "jwt" });
  });

  it.each([
    [
      "a plain-text password",
      (c: any) => c,
      false,
      [
        "spire-federation:curity.password: must be a secure value (pulumi config set --secret --path curity.password …)",
      ],
    ],
    [
      "the RESTCONF path in adminUrl",
      (c: any) => (c.curity.adminUrl = "https://curity:6749/admin/api/restconf/data"),
      true,
      [
        "spire-federation:curity.adminUrl: must not have a path (/admin/api/restconf/data); the package adds /admin/api/restconf/data itself: use https://curity:6749",
      ],
    ],
    [
      "an http admin URL",
      (c: any) => (c.curity.adminUrl = "http://curity:6749"),
      true,
      ["spire-federation:curity.adminUrl: must be an https:// URL"],
    ],
    [
      "a token endpoint with a trailing slash",
      (c: any) => (c.curity.tokenEndpoint = `${TOKEN}/`),
      true,
      [
        "spire-federation:curity.tokenEndpoint: must not end with a slash: it is the audience of JWT-SVIDs and Curity compares it exactly",
      ],
    ],
    [
      "the server's origin as token endpoint",
      (c: any) => (c.curity.mtlsTokenEndpoint = "https://login.example.com"),
      true,
      [
        "spire-federation:curity.mtlsTokenEndpoint: must be the token endpoint itself, such as https://login.example.com/oauth/v2/oauth-token, not the server's origin",
      ],
    ],
    [
      "a profile id with a slash and a bad prefix",
      (c: any) => {
        c.curity.profile = "token/service";
        c.curity.idPrefix = "-x";
      },
      true,
      [
        "spire-federation:curity.profile: must be 1–128 characters of letters, digits and . _ -, starting with a letter or digit",
        "spire-federation:curity.idPrefix: must be 1–32 characters of letters, digits and . _ -, starting with a letter or digit",
      ],
    ],
    [
      "mutual TLS through a proxy",
      (c: any) => (c.curity.mtls = "proxy"),
      true,
      [
        `spire-federation:curity.mtls: "proxy" is not supported; a proxy forwards the workload's leaf certificate only, so Curity would need SPIRE's current intermediate CA in its client trust store, which rotates every spire.caTTL (Curity's own setup re-pushes it from a sidecar on each rotation, which a deployment cannot do): use "direct" (the workload presents its whole X509-SVID chain to Curity), or workloads[].curity.auth jwt`,
      ],
    ],
    [
      "another mtls value, a token URL without a path, an admin CA that is not PEM",
      (c: any) => {
        c.curity.mtls = "tunnel";
        c.curity.tokenUrl = "http://curity-runtime:8443";
        c.curity.adminCaPem = "not a certificate";
      },
      true,
      [
        "spire-federation:curity.adminCaPem: must be a PEM bundle of X.509 certificates (-----BEGIN CERTIFICATE----- …), each parsable",
        "spire-federation:curity.tokenUrl: must be the token endpoint's URL, such as http://curity-runtime.curity:8443/oauth/v2/oauth-token, not a server's origin",
        'spire-federation:curity.mtls: must be "direct"',
      ],
    ],
    [
      "a leaf certificate as discovery CA",
      (c: any) => (c.curity.discoveryCaPem = "LEAF"),
      true,
      [
        "spire-federation:curity.discoveryCaPem: is a leaf certificate (CN=oidc.example.com), not a CA: chains cannot be anchored to it",
      ],
    ],
    [
      "an HMAC algorithm",
      (c: any) => (c.curity.signatureAlgorithms = ["HS256"]),
      true,
      [
        "spire-federation:curity.signatureAlgorithms[0]: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA",
      ],
    ],
    [
      "a profile that allows only ES256 while SPIRE signs RS256",
      (c: any) => (c.curity.signatureAlgorithms = ["ES256"]),
      true,
      [
        "spire-federation:spire.caKeyType: must be ec-p256 while workloads send Curity JWT-SVIDs: the token profile allows ES256 for client assertions (curity.signatureAlgorithms), and SPIRE signs JWT-SVIDs with its CA key (rsa-2048)",
      ],
    ],
    [
      "scopes: a space, a bad auth, a repeat",
      (c: any) => {
        c.workloads[0].curity = { scopes: ["a b"], auth: "secret" };
        c.workloads[1].curity = { scopes: ["x", "y", "x"] };
      },
      true,
      [
        "spire-federation:workloads[0].curity.scopes[0]: must be a scope token: printable ASCII without spaces, double quotes or backslashes",
        'spire-federation:workloads[0].curity.auth: must be "jwt", "x509" or "both"',
        'spire-federation:workloads[1].curity.scopes[2]: repeats "x"',
      ],
    ],
    [
      "no scope",
      (c: any) => (c.workloads[0].curity = { scopes: [] }),
      true,
      ["spire-federation:workloads[0].curity.scopes: must name at least one scope"],
    ],
    [
      "a JWT grant on SPIRE's own TLS",
      (c: any) => (c.oidc.tls = { spire: true }),
      true,
      [
        "spire-federation:oidc.tls: Curity fetches SPIRE's JWKS itself for JWT grants (workloads[0]) and cannot trust SPIRE's own in-cluster certificate: use acme or secretName (with curity.discoveryCaPem for a private CA), or give these workloads curity.auth x509",
      ],
    ],
    [
      "a JWT grant with Let's Encrypt staging certificates",
      (c: any) =>
        (c.oidc.tls.acme.server = "https://acme-staging-v02.api.letsencrypt.org/directory"),
      true,
      [
        "spire-federation:oidc.tls.acme.server: is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; Curity fetches SPIRE's JWKS itself for JWT grants (workloads[0]): set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or curity.discoveryCaPem to the staging root (a CA whose subject says STAGING or TEST)",
      ],
    ],
    [
      "grants without the block, and a typo",
      (c: any) => {
        delete c.curity;
        c.workloads[1].curity = { scope: ["x"] };
      },
      true,
      [
        "spire-federation:workloads[0].curity: needs the spire-federation:curity block",
        "spire-federation:workloads[1].curity.scopes: required",
        "spire-federation:workloads[1].curity.scope: unknown key",
        // The grant's shape does not hide the missing block (every rule reports at once).
        "spire-federation:workloads[1].curity: needs the spire-federation:curity block",
      ],
    ],
  ])("%s", async (_n, mutate, secret, expected) => {
    const c = ccfg();
    mutate(c);
    if (c.curity?.discoveryCaPem === "LEAF") {
      const ca = await makeCertificate({ subject: "CN=issuer", ca: true });
      c.curity.discoveryCaPem = (
        await makeCertificate({
          subject: "CN=oidc.example.com",
          ca: false,
          issuer: { subject: "CN=issuer", privateKey: ca.keys.privateKey },
        })
      ).pem;
    }
    expect(problems(c, secret)).toEqual(expected);
  });

  it("tokenUrl: the URL workloads call, apart from the audience; mtls direct is accepted", () => {
    const c = ccfg();
    c.curity.tokenUrl = MESH;
    c.curity.mtls = "direct";
    const m = parseStackConfig(c, { secretKeys: new Set(["curity"]) });
    expect(m.curity).toMatchObject({
      tokenEndpoint: TOKEN,
      tokenUrl: MESH,
      mtlsTokenEndpoint: TOKEN,
    });
  });

  it("x509-only grants need no public discovery endpoint; the staging root as discovery CA lifts the staging rule", async () => {
    const c = ccfg();
    c.oidc.tls = { spire: true };
    c.workloads[0].curity.auth = "x509";
    expect(() => parseStackConfig(c, { secretKeys: new Set(["curity"]) })).not.toThrow();
    const s = ccfg();
    s.oidc.tls.acme.server = "https://acme-staging-v02.api.letsencrypt.org/directory";
    s.curity.discoveryCaPem = privateCa; // a private CA does not make staging certificates trusted
    expect(problems(s)).toHaveLength(1);
    s.curity.discoveryCaPem = (
      await makeCertificate({ subject: "CN=(STAGING) Pretend Pear X1", ca: true })
    ).pem;
    expect(() => parseStackConfig(s, { secretKeys: new Set(["curity"]) })).not.toThrow();
  });
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

describe("the curity stack (jwt, x509, both) under mocks", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStackFile("curity");
  });

  it("pushes the stable root (the pinned ClusterIssuer root) into the client trust store, and the discovery CA into the server trust store", () => {
    const rootStore = find(run, ROOT_STORE);
    expect(rootStore.name).toBe("spire-federation-curity-root-ca");
    expect(rootStore.rawInputs).toMatchObject({ kind: "clientTrustStore", key: "spiffe-root-ca" });
    const pem = (rootStore.rawInputs as any).pem as string;
    expect(new X509Certificate(pem).subject).toContain(
      "Example Corp SPIFFE Root CA (Curity stack)",
    );
    expect(run.outputs.rootCaPem).toBe(pem);
    const server = find(run, SERVER_STORE);
    expect(new X509Certificate((server.rawInputs as any).pem).subject).toContain(
      "Example Corp Internal TLS CA",
    );
    const http = find(run, HTTP);
    expect((http.rawInputs as any).body).toEqual({
      id: "spiffe-jwks",
      tls: { "use-truststore": true },
    });
    expect(http.dependencies).toEqual([server.urn]);
  });

  it("one client per workload with the verifier its auth asks for", () => {
    const byName = (w: string) => find(run, CLIENT, `-client-${w}`);
    const jwks = {
      uri: "https://oidc.apps.spiffe.example.com/keys",
      "http-client": "spiffe-jwks",
    };
    const issuer = { issuer: "https://oidc.apps.spiffe.example.com" };
    expect((byName("reports-api").rawInputs as any).body).toEqual({
      id: "spiffe-reports-api",
      "client-name": "reports-api",
      description: "spire-federation: spiffe://apps.spiffe.example.com/ns/reports/sa/reports-api",
      scope: ["reports"],
      capabilities: { "client-credentials": [null] },
      "jwks-uri": jwks,
      "assertion-jwt-validation": issuer,
    });
    expect((byName("batch-export").rawInputs as any).body).toMatchObject({
      scope: ["exports:write", "reports"],
      "mutual-tls": {
        "client-uri": "spiffe://apps.spiffe.example.com/ns/batch/sa/batch-export",
        "trusted-ca": ["spiffe-root-ca"],
      },
    });
    expect((byName("batch-export").rawInputs as any).body["jwks-uri"]).toBeUndefined();
    expect((byName("ledger").rawInputs as any).body).toMatchObject({
      "mutual-tls": { "trusted-ca": ["spiffe-root-ca"] },
      "secondary-authentication-method": { "jwks-uri": jwks, "assertion-jwt-validation": issuer },
    });
    expect((byName("ledger").rawInputs as any).assertion).toEqual({
      audience: "https://login.apps.example.com/oauth/v2/oauth-token",
      tokenUrl: MESH,
      issuer: "https://oidc.apps.spiffe.example.com",
      algorithm: "ES256",
      allowedAlgorithms: ["ES256"],
    });
    expect((byName("batch-export").rawInputs as any).assertion).toBeUndefined();
    // data edges: the client waits on what it names
    expect(byName("batch-export").dependencies).toEqual([find(run, ROOT_STORE).urn]);
    expect([...byName("ledger").dependencies].sort()).toEqual(
      [find(run, ROOT_STORE).urn, find(run, HTTP).urn].sort(),
    );
  });

  it("maps each JWT workload's SPIFFE ID to its client, after the client", () => {
    const maps = all(run, MAPPING);
    expect(maps.map((m) => (m.rawInputs as any).body)).toEqual([
      {
        sub: "spiffe://apps.spiffe.example.com/ns/reports/sa/reports-api",
        "client-id": "spiffe-reports-api",
      },
      {
        sub: "spiffe://apps.spiffe.example.com/ns/finance/sa/ledger",
        "client-id": "spiffe-ledger",
      },
    ]);
    expect(maps[0].dependencies).toEqual([find(run, CLIENT, "-client-reports-api").urn]);
  });

  it("keeps the admin password secret and waits on nothing in the cluster", () => {
    for (const r of run.resources.filter((x) =>
      x.type.startsWith("pulumi-nodejs:dynamic/curity"),
    )) {
      expect(r.inputs.connection).toBe("[secret]");
      expect(r.inputs.__provider).toBe("[dynamic provider]");
      expect(r.dependencies.some((d) => d.includes("kubernetes:"))).toBe(false);
    }
    expect(JSON.stringify(run.resources.map((r) => r.inputs))).not.toContain(
      "offline-plan-placeholder-secret",
    );
  });

  it("outputs per workload: client id, token endpoint, audience, curl of each flow", () => {
    const fed = run.outputs.federation as any;
    expect(fed["reports-api"].curity).toEqual({
      clientId: "spiffe-reports-api",
      tokenUrl: MESH,
      audience: "https://login.apps.example.com/oauth/v2/oauth-token",
      jwtSvidFile: "/run/spiffe/certs/curity-jwt-svid.token",
      scopes: ["reports"],
      curl: {
        jwt: expect.stringMatching(
          new RegExp(
            `^curl -sS -X POST '${MESH}' .*client_assertion=\\$\\(cat /run/spiffe/certs/curity-jwt-svid\\.token\\)`,
          ),
        ),
      },
    });
    expect(fed["batch-export"].curity).toMatchObject({
      clientId: "spiffe-batch-export",
      mtlsTokenEndpoint: "https://login.apps.example.com/oauth/v2/oauth-token-mutual-tls",
      curl: { x509: expect.stringContaining("--cert /run/spiffe/certs/svid.pem") },
    });
    expect(fed["batch-export"].curity.audience).toBeUndefined();
    expect(Object.keys(fed.ledger.curity.curl).sort()).toEqual(["jwt", "x509"]);
  });

  it("plans with the policy pack and no violation", async () => {
    const plan = await planStack("curity");
    expect(await runPolicies(policies, plan.resources)).toEqual([]);
    expect(
      plan.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/curity")),
    ).toHaveLength(8);
  });
});

describe("Curity without X.509 or a discovery CA", () => {
  it("a JWT-only stack on a public endpoint: no trust store, no HTTP client; generated root", async () => {
    const c = ccfg();
    c.workloads[1].curity = { scopes: ["b"], auth: "jwt" };
    const run = await runRaw(c, { secretKeys: ["curity"] });
    expect(all(run, ROOT_STORE)).toEqual([]);
    expect(all(run, SERVER_STORE)).toEqual([]);
    expect(all(run, HTTP)).toEqual([]);
    expect(all(run, CLIENT)).toHaveLength(2);
    expect((find(run, CLIENT, "-client-api").rawInputs as any).body["jwks-uri"]).toEqual({
      uri: "https://oidc.test.example.com/keys",
    });
    expect((find(run, CLIENT, "-client-api").rawInputs as any).assertion.algorithm).toBe("RS256");
  });
});
