import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseDuration, parseStackConfig } from "../components/config";
import { spireValues } from "../components/spire";
import { spireValuesArgs } from "../components/stack";
import { baseConfig, makeCertificate } from "./fixtures";
import { stackFileSecretPaths } from "../program";
import { stackConfigFromYaml } from "../tools/stack-config";
import { planStack } from "./compiled";
import { chartValueKeys } from "./helpers";

/** The problems parseStackConfig reports for `raw` (fails the test if it accepts it). */
function problemsOf(raw: Record<string, unknown>, secretKeys?: string[]): string[] {
  try {
    parseStackConfig(raw, { secretKeys: secretKeys ? new Set(secretKeys) : undefined });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

type Mutate = (c: Record<string, any>) => void;

const postgres = {
  type: "postgres",
  host: "db.example.com",
  database: "spire",
  username: "spire",
  password: "s3cret",
};

const badConfigs: [string, Mutate, string[]][] = [
  [
    "trust domain with uppercase",
    (c) => (c.trustDomain = "Test.example.com"),
    [
      "spire-federation:trustDomain: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
    ],
  ],
  [
    "trust domain with a port",
    (c) => (c.trustDomain = "test.example.com:8443"),
    ["spire-federation:trustDomain: trust domain must not contain a port"],
  ],
  [
    "the chart's example trust domain",
    (c) => (c.trustDomain = "example.org"),
    [
      "spire-federation:trustDomain: example.org is the chart's example trust domain; choose your own",
    ],
  ],
  ["missing clusterName", (c) => delete c.clusterName, ["spire-federation:clusterName: required"]],
  [
    "clusterName not a DNS label",
    (c) => (c.clusterName = "Prod_Cluster"),
    ["spire-federation:clusterName: must be a DNS-1123 label"],
  ],
  [
    "oidc.host without a domain",
    (c) => (c.oidc.host = "oidc"),
    [
      "spire-federation:oidc.host: must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)",
    ],
  ],
  [
    "oidc.tls with no choice",
    (c) => (c.oidc.tls = {}),
    [
      "spire-federation:oidc.tls: must set exactly one of acme: { email, server? }, secretName, or spire: true",
    ],
  ],
  [
    "oidc.tls with two choices",
    (c) => (c.oidc.tls = { acme: { email: "a@b.co" }, spire: true }),
    [
      "spire-federation:oidc.tls: must set exactly one of acme: { email, server? }, secretName, or spire: true (found acme, spire)",
    ],
  ],
  [
    "ACME email not an address",
    (c) => (c.oidc.tls.acme.email = "ops"),
    ["spire-federation:oidc.tls.acme.email: must be an email address"],
  ],
  [
    "ACME server over http",
    (c) => (c.oidc.tls.acme.server = "http://acme.example.com/directory"),
    ["spire-federation:oidc.tls.acme.server: must be an https:// URL"],
  ],
  [
    "a typo in a nested key",
    (c) => {
      c.oidc.hots = c.oidc.host;
      delete c.oidc.host;
    },
    ["spire-federation:oidc.host: required", "spire-federation:oidc.hots: unknown key"],
  ],
  [
    "a typo in a top-level key",
    (c) => (c.trustdomain = "x.example.com"),
    ["spire-federation:trustdomain: unknown key"],
  ],
  [
    "ca without mode",
    (c) => (c.ca = { keyAlgorithm: "ECDSA-P256" }),
    ['spire-federation:ca.mode: must be "generated" or "clusterIssuer"'],
  ],
  [
    "unsupported root key algorithm",
    (c) => (c.ca.keyAlgorithm = "ED25519"),
    ["spire-federation:ca.keyAlgorithm: must be ECDSA-P256, ECDSA-P384, RSA-2048 or RSA-4096"],
  ],
  [
    "clusterIssuer mode without the root PEM",
    (c) => (c.ca = { mode: "clusterIssuer", clusterIssuer: "vault-pki" }),
    ["spire-federation:ca.rootCertificatePem: required"],
  ],
  [
    "clusterIssuer mode with garbage PEM",
    (c) =>
      (c.ca = {
        mode: "clusterIssuer",
        clusterIssuer: "vault-pki",
        rootCertificatePem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      }),
    ["spire-federation:ca.rootCertificatePem: must be a PEM-encoded X.509 certificate"],
  ],
  [
    "unparsable caTTL (days are not a Go duration)",
    (c) => (c.spire = { caTTL: "1d" }),
    [
      "spire-federation:spire.caTTL: must be a positive duration such as 1h, 30m or 1h30m (units h, m, s)",
    ],
  ],
  [
    "JWT-SVID TTL over 24h",
    (c) => (c.spire = { caTTL: "72h", jwtSvidTTL: "25h" }),
    [
      "spire-federation:spire.jwtSvidTTL: must be at most 24h; a JWT-SVID is a bearer token, usable by whoever holds it until it expires",
    ],
  ],
  [
    "X509-SVID TTL not shorter than the CA TTL",
    (c) => (c.spire = { caTTL: "4h", x509SvidTTL: "4h" }),
    [
      "spire-federation:spire.x509SvidTTL: must be shorter than spire.caTTL (4h); SPIRE cannot sign past its CA's expiry",
    ],
  ],
  [
    "replicas > 1 with sqlite3",
    (c) => (c.spire = { replicas: 3 }),
    [
      "spire-federation:spire.replicas: must be 1 with the sqlite3 datastore; use postgres or mysql for more replicas",
    ],
  ],
  [
    "unknown CA key type",
    (c) => (c.spire = { caKeyType: "ec-p521" }),
    ["spire-federation:spire.caKeyType: must be rsa-2048, rsa-4096, ec-p256 or ec-p384"],
  ],
  [
    "postgres without a password",
    (c) => {
      const { password: _p, ...rest } = postgres;
      c.spire = { datastore: rest };
    },
    ["spire-federation:spire.datastore.password: required"],
  ],
  [
    "unknown datastore type",
    (c) => (c.spire = { datastore: { type: "oracle" } }),
    ['spire-federation:spire.datastore.type: must be "sqlite3", "postgres" or "mysql"'],
  ],
  [
    "root that expires before SPIRE's intermediate",
    (c) => {
      c.ca.validityHours = 24;
      c.spire = { caTTL: "48h" };
    },
    [
      "spire-federation:ca.validityHours: must be longer than spire.caTTL (48h); the root must outlive SPIRE's intermediates",
    ],
  ],
  [
    "workload namespace not a DNS label",
    (c) => c.workloads.push({ name: "x", namespace: "Bad_NS", serviceAccount: "x" }),
    ["spire-federation:workloads[2].namespace: must be a DNS-1123 label"],
  ],
  [
    "workload service account not a DNS subdomain",
    (c) => (c.workloads[1].serviceAccount = "Worker SA"),
    ["spire-federation:workloads[1].serviceAccount: must be a DNS-1123 subdomain"],
  ],
  [
    "duplicate workload names",
    (c) => c.workloads.push({ name: "api", namespace: "other", serviceAccount: "api" }),
    ['spire-federation:workloads[2].name: duplicates workloads[0].name "api"'],
  ],
  [
    "duplicate SPIFFE IDs",
    (c) =>
      c.workloads.push({
        name: "api-2",
        namespace: "x",
        serviceAccount: "y",
        spiffeIdPath: "/ns/shop/sa/api",
        podLabels: { app: "api-2" },
      }),
    [
      "spire-federation:workloads[2]: SPIFFE ID spiffe://test.example.com/ns/shop/sa/api duplicates the one of workloads[0]",
    ],
  ],
  [
    "spiffeIdPath with a dot segment",
    (c) => (c.workloads[0].spiffeIdPath = "/workloads/../admin"),
    ["spire-federation:workloads[0].spiffeIdPath: path cannot contain dot segments"],
  ],
  [
    "spiffeIdPath without a leading slash",
    (c) => (c.workloads[0].spiffeIdPath = "workloads/api"),
    ["spire-federation:workloads[0].spiffeIdPath: path must have a leading slash"],
  ],
  [
    "spiffeIdPath with a trailing slash",
    (c) => (c.workloads[0].spiffeIdPath = "/workloads/api/"),
    ["spire-federation:workloads[0].spiffeIdPath: path cannot have a trailing slash"],
  ],
  [
    "spiffeIdPath with percent-encoding",
    (c) => (c.workloads[0].spiffeIdPath = "/workloads/a%2Fb"),
    [
      "spire-federation:workloads[0].spiffeIdPath: path must not contain percent-encoded characters",
    ],
  ],
  [
    "a typo in a workload key",
    (c) => (c.workloads[0].serviceaccount = "api"),
    ["spire-federation:workloads[0].serviceaccount: unknown key"],
  ],
  [
    "an invalid pod label key",
    (c) => (c.workloads[1].podLabels = { "-bad": "x" }),
    ["spire-federation:workloads[1].podLabels.-bad: must be a valid label key"],
  ],
  [
    "workloads not a list",
    (c) => (c.workloads = { api: {} }),
    ["spire-federation:workloads: must be a list of workloads"],
  ],
  [
    "replicas not a number",
    (c) => (c.spire = { replicas: "three" }),
    ["spire-federation:spire.replicas: must be a number"],
  ],
  [
    "a trust domain given as a SPIFFE ID",
    (c) => (c.trustDomain = "spiffe://test.example.com"),
    [
      "spire-federation:trustDomain: must be given without the spiffe:// scheme: use test.example.com",
    ],
  ],
  [
    "a trust domain given as a SPIFFE ID with a bad host",
    (c) => (c.trustDomain = "spiffe://Test.example.com/"),
    [
      "spire-federation:trustDomain: must be given without the spiffe:// scheme: use e.g. prod.example.org",
    ],
  ],
  [
    "a spire chart version range",
    (c) => (c.spire = { chartVersion: "^0.30.0" }),
    ["spire-federation:spire.chartVersion: must be an exact SemVer chart version such as 0.30.0"],
  ],
  [
    "a partial spire-crds chart version",
    (c) => (c.spire = { crdsChartVersion: "0.6" }),
    [
      "spire-federation:spire.crdsChartVersion: must be an exact SemVer chart version such as 0.6.0",
    ],
  ],
  [
    "a cert-manager chart version that is not SemVer",
    (c) => (c.certManager = { chartVersion: "latest" }),
    [
      "spire-federation:certManager.chartVersion: must be an exact SemVer chart version such as v1.19.1",
    ],
  ],
  [
    "a cert-manager chart version with a leading zero",
    (c) => (c.certManager = { chartVersion: "v1.019.1" }),
    [
      "spire-federation:certManager.chartVersion: must be an exact SemVer chart version such as v1.19.1",
    ],
  ],
  [
    "a TLS secret name that is not a Kubernetes name",
    (c) => (c.oidc.tls = { secretName: "OIDC_TLS" }),
    [
      "spire-federation:oidc.tls.secretName: must be the name of a TLS Secret (a DNS-1123 subdomain) in the discovery provider's namespace, spire-server",
    ],
  ],
];

describe("parseStackConfig rejects bad config with exact messages", () => {
  it.each(badConfigs)("%s", (_label, mutate, expected) => {
    const raw = baseConfig();
    mutate(raw);
    expect(problemsOf(raw)).toEqual(expected);
  });

  it("has at least 15 distinct bad configs", () => {
    expect(new Set(badConfigs.map(([, , m]) => m.join())).size).toBeGreaterThanOrEqual(15);
  });

  it("reports every problem at once, in one error", () => {
    const raw = baseConfig();
    raw.trustDomain = "Bad";
    delete raw.clusterName;
    raw.spire = { replicas: 2, jwtSvidTTL: "48h" };
    (raw.workloads as Record<string, unknown>[])[1].namespace = "NS";
    const problems = problemsOf(raw);
    expect(problems).toEqual([
      "spire-federation:clusterName: required",
      "spire-federation:trustDomain: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
      "spire-federation:spire.jwtSvidTTL: must be at most 24h; a JWT-SVID is a bearer token, usable by whoever holds it until it expires",
      "spire-federation:spire.replicas: must be 1 with the sqlite3 datastore; use postgres or mysql for more replicas",
      "spire-federation:workloads[1].namespace: must be a DNS-1123 label",
    ]);
    try {
      parseStackConfig(raw);
    } catch (e) {
      expect((e as Error).message).toBe(`invalid stack config:\n  ${problems.join("\n  ")}`);
    }
  });

  it("requires the datastore password to be a secure value", () => {
    const raw = { ...baseConfig(), spire: { replicas: 3, datastore: postgres } };
    expect(problemsOf(raw, [])).toEqual([
      "spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    ]);
    const model = parseStackConfig(raw, { secretKeys: new Set(["spire"]) });
    expect(model.spire.replicas).toBe(3);
  });

  it("rejects a root certificate that is not a CA, or expired", async () => {
    const leaf = await makeCertificate({ subject: "CN=leaf", ca: false });
    const expired = await makeCertificate({
      subject: "CN=old root",
      ca: true,
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
    });
    const withRoot = (pem: string) => ({
      ...baseConfig(),
      ca: { mode: "clusterIssuer", clusterIssuer: "vault-pki", rootCertificatePem: pem },
    });
    expect(problemsOf(withRoot(leaf.pem))).toEqual([
      "spire-federation:ca.rootCertificatePem: must be a CA certificate (basicConstraints CA:TRUE)",
    ]);
    expect(problemsOf(withRoot(expired.pem))).toEqual([
      "spire-federation:ca.rootCertificatePem: certificate expired on Jan  1 00:00:00 2021 GMT",
    ]);
  });
});

describe("oidc.tls.spire with a custom host", () => {
  const DNS_KEY =
    "spire-server.controllerManager.identities.clusterSPIFFEIDs.oidc-discovery-provider.dnsNameTemplates";
  const dnsNames = (raw: Record<string, unknown>) => {
    const v = spireValues(spireValuesArgs(parseStackConfig(raw), "root")) as any;
    return v["spire-server"].controllerManager.identities.clusterSPIFFEIDs[
      "oidc-discovery-provider"
    ]?.dnsNameTemplates;
  };

  it("adds the host to the DNS names of the discovery provider's SVID, keeping the chart's", () => {
    const raw = baseConfig();
    (raw.oidc as Record<string, unknown>).tls = { spire: true };
    expect(chartValueKeys().get(DNS_KEY)).toBe("list");
    expect(dnsNames(raw)).toEqual(["oidc-discovery.{{ .TrustDomain }}", "oidc.test.example.com"]);
  });

  it("leaves the chart's list alone when the host is the chart's name, or TLS is not SPIRE's", () => {
    const raw = baseConfig();
    (raw.oidc as Record<string, unknown>).tls = { spire: true };
    (raw.oidc as Record<string, unknown>).host = "oidc-discovery.test.example.com";
    expect(dnsNames(raw)).toEqual(["oidc-discovery.{{ .TrustDomain }}"]);
    expect(dnsNames(baseConfig())).toBeUndefined();
  });
});

describe("chart versions", () => {
  it.each([
    ["spire", "chartVersion", "0.30.0"],
    ["spire", "chartVersion", "0.31.0-rc.1+build.5"],
    ["spire", "crdsChartVersion", "v0.6.0"],
    ["certManager", "chartVersion", "v1.19.1"],
    ["certManager", "chartVersion", "1.19.1"],
  ])("%s.%s %s is accepted", (block, key, version) => {
    const raw = { ...baseConfig(), [block]: { [key]: version } };
    const m = parseStackConfig(raw) as unknown as Record<string, Record<string, string>>;
    expect(m[block][key]).toBe(version);
  });
});

describe("the error list is capped", () => {
  /** The ConfigError message for `n` workloads, each with one bad namespace. */
  const messageFor = (n: number) => {
    const raw = baseConfig();
    raw.workloads = Array.from({ length: n }, (_, i) => ({
      name: `w${i}`,
      namespace: "Bad_NS",
      serviceAccount: "sa",
    }));
    try {
      parseStackConfig(raw);
    } catch (e) {
      return { problems: (e as ConfigError).problems, lines: (e as Error).message.split("\n") };
    }
    throw new Error("config was accepted");
  };

  it("lists the first 100 problems in the message, then a count; problems keeps all", () => {
    const { problems, lines } = messageFor(150);
    expect(problems).toHaveLength(150);
    expect(lines[0]).toBe("invalid stack config:");
    expect(lines.slice(1, 101)).toEqual(problems.slice(0, 100).map((p) => `  ${p}`));
    expect(lines[100]).toBe("  spire-federation:workloads[99].namespace: must be a DNS-1123 label");
    expect(lines.slice(101)).toEqual(["  … and 50 more"]);
  });

  it("lists exactly 100 problems without a count", () => {
    const { problems, lines } = messageFor(100);
    expect(lines).toEqual(["invalid stack config:", ...problems.map((p) => `  ${p}`)]);
    expect(lines).toHaveLength(101);
  });
});

describe("secure values, value by value", () => {
  const withPostgres = () => ({
    ...baseConfig(),
    spire: { replicas: 2, datastore: { ...postgres } },
  });
  const parse = (raw: Record<string, unknown>, keys: string[], paths?: string[]) =>
    parseStackConfig(raw, {
      secretKeys: new Set(keys),
      secretPaths: paths === undefined ? undefined : new Set(paths),
    });
  const problemsWith = (raw: Record<string, unknown>, keys: string[], paths?: string[]) => {
    try {
      parse(raw, keys, paths);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
    throw new Error("config was accepted");
  };

  it("accepts the password as the one secure value", () => {
    expect(parse(withPostgres(), ["spire"], ["spire.datastore.password"]).spire.replicas).toBe(2);
  });

  it("rejects a plaintext password beside a secure username (the block is secret as a whole)", () => {
    expect(problemsWith(withPostgres(), ["spire"], ["spire.datastore.username"])).toEqual([
      "spire-federation:spire.datastore.username: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    ]);
  });

  it("rejects a secure value wherever a plain one is used, at any depth", () => {
    const raw = baseConfig();
    expect(
      problemsWith(
        raw,
        ["trustDomain", "oidc", "workloads"],
        ["oidc.tls.acme.email", "workloads[1].podLabels.app"],
      ),
    ).toEqual([
      "spire-federation:trustDomain: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:oidc.tls.acme.email: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:workloads[1].podLabels.app: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
    ]);
  });

  it("names keys with dots in the --path syntax", () => {
    const raw = baseConfig();
    (raw.workloads as Record<string, any>[])[1].podLabels = { "app.kubernetes.io/name": "w" };
    expect(
      problemsWith(raw, ["workloads"], ['workloads[1].podLabels["app.kubernetes.io/name"]']),
    ).toEqual([
      "spire-federation:workloads[1].podLabels.app.kubernetes.io/name: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
    ]);
  });

  it("knowing only top-level keys: a secure block without a password field is refused", () => {
    expect(problemsWith(baseConfig(), ["oidc"])).toEqual([
      "spire-federation:oidc: holds a secure value, but none of its values may be secret; the package uses them in clear (resource inputs, outputs): set them without --secret",
    ]);
    // A block with a password field passes: the password may be the secure value.
    expect(parse(withPostgres(), ["spire"]).spire.replicas).toBe(2);
    // Paths under a key the engine does not mark secret are stale and ignored.
    expect(problemsWith(withPostgres(), [], ["spire.datastore.password"])).toEqual([
      "spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    ]);
  });

  const stackFile = `config:
  spire-federation:trustDomain: test.example.com
  spire-federation:clusterName: test-cluster
  spire-federation:oidc:
    host: oidc.test.example.com
    ingressClassName: nginx
    tls: { acme: { email: ops@example.com } }
  spire-federation:ca: { mode: generated }
  spire-federation:spire:
    replicas: 2
    datastore:
      type: postgres
      host: db.example.com
      database: spire
      username: { secure: v1:dXNlcg== }
      password: hunter2
  spire-federation:workloads:
    - name: api
      namespace: shop
      serviceAccount: api
      podLabels:
        app.kubernetes.io/name: { secure: v1:YXBp }
`;

  it("the stack file tells which values are secure, by path", () => {
    expect(stackConfigFromYaml(stackFile).secretPaths).toEqual([
      "spire-federation:spire.datastore.username",
      'spire-federation:workloads[0].podLabels["app.kubernetes.io/name"]',
    ]);
  });

  it("the program reads them from the stack's file in the project's stackConfigDir", () => {
    const root = mkdtempSync(path.join(tmpdir(), "secret-paths-"));
    writeFileSync(
      path.join(root, "Pulumi.yaml"),
      "name: x\nruntime: nodejs\nstackConfigDir: conf\n",
    );
    mkdirSync(path.join(root, "conf"));
    writeFileSync(path.join(root, "conf", "Pulumi.qa.yaml"), stackFile);
    expect(stackFileSecretPaths(root, "qa")).toEqual([
      "spire-federation:spire.datastore.username",
      'spire-federation:workloads[0].podLabels["app.kubernetes.io/name"]',
    ]);
    expect(stackFileSecretPaths(root, "other")).toBeUndefined();
  });

  it("the offline plan refuses a plaintext password beside a secure username", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "stacks-"));
    writeFileSync(path.join(dir, "Pulumi.leaf.yaml"), stackFile);
    await expect(planStack("leaf", dir)).rejects.toThrow(
      [
        "invalid stack config:",
        "  spire-federation:spire.datastore.username: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
        "  spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
        "  spire-federation:workloads[0].podLabels.app.kubernetes.io/name: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      ].join("\n"),
    );
  });

  it("checks nothing when the caller knows nothing about secrets", () => {
    expect(parseStackConfig(withPostgres()).spire.replicas).toBe(2);
  });
});

describe("parseStackConfig builds the model", () => {
  it("applies defaults and derives the issuer and SPIFFE IDs", () => {
    const m = parseStackConfig(baseConfig());
    expect(m.oidc).toEqual({
      host: "oidc.test.example.com",
      ingressClassName: "nginx",
      ingressControllerType: "ingress-nginx",
      tls: {
        kind: "acme",
        email: "ops@example.com",
        server: "https://acme-v02.api.letsencrypt.org/directory",
      },
      issuerUrl: "https://oidc.test.example.com",
      jwksUri: "https://oidc.test.example.com/keys",
    });
    expect(m.ca).toEqual({ mode: "generated", keyAlgorithm: "ECDSA-P256", validityHours: 87600 });
    expect(m.certManager).toEqual({
      install: true,
      chartVersion: "v1.19.1",
      namespace: "cert-manager",
    });
    expect(m.spire).toMatchObject({
      chartVersion: "0.30.0",
      crdsChartVersion: "0.6.0",
      caKeyType: "rsa-2048",
      caTTL: "24h",
      x509SvidTTL: "4h",
      jwtSvidTTL: "1h",
      replicas: 1,
      datastore: { type: "sqlite3" },
      caSubject: { country: "US", organization: "SPIFFE", commonName: "test.example.com" },
    });
    expect(m.workloads).toEqual([
      {
        name: "api",
        namespace: "shop",
        serviceAccount: "api",
        spiffeId: "spiffe://test.example.com/ns/shop/sa/api",
        podLabels: {},
      },
      {
        name: "worker",
        namespace: "shop",
        serviceAccount: "worker",
        spiffeId: "spiffe://test.example.com/ns/shop/sa/worker",
        podLabels: { app: "worker" },
      },
    ]);
  });

  it("uses spiffeIdPath verbatim and keeps the password a secret", async () => {
    const raw = baseConfig();
    (raw.workloads as Record<string, unknown>[])[0].spiffeIdPath = "/workloads/work1";
    (raw.workloads as Record<string, unknown>[])[0].podLabels = { app: "api" };
    raw.spire = { replicas: 2, datastore: { ...postgres, type: "mysql" } };
    const m = parseStackConfig(raw, { secretKeys: new Set(["spire"]) });
    expect(m.workloads[0].spiffeId).toBe("spiffe://test.example.com/workloads/work1");
    const ds = m.spire.datastore;
    if (ds.type === "sqlite3") throw new Error("expected mysql");
    expect(ds.port).toBe(3306);
    expect(await ds.password.isSecret).toBe(true);
  });
});

describe("parseDuration", () => {
  it.each([
    ["1h", 3600],
    ["90m", 5400],
    ["1h30m", 5400],
    ["24h", 86400],
    ["1.5h", 5400],
    ["500ms", 0.5],
  ])("%s = %d s", (d, s) => expect(parseDuration(d)).toBe(s));
  it.each(["1d", "h", "", "10", "-1h", "1 h", "1H"])("%j is not a duration", (d) =>
    expect(parseDuration(d)).toBeUndefined(),
  );
});
