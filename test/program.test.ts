/** The real program under the SDK's mocks: resources, key inputs, ordering edges, outputs, errors. */
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ProgramRun } from "../tools/harness";
import { baseConfig, makeCertificate } from "./fixtures";
import { all, computedOutputs, find, runRaw, runStackFile } from "./helpers";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const CSID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";

function waitsOn(run: ProgramRun, name: string, other: string): boolean {
  const r = run.resources.find((x) => x.name === name);
  const o = run.resources.find((x) => x.name === other);
  if (!r || !o) throw new Error(`missing ${r ? other : name}`);
  return r.dependencies.includes(o.urn);
}

describe("dev stack (generated root)", () => {
  let run: ProgramRun;
  let root: { pem: string; keyPem: string };

  beforeAll(async () => {
    const cert = await makeCertificate({ subject: "CN=dev.spiffe.example.com root CA", ca: true });
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", cert.keys.privateKey);
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString("base64")}\n-----END PRIVATE KEY-----\n`;
    root = { pem: cert.pem, keyPem };
    run = await runStackFile("dev", computedOutputs(root.pem, root.keyPem));
  });

  it("registers exactly the expected resources, each under its component", () => {
    const summary = run.resources.map((r) => `${r.type} ${r.name}`);
    expect(summary).toEqual(
      expect.arrayContaining([
        "pulumi:pulumi:Stack spire-federation-dev",
        "spire-federation:index:SpireFederation spire-federation",
        "spire-federation:index:CertManager spire-federation-cert-manager",
        `${RELEASE} spire-federation-cert-manager-release`,
        "tls:index/privateKey:PrivateKey spire-federation-cert-manager-root-key",
        "tls:index/selfSignedCert:SelfSignedCert spire-federation-cert-manager-root-cert",
        "kubernetes:core/v1:Secret spire-federation-cert-manager-root-secret",
        "kubernetes:cert-manager.io/v1:ClusterIssuer spire-federation-cert-manager-root-issuer",
        "spire-federation:index:Spire spire-federation-spire",
        `${RELEASE} spire-federation-spire-crds`,
        `${RELEASE} spire-federation-spire-release`,
        "spire-federation:federation:Vault spire-federation-vault",
        "spire-federation:workload:WorkloadFiles spire-federation-workload-files",
        "kubernetes:core/v1:ConfigMap spire-federation-workload-files-payments-api",
        "kubernetes:core/v1:ConfigMap spire-federation-workload-files-orders-worker",
      ]),
    );
    // 11 for the trust domain (no ClusterSPIFFEID: both workloads have the chart's default ID),
    // 7 for Vault (component, gate, backend, 2 policies, 2 roles), 3 for the workload files
    // (component, one ConfigMap per workload), 1 anchor guard
    expect(run.resources).toHaveLength(22);
    expect(run.resources.filter((r) => r.type.startsWith("vault:"))).toHaveLength(5);
    const cm = find(run, "spire-federation:index:CertManager");
    const spire = find(run, "spire-federation:index:Spire");
    for (const r of run.resources) {
      if (r.name.startsWith("spire-federation-cert-manager-"))
        expect(r.parent, r.name).toBe(cm.urn);
      if (r.name.startsWith("spire-federation-spire-")) expect(r.parent, r.name).toBe(spire.urn);
    }
  });

  it("installs cert-manager pinned, with its CRDs", () => {
    const r = find(run, RELEASE, "cert-manager-release").rawInputs;
    expect(r).toMatchObject({
      name: "cert-manager",
      chart: "cert-manager",
      version: "v1.19.1",
      repositoryOpts: { repo: "https://charts.jetstack.io" },
      namespace: "cert-manager",
      createNamespace: true,
      values: { crds: { enabled: true } },
    });
  });

  it("generates the root with @pulumi/tls and serves it through a CA ClusterIssuer", () => {
    expect(find(run, "tls:index/privateKey:PrivateKey").rawInputs).toMatchObject({
      algorithm: "ECDSA",
      ecdsaCurve: "P256",
    });
    expect(find(run, "tls:index/selfSignedCert:SelfSignedCert").rawInputs).toMatchObject({
      isCaCertificate: true,
      validityPeriodHours: 43800,
      allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      uris: ["spiffe://dev.spiffe.example.com"],
      subject: { commonName: "dev.spiffe.example.com root CA" },
    });
    const secret = find(run, "kubernetes:core/v1:Secret");
    expect(secret.rawInputs).toMatchObject({
      type: "kubernetes.io/tls",
      metadata: { name: "spire-federation-root-ca", namespace: "cert-manager" },
      stringData: { "tls.crt": root.pem, "tls.key": root.keyPem },
    });
    // The key and the whole Secret payload are secrets in state and in the plan.
    expect(secret.inputs.stringData).toBe("[secret]");
    expect(find(run, "kubernetes:cert-manager.io/v1:ClusterIssuer").rawInputs).toMatchObject({
      metadata: { name: "spire-federation-root" },
      spec: { ca: { secretName: "spire-federation-root-ca" } },
    });
  });

  it("orders cert-manager → ClusterIssuer → spire, spire-crds → spire", () => {
    expect(
      waitsOn(
        run,
        "spire-federation-cert-manager-root-secret",
        "spire-federation-cert-manager-release",
      ),
    ).toBe(true);
    expect(
      waitsOn(
        run,
        "spire-federation-cert-manager-root-issuer",
        "spire-federation-cert-manager-release",
      ),
    ).toBe(true);
    expect(
      waitsOn(
        run,
        "spire-federation-cert-manager-root-issuer",
        "spire-federation-cert-manager-root-secret",
      ),
    ).toBe(true);
    expect(
      waitsOn(run, "spire-federation-spire-release", "spire-federation-cert-manager-root-issuer"),
    ).toBe(true);
    expect(
      waitsOn(run, "spire-federation-spire-release", "spire-federation-cert-manager-release"),
    ).toBe(true);
    expect(waitsOn(run, "spire-federation-spire-release", "spire-federation-spire-crds")).toBe(
      true,
    );
    // and not the other way round
    expect(waitsOn(run, "spire-federation-spire-crds", "spire-federation-spire-release")).toBe(
      false,
    );
  });

  it("installs spire-crds and spire from the hardened repo at the pinned versions", () => {
    expect(find(run, RELEASE, "spire-crds").rawInputs).toMatchObject({
      name: "spire-crds",
      chart: "spire-crds",
      version: "0.6.0",
      repositoryOpts: { repo: "https://spiffe.github.io/helm-charts-hardened/" },
      namespace: "spire-mgmt",
    });
    const spire = find(run, RELEASE, "spire-release").rawInputs as any;
    expect(spire).toMatchObject({
      name: "spire",
      chart: "spire",
      version: "0.30.0",
      namespace: "spire-mgmt",
    });
    expect(spire.values["spire-server"].upstreamAuthority.certManager.issuerName).toBe(
      "spire-federation-root",
    );
    expect(spire.values.global.spire.jwtIssuer).toBe("https://oidc.dev.spiffe.example.com");
    expect(spire.values["spire-server"].dataStore).toEqual({ sql: { databaseType: "sqlite3" } });
  });

  it("creates no RBAC of its own: the chart's Role covers the CertificateRequests SPIRE uses", () => {
    expect(run.resources.filter((r) => r.type.includes("rbac.authorization.k8s.io"))).toEqual([]);
    const values = (find(run, RELEASE, "spire-release").rawInputs as any).values;
    expect(values["spire-server"].upstreamAuthority.certManager.rbac).toEqual({ create: true });
  });

  it("registers no ClusterSPIFFEID and leaves both workloads to the chart's default, in our class", () => {
    expect(all(run, CSID)).toEqual([]);
    const cm = (find(run, RELEASE, "spire-release").rawInputs as any).values["spire-server"]
      .controllerManager;
    expect(cm.className).toBe("spire-federation");
    expect(cm.identities.clusterSPIFFEIDs.default).toEqual({
      enabled: true,
      fallback: true,
      spiffeIDTemplate:
        "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
    });
  });

  it("outputs the trust domain, issuer, JWKS URI, root PEM and workload IDs", () => {
    expect(run.outputs).toEqual({
      trustDomain: "dev.spiffe.example.com",
      issuerUrl: "https://oidc.dev.spiffe.example.com",
      jwksUri: "https://oidc.dev.spiffe.example.com/keys",
      rootCaPem: root.pem,
      // The rest of the platform output contract (components/platform/contract.ts).
      controllerClassName: "spire-federation",
      clusterName: "dev-cluster",
      teamStacks: {},
      reservedNamespaces: [
        "spire-mgmt",
        "spire-server",
        "spire-system",
        "cert-manager",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "payments",
        "orders",
      ],
      reservedSpiffeIdPaths: [
        "/spire",
        "/ns/payments/sa/payments-api",
        "/ns/orders/sa/orders-worker",
      ],
      shared: { vault: { address: "https://vault.dev.example.com:8200", path: "spire-jwt" } },
      workloads: {
        "payments-api": "spiffe://dev.spiffe.example.com/ns/payments/sa/payments-api",
        "orders-worker": "spiffe://dev.spiffe.example.com/ns/orders/sa/orders-worker",
      },
      federation: {
        "payments-api": {
          vault: { role: "payments-api", loginPath: "auth/spire-jwt/login", audience: "vault" },
        },
        "orders-worker": {
          vault: {
            role: "orders-worker",
            loginPath: "auth/spire-jwt/login",
            audience: "vault-dev",
          },
        },
      },
      workloadFiles: {
        "payments-api": expect.objectContaining({ configMap: "payments-api-spiffe" }),
        "orders-worker": expect.objectContaining({ configMap: "orders-worker-spiffe" }),
      },
    });
    expect(new X509Certificate(run.outputs.rootCaPem as string).ca).toBe(true);
  });
});

describe("prod stack (existing ClusterIssuer)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStackFile("prod");
  });

  it("creates no root and no cert-manager release; SPIRE points at the existing issuer", () => {
    expect(run.resources.filter((r) => r.type.startsWith("tls:"))).toEqual([]);
    expect(
      all(run, RELEASE)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["spire-federation-spire-crds", "spire-federation-spire-release"]);
    const values = (find(run, RELEASE, "spire-release").rawInputs as any).values;
    expect(values["spire-server"].upstreamAuthority.certManager).toMatchObject({
      issuerName: "vault-pki-spiffe",
      issuerKind: "ClusterIssuer",
    });
    expect(values["spire-server"].replicaCount).toBe(3);
  });

  it("registers a ClusterSPIFFEID only for the custom path, by labels, after the release", () => {
    const id = find(run, CSID, "batch-reports");
    expect(id.rawInputs).toEqual({
      apiVersion: "spire.spiffe.io/v1alpha1",
      kind: "ClusterSPIFFEID",
      metadata: { name: "spire-federation-batch-reports" },
      spec: {
        className: "spire-federation",
        hint: "batch-reports",
        spiffeIDTemplate: "spiffe://prod.spiffe.example.com/workloads/batch-reports",
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "reporting" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "batch-reports" } },
        workloadSelectorTemplates: ["k8s:ns:reporting", "k8s:sa:default"],
      },
    });
    expect(waitsOn(run, id.name, "spire-federation-spire-release")).toBe(true);
  });

  it("keeps the datastore password secret in the release inputs", () => {
    const spire = find(run, RELEASE, "spire-release");
    expect((spire.inputs as any).values["spire-server"].dataStore.sql.password).toBe("[secret]");
    expect(JSON.stringify(run.resources.map((r) => r.inputs))).not.toContain(
      "offline-plan-placeholder-secret",
    );
  });

  it("gives every workload an ID, honouring spiffeIdPath", () => {
    expect(run.outputs.workloads).toEqual({
      "payments-api": "spiffe://prod.spiffe.example.com/ns/payments/sa/payments-api",
      "orders-worker": "spiffe://prod.spiffe.example.com/ns/orders/sa/orders-worker",
      ledger: "spiffe://prod.spiffe.example.com/ns/finance/sa/ledger",
      "batch-reports": "spiffe://prod.spiffe.example.com/workloads/batch-reports",
    });
    expect(all(run, CSID).map((r) => r.name)).toEqual(["spire-federation-spire-id-batch-reports"]);
    expect(new X509Certificate(run.outputs.rootCaPem as string).subject).toContain(
      "Example Corp SPIFFE Root CA",
    );
  });
});

describe("bad config through the program", () => {
  it("fails with a RunError naming each key, before registering any resource", async () => {
    const raw = baseConfig();
    raw.trustDomain = "Bad.Example";
    (raw.workloads as any[])[1].namespace = "Not_A_Label";
    let error: unknown;
    let registered = -1;
    try {
      await runRaw(raw);
    } catch (e) {
      error = e;
    }
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      "invalid stack config:\n" +
        "  spire-federation:trustDomain: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores\n" +
        "  spire-federation:workloads[1].namespace: must be a DNS-1123 label",
    );
    // Validation ran before anything was registered, not even the root stack.
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      getRegisteredResources(): Map<string, unknown>;
    };
    registered = monitor.getRegisteredResources().size;
    expect(registered).toBe(0);
  });

  it("rejects a plain-text datastore password, and accepts it as a secure value", async () => {
    const raw = {
      ...baseConfig(),
      spire: {
        replicas: 2,
        datastore: {
          type: "postgres",
          host: "db.example.com",
          database: "spire",
          username: "spire",
          password: "hunter2",
        },
      },
    };
    await expect(runRaw(raw)).rejects.toThrow(
      "spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    );
    const ok = await runRaw(raw, { secretKeys: ["spire"] });
    const spire = find(ok, RELEASE, "spire-release");
    expect((spire.inputs as any).values["spire-server"].dataStore.sql.password).toBe("[secret]");
    expect(JSON.stringify(ok.resources.map((r) => r.inputs))).not.toContain("hunter2");
  });
});
