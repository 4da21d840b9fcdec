/** OpenZiti in the stack under mocks: resources, ordering, outputs, secrets, config errors. */
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import {
  OpenZitiFederation,
  SPIFFE_EXTERNAL_ID_CLAIM,
  openZitiArgsProblems,
  zitiIdentityFile,
} from "../../components/federation/openziti/component";
import type { ProgramRun } from "../../tools/harness";
import { baseConfig, makeCertificate, pkcs8Pem } from "../fixtures";
import {
  all,
  computedOutputs,
  find,
  runRaw,
  runStackFile,
  transitiveDependencies,
} from "../helpers";

const CA = "pulumi-nodejs:dynamic/openziti:Ca";
const VERIFY = "pulumi-nodejs:dynamic/openziti:CaVerification";
const IDENTITY = "pulumi-nodejs:dynamic/openziti:Identity";

describe("prod: both paths, existing ClusterIssuer (operator verifies)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStackFile("prod", (args) =>
      args.type === CA ? { verificationToken: "tok-prod", isVerified: false } : {},
    );
  });

  it("registers the SPIRE root as an auth-enabled CA with the SPIFFE SAN_URI claim", () => {
    const ca = find(run, CA);
    expect((ca.rawInputs as any).kind).toBe("ca");
    expect((ca.rawInputs as any).body).toEqual({
      name: "spire",
      certPem: expect.stringContaining("BEGIN CERTIFICATE"),
      isAuthEnabled: true,
      isAutoCaEnrollmentEnabled: false,
      isOttCaEnrollmentEnabled: false,
      identityRoles: [],
      externalIdClaim: SPIFFE_EXTERNAL_ID_CLAIM,
    });
    expect(all(run, VERIFY)).toEqual([]); // no operator PEM yet: README's two-step verification
    expect(run.outputs.openzitiCaVerificationToken).toBe("tok-prod");
  });

  it("adds the external JWT signer and an auth policy allowing it and certificates", () => {
    const signer = find(run, "pulumi-nodejs:dynamic/openziti:ExternalJwtSigner");
    expect((signer.rawInputs as any).body).toEqual({
      name: "spire-jwt",
      enabled: true,
      issuer: "https://oidc.prod.spiffe.example.com",
      audience: "openziti",
      jwksEndpoint: "https://oidc.prod.spiffe.example.com/keys",
      claimsProperty: "sub",
      useExternalId: true,
    });
    const policy = find(run, "pulumi-nodejs:dynamic/openziti:AuthPolicy");
    expect((policy.rawInputs as any).body.primary).toMatchObject({
      cert: { allowed: true, allowExpiredCerts: false },
      extJwt: { allowed: true, allowedSigners: [`${signer.name}-id`] },
      updb: { allowed: false },
    });
  });

  it("creates one identity per workload with OpenZiti grants, after the CA, with the auth policy", () => {
    const ids = all(run, IDENTITY);
    expect(ids.map((i) => (i.rawInputs as any).body)).toEqual([
      {
        name: "payments-api",
        type: "Default",
        isAdmin: false,
        externalId: "spiffe://prod.spiffe.example.com/ns/payments/sa/payments-api",
        roleAttributes: ["payments-clients"],
        authPolicyId: "spire-federation-openziti-auth-policy-id",
      },
      {
        name: "orders-worker",
        type: "Default",
        isAdmin: false,
        externalId: "spiffe://prod.spiffe.example.com/ns/orders/sa/orders-worker",
        roleAttributes: ["orders-hosts", "orders-clients"],
        authPolicyId: "spire-federation-openziti-auth-policy-id",
      },
    ]);
    for (const i of ids) expect(i.dependencies).toContain(find(run, CA).urn);
  });

  it("keeps the controller password secret in the plan", () => {
    for (const r of run.resources.filter((x) =>
      x.type.startsWith("pulumi-nodejs:dynamic/openziti"),
    )) {
      expect(r.inputs.connection).toBe("[secret]");
      expect(r.inputs.__provider).toBe("[dynamic provider]");
    }
    expect(JSON.stringify(run.resources.map((r) => r.inputs))).not.toContain(
      "offline-plan-placeholder-secret",
    );
  });

  it("outputs the identity file per workload", () => {
    expect((run.outputs.federation as any)["payments-api"].openziti).toEqual({
      ztAPI: "https://ziti.prod.example.com:1280/edge/client/v1",
      // No controllerCaPem: the SDK verifies the controller with the system's roots.
      id: {
        cert: "file:///run/spiffe/certs/svid.pem",
        key: "file:///run/spiffe/certs/svid_key.pem",
      },
    });
    expect((run.outputs.federation as any).ledger.openziti).toBeUndefined();
  });
});

