/** Entra ID in the prod stack: identities, federated credentials, role assignments. */
import { beforeAll, describe, expect, it } from "vitest";
import { deterministicGuid } from "../../components/federation/azure/component";
import type { ProgramRun } from "../../tools/harness";
import { all, byName, fakeIdentity } from "../helpers";
import { planProdStack, SUB } from "../support/federation-config";

const TD = "prod.spiffe.example.com";
describe("prod stack", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await planProdStack();
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
});
