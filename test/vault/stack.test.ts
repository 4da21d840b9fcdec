/** Vault in the example stacks: the gate, the JWT backend, roles and their edges. */
import { beforeAll, describe, expect, it } from "vitest";
import type { ProgramRun } from "../../tools/harness";
import { all, byName, find, runStackFile, transitiveDependencies } from "../helpers";
import { planProdStack } from "../support/federation-config";

const TD = "prod.spiffe.example.com";
describe("prod stack", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await planProdStack();
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
      for (const role of Object.values<{ dependencies: string[] }>(roles)) {
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