describe("generated root: the package verifies the CA itself", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    const root = await makeCertificate({ subject: "CN=test root", ca: true });
    const raw: Record<string, any> = baseConfig();
    raw.openziti = {
      controllerUrl: "https://ziti.example.com",
      username: "admin",
      password: "pw-123456",
    };
    raw.workloads[0].openziti = { roleAttributes: ["api"], admin: true };
    const computed = computedOutputs(root.pem, await pkcs8Pem(root.keys.privateKey));
    run = await runRaw(raw, {
      secretKeys: ["openziti"],
      computed: (args) =>
        args.type === CA
          ? { verificationToken: "tok-123", isVerified: false }
          : args.type === "tls:index/locallySignedCert:LocallySignedCert"
            ? { certPem: "VERIFY-PEM" }
            : computed(args),
    });
  });

  it("orders CA → verification certificate (CN = token, signed by the root key) → verification → identities", () => {
    const csr = find(run, "tls:index/certRequest:CertRequest");
    expect((csr.rawInputs as any).subject).toEqual({ commonName: "tok-123" });
    expect(csr.dependencies).toContain(find(run, CA).urn);
    const cert = find(run, "tls:index/locallySignedCert:LocallySignedCert");
    expect(cert.rawInputs).toMatchObject({
      caCertPem: expect.stringContaining("BEGIN CERTIFICATE"),
      caPrivateKeyPem: expect.stringContaining("PRIVATE KEY"),
    });
    expect(cert.dependencies).toContain(
      find(run, "tls:index/privateKey:PrivateKey", "root-key").urn,
    );
    const verification = find(run, VERIFY);
    expect((verification.rawInputs as any).body).toEqual({
      caId: "spire-federation-openziti-ca-id",
      certPem: "VERIFY-PEM",
    });
    const identity = find(run, IDENTITY);
    expect(identity.dependencies).toEqual([verification.urn]);
    expect(transitiveDependencies(run, identity.urn).has(find(run, CA).urn)).toBe(true);
    expect((identity.rawInputs as any).body).toMatchObject({
      isAdmin: true,
      roleAttributes: ["api"],
    });
    expect((identity.rawInputs as any).body.authPolicyId).toBeUndefined(); // JWT path off by default
    expect(all(run, "pulumi-nodejs:dynamic/openziti:ExternalJwtSigner")).toEqual([]);
    expect(find(run, "tls:index/locallySignedCert:LocallySignedCert").inputs.caPrivateKeyPem).toBe(
      "[secret]",
    );
  });
});

