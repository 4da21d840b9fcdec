/** Vault, Entra ID and Google Cloud federation: resources, edges, outputs, config errors. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../components/config";
import {
  deterministicGuid,
  EntraFederation,
  entraArgsProblems,
} from "../components/federation/azure/component";
import {
  gcpArgsProblems,
  oidcCredentialConfig,
  x509CredentialConfig,
  x509CertificateConfig,
} from "../components/federation/gcp/component";
import { vaultArgsProblems } from "../components/federation/vault/component";
import type { ProgramRun } from "../tools/harness";
import { planStack } from "./compiled";
import { baseConfig, makeCertificate } from "./fixtures";
import {
  all,
  computedOutputs,
  fakeIdentity,
  find,
  ROOT,
  runRaw,
  runStackFile,
  transitiveDependencies,
} from "./helpers";

const SUB = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
const TD = "prod.spiffe.example.com";
const POOL =
  "//iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod";

function byName(run: ProgramRun, name: string) {
  const r = run.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
}

describe("prod stack: all three relying parties", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    const root = await makeCertificate({ subject: "CN=unused", ca: true });
    run = await runStackFile("prod", computedOutputs(root.pem, ""));
  });

  describe("Vault", () => {
    it("gates the JWT backend on the discovery document, after the SPIRE release", () => {
      const gate = find(run, "command:local:Command");
      expect(gate.rawInputs).toMatchObject({
        interpreter: ["node", "-e"],
        environment: {
          GATE_ISSUER: `https://oidc.${TD}`,
          GATE_ATTEMPTS: "30",
          GATE_INTERVAL_MS: "10000",
        },
        triggers: [`https://oidc.${TD}`],
      });
      expect(gate.rawInputs.create).toContain("/.well-known/openid-configuration");
      expect(gate.dependencies).toEqual([byName(run, "spire-federation-spire-release").urn]);
      const backend = find(run, "vault:jwt/authBackend:AuthBackend");
      expect(backend.rawInputs).toMatchObject({
        path: "spire-jwt",
        type: "jwt",
        oidcDiscoveryUrl: `https://oidc.${TD}`,
        boundIssuer: `https://oidc.${TD}`,
      });
      expect(backend.dependencies).toEqual([gate.urn]);
    });

    it("creates each declared policy and one jwt role per workload with Vault grants", () => {
      expect(all(run, "vault:index/policy:Policy").map((p) => p.rawInputs.name)).toEqual([
        "payments-read",
        "orders-rw",
        "ledger-transit",
      ]);
      expect(find(run, "vault:index/policy:Policy", "orders-rw").rawInputs.policy).toContain(
        'path "secret/data/orders/*"',
      );
      const roles = Object.fromEntries(
        all(run, "vault:jwt/authBackendRole:AuthBackendRole").map((r) => [r.rawInputs.roleName, r]),
      );
      expect(Object.keys(roles).sort()).toEqual(["ledger", "orders-worker", "payments-api"]);
      expect(roles["orders-worker"].rawInputs).toEqual({
        backend: "spire-jwt",
        roleName: "orders-worker",
        roleType: "jwt",
        userClaim: "sub",
        boundAudiences: ["vault"],
        boundClaimsType: "string",
        boundClaims: { sub: `spiffe://${TD}/ns/orders/sa/orders-worker` },
        tokenPolicies: ["orders-rw"],
        tokenTtl: 3600,
      });
      const backend = find(run, "vault:jwt/authBackend:AuthBackend");
      for (const role of Object.values(roles)) {
        expect(role.dependencies).toContain(backend.urn);
      }
      expect(roles.ledger.dependencies).toContain(
        byName(run, "spire-federation-vault-policy-ledger-transit").urn,
      );
    });

    it("chains release → gate → backend → roles", () => {
      const release = byName(run, "spire-federation-spire-release").urn;
      for (const role of all(run, "vault:jwt/authBackendRole:AuthBackendRole")) {
        const deps = transitiveDependencies(run, role.urn);
        expect(deps.has(find(run, "vault:jwt/authBackend:AuthBackend").urn)).toBe(true);
        expect(deps.has(find(run, "command:local:Command").urn)).toBe(true);
        expect(deps.has(release)).toBe(true);
      }
    });
  });

  describe("Entra ID", () => {
    it("creates one identity per identity name, in the configured group and region", () => {
      const ids = all(run, "azure-native:managedidentity:UserAssignedIdentity");
      expect(ids.map((i) => i.rawInputs.resourceName)).toEqual([
        "payments-api",
        "orders-worker",
        "finance-reporting",
      ]);
      for (const i of ids)
        expect(i.rawInputs).toMatchObject({
          resourceGroupName: "rg-spiffe-prod",
          location: "westeurope",
        });
    });

    it("trusts each SPIFFE ID exactly, with one audience", () => {
      const fic = byName(run, "spire-federation-entra-finance-reporting-batch-reports");
      expect(fic.rawInputs).toEqual({
        resourceGroupName: "rg-spiffe-prod",
        resourceName: "finance-reporting",
        federatedIdentityCredentialResourceName: "batch-reports",
        issuer: `https://oidc.${TD}`,
        subject: `spiffe://${TD}/workloads/batch-reports`,
        audiences: ["api://AzureADTokenExchange"],
      });
    });

    it("chains the credentials under one identity", () => {
      const first = byName(run, "spire-federation-entra-finance-reporting-ledger");
      const second = byName(run, "spire-federation-entra-finance-reporting-batch-reports");
      expect(second.dependencies).toContain(first.urn);
      expect(first.dependencies).not.toContain(second.urn);
      // credentials of different identities stay parallel
      expect(
        byName(run, "spire-federation-entra-orders-worker-orders-worker").dependencies,
      ).toEqual([byName(run, "spire-federation-entra-orders-worker").urn]);
    });

    it("assigns roles to the service principal with deterministic GUID names, deduplicated", () => {
      const assignments = all(run, "azure-native:authorization:RoleAssignment");
      expect(assignments).toHaveLength(3); // ledger and batch-reports share one grant
      const kv = assignments.find((a) =>
        (a.rawInputs.scope as string).includes("kv-payments-prod"),
      )!;
      const scope = `/subscriptions/${SUB}/resourceGroups/rg-payments-prod/providers/Microsoft.KeyVault/vaults/kv-payments-prod`;
      expect(kv.rawInputs).toMatchObject({
        roleAssignmentName: deterministicGuid(
          "payments-api",
          "4633458b-17de-408a-b874-0445c86b69e6",
          scope,
        ),
        principalId: fakeIdentity("spire-federation-entra-payments-api").principalId,
        principalType: "ServicePrincipal",
        roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
        scope,
      });
      expect(kv.rawInputs.roleAssignmentName).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    });
  });

  describe("Google Cloud", () => {
    it("creates the pool and both providers with subject mapping and trust-domain condition", () => {
      expect(
        find(run, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool").rawInputs,
      ).toMatchObject({
        project: "acme-platform-prod",
        workloadIdentityPoolId: "spiffe-prod",
      });
      const oidc = byName(run, "spire-federation-gcp-oidc").rawInputs;
      expect(oidc).toMatchObject({
        workloadIdentityPoolId: "spiffe-prod",
        workloadIdentityPoolProviderId: "spire-oidc",
        attributeMapping: { "google.subject": "assertion.sub" },
        attributeCondition: `assertion.sub.startsWith("spiffe://${TD}/")`,
        oidc: {
          issuerUri: `https://oidc.${TD}`,
          allowedAudiences: [`${POOL}/providers/spire-oidc`],
        },
      });
      const x509 = byName(run, "spire-federation-gcp-x509").rawInputs as any;
      expect(x509).toMatchObject({
        workloadIdentityPoolProviderId: "spire-x509",
        attributeMapping: { "google.subject": "assertion.san.uri" },
        attributeCondition: `assertion.san.uri.startsWith("spiffe://${TD}/")`,
      });
      expect(x509.x509.trustStore.trustAnchors).toHaveLength(1);
      expect(x509.x509.trustStore.trustAnchors[0].pemCertificate).toContain("BEGIN CERTIFICATE");
    });

    it("grants project roles to the workload's principal by project number", () => {
      const members = all(run, "gcp:projects/iAMMember:IAMMember").map((m) => m.rawInputs);
      expect(members).toEqual(
        expect.arrayContaining([
          {
            project: "acme-analytics-prod",
            role: "roles/bigquery.dataViewer",
            member: `principal://iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod/subject/spiffe://${TD}/ns/finance/sa/ledger`,
          },
          {
            project: "acme-platform-prod",
            role: "roles/storage.objectViewer",
            member: `principal://iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod/subject/spiffe://${TD}/workloads/batch-reports`,
          },
        ]),
      );
      expect(members).toHaveLength(4);
    });
  });

  it("no Entra or Google Cloud resource waits on a Kubernetes resource", () => {
    const k8s = new Set(
      run.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.urn),
    );
    const cloud = run.resources.filter(
      (r) => r.custom && (r.type.startsWith("azure-native:") || r.type.startsWith("gcp:")),
    );
    expect(cloud.length).toBe(17);
    for (const r of cloud) {
      const waits = [...transitiveDependencies(run, r.urn)].filter((d) => k8s.has(d));
      expect(waits, r.name).toEqual([]);
    }
  });

  it("outputs what each workload needs", () => {
    const fed = run.outputs.federation as any;
    expect(fed["orders-worker"]).toEqual({
      vault: { role: "orders-worker", loginPath: "auth/spire-jwt/login", audience: "vault" },
      azure: fakeIdentity("spire-federation-entra-orders-worker"),
      openziti: {
        ztAPI: "https://ziti.prod.example.com:1280/edge/client/v1",
        // No controllerCaPem: the controller is publicly trusted, so no `ca` file is named.
        id: {
          cert: "file:///run/spiffe/certs/svid.pem",
          key: "file:///run/spiffe/certs/svid_key.pem",
        },
      },
    });
    expect(fed["batch-reports"].azure).toEqual(
      fakeIdentity("spire-federation-entra-finance-reporting"),
    );
    expect(fed.ledger.azure).toEqual(fed["batch-reports"].azure);
    expect(fed["batch-reports"].gcp.principal).toBe(
      `principal://iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod/subject/spiffe://${TD}/workloads/batch-reports`,
    );
    expect(fed["batch-reports"].gcp.audiences).toEqual({
      oidc: `${POOL}/providers/spire-oidc`,
      x509: `${POOL}/providers/spire-x509`,
    });
    expect(JSON.parse(fed["batch-reports"].gcp.credentialConfigs.oidc)).toEqual(
      oidcCredentialConfig(`${POOL}/providers/spire-oidc`),
    );
    expect(fed["orders-worker"].gcp).toBeUndefined();
  });
});

describe("Google's external_account credential configuration, field by field", () => {
  const aud = `${POOL}/providers/spire-oidc`;
  it("OIDC: a file-sourced JWT-SVID", () => {
    const c = oidcCredentialConfig(aud);
    expect(Object.keys(c).sort()).toEqual([
      "audience",
      "credential_source",
      "subject_token_type",
      "token_url",
      "type",
      "universe_domain",
    ]);
    expect(c.type).toBe("external_account");
    expect(c.universe_domain).toBe("googleapis.com");
    expect(c.audience).toMatch(
      /^\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/,
    );
    expect(c.subject_token_type).toBe("urn:ietf:params:oauth:token-type:jwt");
    expect(c.token_url).toBe("https://sts.googleapis.com/v1/token");
    expect(c.credential_source).toEqual({
      file: "/run/spiffe/certs/gcp-jwt-svid.token",
      format: { type: "text" },
    });
  });
  it("X.509: a certificate source over mTLS", () => {
    const c = x509CredentialConfig(`${POOL}/providers/spire-x509`);
    expect(Object.keys(c).sort()).toEqual([
      "audience",
      "credential_source",
      "subject_token_type",
      "token_url",
      "type",
      "universe_domain",
    ]);
    expect(c.subject_token_type).toBe("urn:ietf:params:oauth:token-type:mtls");
    expect(c.token_url).toBe("https://sts.mtls.googleapis.com/v1/token");
    expect(c.credential_source).toEqual({
      certificate: {
        certificate_config_location: "/run/spiffe/config/gcp-certificate-config.json",
        trust_chain_path: "/run/spiffe/certs/svid.pem",
      },
    });
    expect(x509CertificateConfig()).toEqual({
      cert_configs: {
        workload: {
          cert_path: "/run/spiffe/certs/svid.pem",
          key_path: "/run/spiffe/certs/svid_key.pem",
        },
      },
    });
  });
});

describe("dev stack: Vault only", () => {
  it("has Vault resources and no Azure or Google Cloud ones", async () => {
    const run = await runStackFile("dev");
    expect(
      run.resources.some((r) => r.type.startsWith("azure-native:") || r.type.startsWith("gcp:")),
    ).toBe(false);
    expect(
      all(run, "vault:jwt/authBackendRole:AuthBackendRole").map((r) => r.rawInputs.boundAudiences),
    ).toEqual([["vault"], ["vault-dev"]]);
    expect(
      find(run, "vault:jwt/authBackendRole:AuthBackendRole", "orders-worker").rawInputs.tokenTtl,
    ).toBe(1800);
  });
});

// ---------------------------------------------------------------------------------------------

function fedConfig(): Record<string, any> {
  const c: Record<string, any> = baseConfig();
  c.vault = { policies: { read: 'path "secret/*" { capabilities = ["read"] }' } };
  c.azure = { resourceGroupName: "rg-x", location: "westeurope" };
  c.gcp = { project: "acme-test-1", projectNumber: "123456789", poolId: "spiffe-test" };
  c.workloads[0].vault = { policies: ["read"] };
  c.workloads[0].azure = {
    roleAssignments: [{ role: "Reader", scope: `/subscriptions/${SUB}/resourceGroups/rg-x` }],
  };
  c.workloads[0].gcp = { roles: [{ role: "roles/storage.objectViewer" }] };
  return c;
}

function problemsOf(
  raw: Record<string, unknown>,
  opts: { azureSubscriptionId?: string } = { azureSubscriptionId: SUB },
): string[] {
  try {
    parseStackConfig(raw, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

const badFederation: [string, (c: Record<string, any>) => void, string[]][] = [
  [
    "an undeclared Vault policy",
    (c) => (c.workloads[0].vault.policies = ["read", "nope"]),
    [
      'spire-federation:workloads[0].vault.policies[1]: policy "nope" is not declared in spire-federation:vault.policies',
    ],
  ],
  [
    "Vault grants without the vault block",
    (c) => delete c.vault,
    ["spire-federation:workloads[0].vault: needs the spire-federation:vault block"],
  ],
  [
    "a Vault path with a trailing slash",
    (c) => (c.vault.path = "spire-jwt/"),
    [
      "spire-federation:vault.path: must be a Vault mount path such as spire-jwt (letters, digits, . _ - and inner /)",
    ],
  ],
  [
    "Azure grants with an EC CA key",
    (c) => (c.spire = { caKeyType: "ec-p256" }),
    [
      "spire-federation:spire.caKeyType: must be rsa-2048 or rsa-4096 while workloads have Azure grants: Entra ID accepts RS256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p256)",
    ],
  ],
  [
    "Azure with the discovery endpoint on SPIRE's own TLS",
    (c) => {
      c.oidc.tls = { spire: true };
      delete c.gcp;
      delete c.workloads[0].gcp;
    },
    [
      "spire-federation:oidc.tls: Entra ID fetches the discovery document itself and needs a publicly trusted certificate: use acme or secretName, not spire",
    ],
  ],
  [
    "a subject over 600 characters",
    (c) => {
      c.workloads[0].spiffeIdPath = "/" + "a".repeat(620);
      c.workloads[0].podLabels = { app: "api" };
      delete c.workloads[0].gcp;
    },
    [
      "spire-federation:workloads[0]: SPIFFE ID is 646 characters; Entra accepts at most 600 in a federated credential subject",
    ],
  ],
  [
    "a scope that is not a resource ID",
    (c) => (c.workloads[0].azure.roleAssignments[0].scope = "rg-x"),
    [
      "spire-federation:workloads[0].azure.roleAssignments[0].scope: must be an Azure resource ID such as /subscriptions/<id>/resourceGroups/<group>",
    ],
  ],
  [
    "an unknown role name",
    (c) => (c.workloads[0].azure.roleAssignments[0].role = "Owner-ish"),
    [
      "spire-federation:workloads[0].azure.roleAssignments[0].role: must be a built-in role name the package knows (Reader, Contributor, Storage Blob Data Reader, Storage Blob Data Contributor, Key Vault Secrets User, Key Vault Crypto User, AcrPull) or a role definition GUID",
    ],
  ],
  [
    "21 credentials on one identity",
    (c) => {
      c.workloads = Array.from({ length: 21 }, (_, i) => ({
        name: `w${i}-app`,
        namespace: "ns",
        serviceAccount: `sa${i}`,
        azure: { identity: "shared", roleAssignments: [] },
      }));
    },
    [
      'spire-federation:workloads[20].azure.identity: identity "shared" would have more than 20 federated credentials; Entra allows at most 20',
    ],
  ],
  [
    "a workload name too short for a credential name",
    (c) => (c.workloads[0].name = "ab"),
    [
      "spire-federation:workloads[0].name: must be 3–120 characters of letters, digits, - and _, starting with a letter or digit (it names the Entra federated credential)",
    ],
  ],
  [
    "a pool ID starting gcp-",
    (c) => (c.gcp.poolId = "gcp-spiffe"),
    [
      'spire-federation:gcp.poolId: must be 4–32 characters of lowercase letters, digits and dashes, not starting with "gcp-"',
    ],
  ],
  [
    "a provider ID of 3 characters",
    (c) => (c.gcp.x509ProviderId = "x59"),
    [
      'spire-federation:gcp.x509ProviderId: must be 4–32 characters of lowercase letters, digits and dashes, not starting with "gcp-"',
    ],
  ],
  [
    "a SPIFFE ID over 127 characters with GCP grants",
    (c) => {
      c.workloads[0].spiffeIdPath = "/" + "b".repeat(120);
      c.workloads[0].podLabels = { app: "api" };
      delete c.workloads[0].azure;
    },
    [
      'spire-federation:workloads[0]: SPIFFE ID of workload "api" is 146 characters; Google Cloud limits google.subject to 127',
    ],
  ],
  [
    "GCP OIDC with the discovery endpoint on SPIRE's own TLS",
    (c) => {
      c.oidc.tls = { spire: true };
      delete c.azure;
      delete c.workloads[0].azure;
    },
    [
      "spire-federation:gcp.oidc: Google Cloud fetches the discovery document itself and needs a publicly trusted certificate: set oidc.tls to acme or secretName, or gcp.oidc to false",
    ],
  ],
  [
    "a GCP role without roles/",
    (c) => (c.workloads[0].gcp.roles[0].role = "storage.admin"),
    [
      "spire-federation:workloads[0].gcp.roles[0].role: must be an IAM role such as roles/storage.objectViewer or projects/<p>/roles/<custom>",
    ],
  ],
  [
    "a project number that is not a number",
    (c) => (c.gcp.projectNumber = "acme"),
    ["spire-federation:gcp.projectNumber: must be the numeric project number"],
  ],
  [
    "a project number that is not a string or a number",
    (c) => (c.gcp.projectNumber = true),
    ["spire-federation:gcp.projectNumber: must be the numeric project number"],
  ],
  [
    "GCP grants without the gcp block",
    (c) => delete c.gcp,
    ["spire-federation:workloads[0].gcp: needs the spire-federation:gcp block"],
  ],
  [
    "Google Cloud OIDC with a P-384 CA key (ES384)",
    (c) => {
      c.spire = { caKeyType: "ec-p384" };
      delete c.azure;
      delete c.workloads[0].azure;
    },
    [
      "spire-federation:spire.caKeyType: must be rsa-2048, rsa-4096 or ec-p256 while gcp.oidc is on: Google Cloud's STS accepts RS256 and ES256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p384)",
    ],
  ],
  [
    "Google Cloud OIDC and Entra with a P-384 CA key",
    (c) => (c.spire = { caKeyType: "ec-p384" }),
    [
      "spire-federation:spire.caKeyType: must be rsa-2048 or rsa-4096 while workloads have Azure grants: Entra ID accepts RS256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p384)",
      "spire-federation:spire.caKeyType: must be rsa-2048, rsa-4096 or ec-p256 while gcp.oidc is on: Google Cloud's STS accepts RS256 and ES256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p384)",
    ],
  ],
  [
    "Vault's reserved policy name root",
    (c) => (c.vault.policies.root = 'path "*" { capabilities = ["sudo"] }'),
    [
      "spire-federation:vault.policies.root: is Vault's built-in root policy, which cannot be written: choose another name",
    ],
  ],
  [
    "Vault's default policy, in any case",
    (c) => (c.vault.policies.Default = 'path "x" { capabilities = ["read"] }'),
    [
      "spire-federation:vault.policies.Default: is Vault's built-in default policy, attached to every token; writing it would change every token's rights: choose another name",
    ],
  ],
  [
    "a Vault policy name with a space",
    (c) => (c.vault.policies["payments read"] = 'path "z" { capabilities = ["read"] }'),
    ["spire-federation:vault.policies.payments read: must be letters, digits, . _ or -"],
  ],
  [
    "Vault policies equal but for case",
    (c) => (c.vault.policies.Read = 'path "y" { capabilities = ["read"] }'),
    [
      'spire-federation:vault.policies.Read: equals policy "read" but for case; Vault stores policy names in lowercase: rename one',
    ],
  ],
  [
    "a Vault token TTL under a second",
    (c) => (c.workloads[0].vault.tokenTtl = "500ms"),
    [
      "spire-federation:workloads[0].vault.tokenTtl: must be a whole number of seconds, at least 1s; Vault takes token_ttl in whole seconds",
    ],
  ],
  [
    "a fractional Vault token TTL",
    (c) => (c.workloads[0].vault.tokenTtl = "1.5s"),
    [
      "spire-federation:workloads[0].vault.tokenTtl: must be a whole number of seconds, at least 1s; Vault takes token_ttl in whole seconds",
    ],
  ],
  [
    "a Vault path with a .. segment",
    (c) => (c.vault.path = "auth/../sys"),
    [
      "spire-federation:vault.path: must not have . or .. segments; Vault would resolve them to another path",
    ],
  ],
  [
    "a Vault path with a . segment",
    (c) => (c.vault.path = "spire/./jwt"),
    [
      "spire-federation:vault.path: must not have . or .. segments; Vault would resolve them to another path",
    ],
  ],
  [
    "an Entra audience other than api://AzureADTokenExchange",
    (c) => (c.azure.audience = "api://my-app"),
    [
      "spire-federation:azure.audience: must be api://AzureADTokenExchange, the audience Entra ID expects in federated tokens: remove the key",
    ],
  ],
  [
    "Azure identities equal but for case",
    (c) => {
      c.workloads[0].azure.identity = "Finance";
      c.workloads[1].azure = { identity: "finance", roleAssignments: [] };
    },
    [
      'spire-federation:workloads[1].azure.identity: names identity "finance", which equals "Finance" (workloads[0]) but for case; Azure resource names are case-insensitive: spell it the same way',
    ],
  ],
  [
    "an Azure identity equal to another workload's default identity but for case",
    (c) => (c.workloads[1].azure = { identity: "API", roleAssignments: [] }),
    [
      'spire-federation:workloads[1].azure.identity: names identity "API", which equals "api" (workloads[0]) but for case; Azure resource names are case-insensitive: spell it the same way',
    ],
  ],
  [
    "a GCP grant in an invalid project",
    (c) => (c.workloads[0].gcp.roles[0].project = "Acme_Analytics"),
    [
      "spire-federation:workloads[0].gcp.roles[0].project: must be a project ID: 6–30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
    ],
  ],
  [
    "a GCP grant in a project ID ending with a hyphen",
    (c) => (c.workloads[0].gcp.roles[0].project = "acme-analytics-"),
    [
      "spire-federation:workloads[0].gcp.roles[0].project: must be a project ID: 6–30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
    ],
  ],
  [
    "an unquoted project number past 2^53",
    (c) => (c.gcp.projectNumber = JSON.parse("12345678901234567890")),
    [
      "spire-federation:gcp.projectNumber: is an unquoted number past 2^53 that lost digits when parsed: quote it",
    ],
  ],
  [
    "a fractional project number",
    (c) => (c.gcp.projectNumber = 1234567.5),
    ["spire-federation:gcp.projectNumber: must be the numeric project number"],
  ],
];

describe("federation config errors", () => {
  it.each(badFederation)("%s", (_n, mutate, expected) => {
    const c = fedConfig();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("requires azure-native:subscriptionId with the azure block", () => {
    expect(problemsOf(fedConfig(), {})).toEqual([
      "azure-native:subscriptionId: required when spire-federation:azure is set (pulumi config set azure-native:subscriptionId <id>)",
    ]);
  });

  it("rejects an azure-native:subscriptionId that is not a GUID", () => {
    expect(problemsOf(fedConfig(), { azureSubscriptionId: "my-subscription" })).toEqual([
      "azure-native:subscriptionId: must be a subscription ID, a GUID such as 3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93 (az account show --query id)",
    ]);
  });

  it("accepts an unquoted project number below 2^53, as a string", () => {
    const c = fedConfig();
    c.gcp.projectNumber = 482915736204;
    expect(parseStackConfig(c, { azureSubscriptionId: SUB }).gcp?.projectNumber).toBe(
      "482915736204",
    );
  });

  it("a P-384 CA key is fine with GCP X.509 only, and P-256 with GCP OIDC", () => {
    const c = fedConfig();
    delete c.azure;
    delete c.workloads[0].azure;
    c.spire = { caKeyType: "ec-p384" };
    c.gcp.oidc = false;
    expect(parseStackConfig(c).spire.caKeyType).toBe("ec-p384");
    c.spire = { caKeyType: "ec-p256" };
    c.gcp.oidc = true;
    expect(parseStackConfig(c).spire.caKeyType).toBe("ec-p256");
  });

  it("Vault token TTLs in whole seconds pass", () => {
    const c = fedConfig();
    c.workloads[0].vault.tokenTtl = "1500ms";
    expect(problemsOf(c)).toHaveLength(1);
    c.workloads[0].vault.tokenTtl = "2000ms";
    expect(
      parseStackConfig(c, { azureSubscriptionId: SUB }).workloads[0].vault?.tokenTtlSeconds,
    ).toBe(2);
  });

  it("GCP OIDC can be switched off to keep SPIRE's own TLS for X.509 federation", () => {
    const c = fedConfig();
    c.oidc.tls = { spire: true };
    delete c.azure;
    delete c.workloads[0].azure;
    c.gcp.oidc = false;
    expect(parseStackConfig(c, { azureSubscriptionId: SUB }).gcp).toMatchObject({
      oidc: false,
      x509: true,
      oidcProviderId: "spire-oidc",
      x509ProviderId: "spire-x509",
    });
  });

  it("the program fails the same way before registering anything", async () => {
    const c = fedConfig();
    c.gcp.poolId = "gcp-x";
    await expect(
      runRaw(c, { extraConfig: { "azure-native:subscriptionId": SUB } }),
    ).rejects.toThrow(
      'spire-federation:gcp.poolId: must be 4–32 characters of lowercase letters, digits and dashes, not starting with "gcp-"',
    );
  });
});

describe("a staging ACME server: certificates no relying party trusts", () => {
  const STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";
  const staging = (c: Record<string, any>, server = STAGING) =>
    (c.oidc.tls = { acme: { email: "ops@example.com", server } });
  const onlyVault = () => {
    const c = fedConfig();
    delete c.azure;
    delete c.gcp;
    delete c.workloads[0].azure;
    delete c.workloads[0].gcp;
    return c;
  };
  const VAULT_STAGING =
    "is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; Vault and its readiness gate fetch the discovery document: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or vault.discoveryCaPem to the staging root (a CA whose subject says STAGING or TEST, e.g. Let's Encrypt's \"(STAGING) Pretend Pear X1\")";
  let stagingRoot: string;
  let otherRoot: string;
  beforeAll(async () => {
    stagingRoot = (
      await makeCertificate({
        subject: "C=US, O=(STAGING) Internet Security Research Group, CN=(STAGING) Pretend Pear X1",
        ca: true,
      })
    ).pem;
    otherRoot = (await makeCertificate({ subject: "CN=Example Corp Root CA", ca: true })).pem;
  });

  it("Vault without the staging root", () => {
    const c = onlyVault();
    staging(c);
    expect(problemsOf(c)).toEqual([`spire-federation:oidc.tls.acme.server: ${VAULT_STAGING}`]);
    c.vault.discoveryCaPem = otherRoot;
    expect(problemsOf(c)).toEqual([`spire-federation:oidc.tls.acme.server: ${VAULT_STAGING}`]);
  });

  it("Vault with the staging root in vault.discoveryCaPem (alone or in a bundle)", () => {
    const c = onlyVault();
    staging(c);
    c.vault.discoveryCaPem = stagingRoot;
    expect(parseStackConfig(c).oidc.tls).toEqual({
      kind: "acme",
      email: "ops@example.com",
      server: STAGING,
    });
    c.vault.discoveryCaPem = `${otherRoot}\n${stagingRoot}`;
    expect(parseStackConfig(c).vault?.discoveryCaPem).toBe(`${otherRoot}\n${stagingRoot}`);
  });

  it("other CAs' staging and test directories", () => {
    for (const [server, host] of [
      ["https://dv.acme-v02.test-api.pki.goog/directory", "dv.acme-v02.test-api.pki.goog"],
      ["https://api.test4.buypass.no/acme/directory", "api.test4.buypass.no"],
      ["https://acme.staging.example.net/directory", "acme.staging.example.net"],
    ]) {
      const c = onlyVault();
      staging(c, server);
      expect(problemsOf(c)).toEqual([
        `spire-federation:oidc.tls.acme.server: ${VAULT_STAGING.replace("acme-staging-v02.api.letsencrypt.org", host)}`,
      ]);
    }
  });

  it("production directories pass, and staging passes when nothing fetches the endpoint", () => {
    for (const server of [
      "https://acme-v02.api.letsencrypt.org/directory",
      "https://acme.zerossl.com/v2/DV90",
      "https://dv.acme-v02.api.pki.goog/directory",
      "https://api.buypass.com/acme/directory",
      "https://acme.contest-ca.example.com/directory",
    ]) {
      const c = onlyVault();
      staging(c, server);
      expect(parseStackConfig(c).oidc.tls).toMatchObject({ server });
    }
    const bare = baseConfig();
    staging(bare);
    expect(parseStackConfig(bare).oidc.tls).toMatchObject({ server: STAGING });
  });

  it("Entra and Google Cloud OIDC outright (a staging root in Vault's CA does not help them)", () => {
    const c = fedConfig();
    staging(c);
    c.vault.discoveryCaPem = stagingRoot;
    expect(problemsOf(c)).toEqual([
      "spire-federation:oidc.tls.acme.server: is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; Entra ID fetches the discovery document itself and needs a publicly trusted certificate: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default)",
      "spire-federation:oidc.tls.acme.server: is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; Google Cloud fetches the discovery document itself and needs a publicly trusted certificate: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or gcp.oidc to false",
    ]);
    delete c.azure;
    delete c.workloads[0].azure;
    c.gcp.oidc = false;
    expect(parseStackConfig(c, { azureSubscriptionId: SUB }).gcp?.oidc).toBe(false);
  });

  it("the dev stack as shipped before (Let's Encrypt staging, Vault) is refused", async () => {
    const dev = readFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
    expect(dev).not.toContain("acme-staging");
    const email = "        email: platform-team@example.com\n";
    const before = dev.replace(email, `${email}        server: ${STAGING}\n`);
    expect(before).toContain(STAGING);
    const dir = mkdtempSync(path.join(tmpdir(), "stacks-"));
    writeFileSync(path.join(dir, "Pulumi.dev.yaml"), before);
    await expect(planStack("dev", dir)).rejects.toThrow(
      `spire-federation:oidc.tls.acme.server: ${VAULT_STAGING}`,
    );
  });
});

describe("components validate their own args", () => {
  const entraArgs = {
    issuerUrl: "https://oidc.example.com",
    audience: "api://AzureADTokenExchange",
    resourceGroupName: "rg",
    location: "westeurope",
    subscriptionId: SUB,
    identities: [
      {
        name: "app",
        credentials: [{ name: "app", subject: "spiffe://td/app" }],
        roleAssignments: [],
      },
    ],
  };

  it("Entra: issuer length, wildcards, duplicate subjects, credential count", () => {
    expect(entraArgsProblems(entraArgs)).toEqual([]);
    expect(entraArgsProblems({ ...entraArgs, issuerUrl: "https://" + "h".repeat(600) })).toEqual([
      "issuer is 608 characters; Entra accepts at most 600",
    ]);
    const creds = Array.from({ length: 21 }, (_, i) => ({
      name: `cred${i}`,
      subject: `spiffe://td/w${i}`,
    }));
    expect(
      entraArgsProblems({
        ...entraArgs,
        identities: [{ name: "app", credentials: creds, roleAssignments: [] }],
      }),
    ).toEqual(["identity app has 21 federated credentials; Entra allows at most 20"]);
    expect(
      entraArgsProblems({
        ...entraArgs,
        identities: [
          {
            name: "app",
            credentials: [
              { name: "one", subject: "spiffe://td/*" },
              { name: "two", subject: "spiffe://td/*" },
            ],
            roleAssignments: [],
          },
        ],
      }),
    ).toEqual([
      "subject of one contains a wildcard; Entra matches issuer and subject exactly",
      "subject of two contains a wildcard; Entra matches issuer and subject exactly",
      "identity app trusts subject spiffe://td/* twice",
    ]);
  });

  it("Entra: the component throws before registering", () => {
    expect(() => new EntraFederation("bad", { ...entraArgs, audience: "" })).toThrow(
      "EntraFederation bad: audience must be one exact value",
    );
  });

  it("Vault and GCP problem lists", () => {
    expect(
      vaultArgsProblems({
        issuerUrl: "https://x.example.com",
        path: "jwt",
        policies: {},
        roles: [{ name: "a", spiffeId: "spiffe://td/a", audience: "", policies: ["p"] }],
        waitFor: [],
      }),
    ).toEqual(["role a: audience must not be empty", 'role a: policy "p" is not declared']);
    expect(
      gcpArgsProblems({
        project: "p",
        projectNumber: "12x",
        poolId: "pool",
        oidcProviderId: "oidc",
        x509ProviderId: "x509",
        oidc: true,
        x509: true,
        issuerUrl: "http://x",
        trustDomain: "td",
        rootCaPem: pulumi.output(""),
        grants: [],
      }),
    ).toEqual(["project number must be digits", "OIDC issuer must be an https:// URL"]);
  });
});
