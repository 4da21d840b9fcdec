/**
 * Each anchor is protected in the example stacks' plans (and nothing else is), the plan records
 * every resource's options, the root is never renewed early, and spire-crds goes before spire.
 */
import { describe, expect, it } from "vitest";
import { ANCHORS, anchorOf } from "../../components/anchors";
import { formatTree } from "../../tools/plan";
import type { Plan } from "../../tools/plan-types";
import { planOf } from "./plans";

const protectedNames = (p: Plan) =>
  p.resources.filter((r) => r.options?.protect).map((r) => `${r.type} ${r.name}`);

describe("anchors are protected in the plans", () => {
  it.each([
    [
      "dev",
      [
        "tls:index/privateKey:PrivateKey spire-federation-cert-manager-root-key",
        "tls:index/selfSignedCert:SelfSignedCert spire-federation-cert-manager-root-cert",
        "kubernetes:helm.sh/v3:Release spire-federation-spire-release",
        "vault:jwt/authBackend:AuthBackend spire-federation-vault-jwt",
        "pulumi-nodejs:dynamic/spire-federation:Anchors spire-federation-anchors",
      ],
    ],
    [
      "prod",
      [
        "kubernetes:helm.sh/v3:Release spire-federation-spire-release",
        "vault:jwt/authBackend:AuthBackend spire-federation-vault-jwt",
        "azure-native:managedidentity:UserAssignedIdentity spire-federation-entra-payments-api",
        "azure-native:managedidentity:UserAssignedIdentity spire-federation-entra-orders-worker",
        "azure-native:managedidentity:UserAssignedIdentity spire-federation-entra-finance-reporting",
        "gcp:iam/workloadIdentityPool:WorkloadIdentityPool spire-federation-gcp-pool",
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider spire-federation-gcp-oidc",
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider spire-federation-gcp-x509",
        "pulumi-nodejs:dynamic/openziti:Ca spire-federation-openziti-ca",
        "pulumi-nodejs:dynamic/spire-federation:Anchors spire-federation-anchors",
      ],
    ],
  ])("%s: exactly its anchors are protected", async (stack, expected) => {
    const plan = await planOf(stack);
    expect(protectedNames(plan).sort()).toEqual([...expected].sort());
    for (const r of plan.resources) {
      expect(r.options?.protect, r.name).toBe(anchorOf(r.type, r.name) !== undefined);
    }
  });

  it("curity: both trust store entries are protected", async () => {
    const plan = await planOf("curity");
    const stores = plan.resources.filter((r) => r.type.includes("TrustStore"));
    expect(stores.map((r) => [r.type, r.options?.protect]).sort()).toEqual([
      ["pulumi-nodejs:dynamic/curity:ClientTrustStore", true],
      ["pulumi-nodejs:dynamic/curity:ServerTrustStore", true],
    ]);
  });

  it("every anchor kind appears protected in some example stack", async () => {
    const plans = [];
    for (const s of ["dev", "prod", "curity"]) plans.push(await planOf(s));
    for (const kind of ANCHORS) {
      const found = plans
        .flatMap((p) => p.resources)
        .filter((r) => anchorOf(r.type, r.name) === kind);
      expect(found.length, kind.type).toBeGreaterThan(0);
      expect(found.every((r) => r.options?.protect)).toBe(true);
    }
  });

  it("the guard records the anchored values, and replaces on each", async () => {
    const prod = await planOf("prod");
    const guard = prod.resources.find((r) => r.name === "spire-federation-anchors");
    expect(guard?.inputs.anchors).toEqual({
      trustDomain: "prod.spiffe.example.com",
      issuer: "https://oidc.prod.spiffe.example.com",
      clusterName: expect.any(String),
      root: expect.stringMatching(/^[0-9a-f]{64}$/),
      vaultPath: expect.any(String),
      gcpPool: "acme-platform-prod/spiffe-prod",
      azureIdentities: "finance-reporting,orders-worker,payments-api",
    });
    expect(guard?.options).toEqual({
      protect: true,
      retainOnDelete: false,
      deleteBeforeReplace: false,
      replaceOnChanges: [
        "anchors.trustDomain",
        "anchors.issuer",
        "anchors.root",
        "anchors.clusterName",
        "anchors.vaultPath",
        "anchors.gcpPool",
      ],
      ignoreChanges: [],
    });
    expect(formatTree(prod)).toContain(
      "pulumi-nodejs:dynamic/spire-federation:Anchors  spire-federation-anchors  [protect; replaceOnChanges: anchors.trustDomain, anchors.issuer, anchors.root, anchors.clusterName, anchors.vaultPath, anchors.gcpPool]",
    );
  });

  it("the root is never renewed early; spire-crds goes before spire", async () => {
    const dev = await planOf("dev");
    const cert = dev.resources.find((r) => r.name.endsWith("-root-cert"));
    expect(cert?.inputs.earlyRenewalHours).toBe(0);
    const crds = dev.resources.find((r) => r.name === "spire-federation-spire-crds");
    const spire = dev.resources.find((r) => r.name === "spire-federation-spire-release");
    expect(spire?.dependencies).toContain(crds?.urn);
    const roleAssignment = (await planOf("prod")).resources.find((r) =>
      r.type.endsWith("RoleAssignment"),
    );
    expect(roleAssignment?.options?.deleteBeforeReplace).toBe(true);
  });
});