describe("component args", () => {
  const base = {
    connection: { controllerUrl: "https://z", username: "a", password: "p" },
    caName: "spire",
    x509: true,
    jwt: false,
    audience: "openziti",
    issuerUrl: "https://i",
    jwksUri: "https://i/keys",
    rootCaPem: "",
    verification: { mode: "none" as const },
    identities: [],
  };

  it("the component refuses duplicate external IDs and names", () => {
    expect(
      openZitiArgsProblems({
        ...base,
        identities: [
          { name: "a", spiffeId: "spiffe://td/x", roleAttributes: [], admin: false },
          { name: "a", spiffeId: "spiffe://td/x", roleAttributes: [], admin: false },
        ],
      }),
    ).toEqual([
      "identity name a is used twice",
      "identities a and a share the external ID spiffe://td/x",
    ]);
    expect(openZitiArgsProblems({ ...base, x509: false })).toEqual([
      "enable the x509 path, the jwt path or both",
    ]);
  });

  describe("the controller URL's user info never reaches plain outputs", () => {
    const withUserInfo = "https://admin:pw-in-url-123@ziti.example.com:1280";

    it("the component refuses it before registering anything, without showing it", () => {
      const args = { ...base, connection: { ...base.connection, controllerUrl: withUserInfo } };
      const problem =
        "controllerUrl must not carry user info (user:password@): it would show in plain outputs; give them as username and password";
      expect(openZitiArgsProblems(args)).toEqual([problem]);
      // thrown before super(): nothing is registered
      expect(() => new OpenZitiFederation("z", args)).toThrow(`OpenZitiFederation z: ${problem}`);
    });

    it("an identity file shows the controller without it", () => {
      expect(zitiIdentityFile(withUserInfo).ztAPI).toBe(
        "https://ziti.example.com:1280/edge/client/v1",
      );
      expect(zitiIdentityFile("https://ziti.example.com:1280").ztAPI).toBe(
        "https://ziti.example.com:1280/edge/client/v1",
      );
    });
  });
});

