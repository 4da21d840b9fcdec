/** The generated stacks of the benchmark's scale runs. */
import { stringify } from "yaml";

/** The core and Vault of every generated stack (config keys with their namespace). */
export const BENCH_CORE = {
  "spire-federation:trustDomain": "bench.spiffe.example.com",
  "spire-federation:clusterName": "bench",
  "spire-federation:oidc": {
    host: "oidc.bench.spiffe.example.com",
    ingressClassName: "nginx",
    tls: { acme: { email: "ops@example.com" } },
  },
  "spire-federation:ca": { mode: "generated" },
  "spire-federation:vault": {
    policies: { read: 'path "secret/*" { capabilities = ["read"] }' },
  },
};

/**
 * The shared Roles Anywhere role of workload `i`: its team's, one per 1000 workloads, so that no
 * role's trust policy (one SPIFFE ID per workload) passes IAM's 2048 characters at 3000 workloads.
 */
function x509Role(i: number): string {
  const batch = Math.floor(i / 1000);
  return batch === 0 ? `team-${i % 50}-x509` : `team-${i % 50}-x509-${batch}`;
}

/**
 * A stack config with `n` workloads, each with Vault, Azure, Google Cloud, OpenZiti and (unless
 * `aws` is false) AWS grants: three in four workloads get a role of their own by JWT-SVID with a
 * managed policy, every fourth shares its team's Roles Anywhere role (X509-SVID; one per 1000
 * workloads).
 */
export function generatedStack(n: number, { aws = true }: { aws?: boolean } = {}): string {
  const sub = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
  const workloads = Array.from({ length: n }, (_, i) => ({
    name: `svc-${i}`,
    namespace: `team-${i % 50}`,
    serviceAccount: `svc-${i}`,
    vault: { policies: ["read"] },
    azure: {
      roleAssignments: [
        {
          role: "Storage Blob Data Reader",
          scope: `/subscriptions/${sub}/resourceGroups/rg-team-${i % 50}`,
        },
      ],
    },
    gcp: { roles: [{ role: "roles/storage.objectViewer" }] },
    openziti: { roleAttributes: [`team-${i % 50}`] },
    ...(aws
      ? {
          aws:
            i % 4 === 3
              ? { auth: "x509", role: x509Role(i) }
              : { managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] },
        }
      : {}),
  }));
  return stringify({
    config: {
      "azure-native:subscriptionId": sub,
      ...BENCH_CORE,
      "spire-federation:azure": { resourceGroupName: "rg-bench", location: "westeurope" },
      "spire-federation:gcp": {
        project: "acme-bench",
        projectNumber: "123456789",
        poolId: "spiffe-bench",
      },
      "spire-federation:openziti": {
        controllerUrl: "https://ziti.bench.example.com",
        username: "admin",
        password: { secure: "v1:YmVuY2g=" },
        jwt: true,
      },
      ...(aws
        ? {
            "aws:region": "eu-west-1",
            "spire-federation:aws": { region: "eu-west-1", rolesAnywhere: {} },
          }
        : {}),
      "spire-federation:workloads": workloads,
    },
  });
}
