/** The prod stack's relying parties together: no cloud resource waits on Kubernetes; outputs. */
import { beforeAll, describe, expect, it } from "vitest";
import { oidcCredentialConfig } from "../../components/federation/gcp/component";
import type { ProgramRun } from "../../tools/harness";
import { fakeIdentity, transitiveDependencies } from "../helpers";
import { planProdStack } from "../support/federation-config";

const TD = "prod.spiffe.example.com";
const POOL =
  "//iam.googleapis.com/projects/482915736204/locations/global/workloadIdentityPools/spiffe-prod";

describe("prod stack", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await planProdStack();
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