describe("OpenZiti config errors", () => {
  const zcfg = () => {
    const c: Record<string, any> = baseConfig();
    c.openziti = { controllerUrl: "https://ziti.example.com", username: "admin", password: "pw" };
    c.workloads[0].openziti = { roleAttributes: ["a"] };
    return c;
  };
  /** `secret`: whether the block is secret; as a list, also the paths of its secure values. */
  const problems = (c: Record<string, unknown>, secret: boolean | string[] = true) => {
    try {
      parseStackConfig(c, {
        secretKeys: new Set(secret === false ? [] : ["openziti"]),
        secretPaths: Array.isArray(secret) ? new Set(secret) : undefined,
      });
    } catch (e) {
      return (e as ConfigError).problems;
    }
    throw new Error("accepted");
  };
  let leafPem: string;
  let caPem: string;
  beforeAll(async () => {
    const ca = await makeCertificate({ subject: "CN=ziti controller CA", ca: true });
    caPem = ca.pem;
    leafPem = (
      await makeCertificate({
        subject: "CN=verification-token",
        ca: false,
        issuer: { subject: "CN=ziti controller CA", privateKey: ca.keys.privateKey },
      })
    ).pem;
  });
  it.each([
    [
      "a plain-text password",
      (c: any) => c,
      false,
      [
        "spire-federation:openziti.password: must be a secure value (pulumi config set --secret --path openziti.password …)",
      ],
    ],
    [
      "both paths off",
      (c: any) => (c.openziti.x509 = false),
      true,
      ["spire-federation:openziti: enable x509, jwt or both"],
    ],
    [
      "an http controller",
      (c: any) => (c.openziti.controllerUrl = "http://ziti"),
      true,
      ["spire-federation:openziti.controllerUrl: must be an https:// URL"],
    ],
    [
      "a verification PEM with a generated root",
      (c: any) => (c.openziti.verificationCertPem = leafPem),
      true,
      [
        "spire-federation:openziti.verificationCertPem: only for ca.mode clusterIssuer: with a generated root the package signs the verification certificate itself",
      ],
    ],
    [
      "a controller URL with user info",
      (c: any) => (c.openziti.controllerUrl = "https://admin:hunter2@ziti.example.com:1280"),
      true,
      [
        "spire-federation:openziti.controllerUrl: must not carry user info (user:password@); the URL appears in plain outputs: set openziti.username and openziti.password",
      ],
    ],
    [
      "a controller URL with the API path",
      (c: any) => (c.openziti.controllerUrl = "https://ziti.example.com:1280/edge/management/v1"),
      true,
      [
        "spire-federation:openziti.controllerUrl: must not have a path (/edge/management/v1); the package adds /edge/management/v1 itself: use https://ziti.example.com:1280",
      ],
    ],
    [
      "a controller URL with a query",
      (c: any) => (c.openziti.controllerUrl = "https://ziti.example.com/?token=x"),
      true,
      [
        "spire-federation:openziti.controllerUrl: must not have a query: use https://ziti.example.com",
      ],
    ],
    [
      "a controller URL with an empty query",
      (c: any) => (c.openziti.controllerUrl = "https://ziti.example.com?"),
      true,
      [
        "spire-federation:openziti.controllerUrl: must not have a query: use https://ziti.example.com",
      ],
    ],
    [
      "a controller URL with a fragment",
      (c: any) => (c.openziti.controllerUrl = "https://ziti.example.com#x"),
      true,
      [
        "spire-federation:openziti.controllerUrl: must not have a fragment: use https://ziti.example.com",
      ],
    ],
    [
      "a controller CA bundle that does not parse",
      (c: any) =>
        (c.openziti.controllerCaPem =
          caPem + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
      true,
      [
        "spire-federation:openziti.controllerCaPem: must be a PEM bundle of X.509 certificates (-----BEGIN CERTIFICATE----- …), each parsable",
      ],
    ],
    [
      "a verification certificate that does not parse",
      (c: any) => {
        c.ca = { mode: "clusterIssuer", clusterIssuer: "vault-pki", rootCertificatePem: caPem };
        c.openziti.verificationCertPem =
          "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----";
      },
      true,
      ["spire-federation:openziti.verificationCertPem: must be one PEM-encoded X.509 certificate"],
    ],
    [
      "a secure username beside a plaintext password",
      (c: any) => c,
      ["openziti.username"],
      [
        "spire-federation:openziti.username: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
        "spire-federation:openziti.password: must be a secure value (pulumi config set --secret --path openziti.password …)",
      ],
    ],
    [
      "the JWT path with a staging ACME server",
      (c: any) => {
        c.openziti.jwt = true;
        c.oidc.tls.acme.server = "https://acme-staging-v02.api.letsencrypt.org/directory";
      },
      true,
      [
        "spire-federation:oidc.tls.acme.server: is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; the controller fetches the JWKS itself and needs a publicly trusted certificate: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or use the x509 path only",
      ],
    ],
    [
      "the JWT path on SPIRE's own TLS",
      (c: any) => {
        c.openziti.jwt = true;
        c.oidc.tls = { spire: true };
      },
      true,
      [
        "spire-federation:openziti.jwt: the controller fetches the JWKS itself and needs a publicly trusted certificate: set oidc.tls to acme or secretName, or use the x509 path only",
      ],
    ],
    [
      "grants without the block",
      (c: any) => delete c.openziti,
      true,
      ["spire-federation:workloads[0].openziti: needs the spire-federation:openziti block"],
    ],
    [
      "a typo in a workload grant",
      (c: any) => (c.workloads[0].openziti.roleAtributes = []),
      true,
      ["spire-federation:workloads[0].openziti.roleAtributes: unknown key"],
    ],
  ])("%s", (_n, mutate, secret, expected) => {
    const c = zcfg();
    mutate(c);
    expect(problems(c, secret)).toEqual(expected);
  });

  it("accepts a controller URL with a trailing slash, a CA bundle and a verification certificate", () => {
    const c = zcfg();
    c.ca = { mode: "clusterIssuer", clusterIssuer: "vault-pki", rootCertificatePem: caPem };
    c.openziti.controllerUrl = "https://ziti.example.com:1280/";
    c.openziti.controllerCaPem = `${caPem}\n${caPem}`;
    c.openziti.verificationCertPem = leafPem;
    const m = parseStackConfig(c, {
      secretKeys: new Set(["openziti"]),
      secretPaths: new Set(["openziti.password"]),
    });
    expect(m.openziti).toMatchObject({
      controllerUrl: "https://ziti.example.com:1280",
      verificationCertPem: leafPem,
    });
  });
});
