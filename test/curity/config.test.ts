/**
 * Curity's config schema and cross-field rules, with exact messages: the defaults, each bad
 * block, the token URL apart from the audience, and x509-only grants.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { makeCertificate } from "../fixtures";
import { ccfg, MESH, problems, TOKEN } from "./stack-config";

let privateCa: string;
beforeAll(async () => {
  privateCa = (await makeCertificate({ subject: "CN=internal TLS CA", ca: true })).pem;
});

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
