/** Relying parties cannot tell a node workload from a pod: the same grants, the same subjects. */
import { describe, expect, it } from "vitest";
import type { ProgramRun } from "../../tools/harness";
import { makeCertificate, pkcs8Pem } from "../fixtures";
import { withNodes } from "../support/stack-fixtures";
import { all, computedOutputs, runRaw } from "../helpers";

const ENTRY = "kubernetes:spire.spiffe.io/v1alpha1:ClusterStaticEntry";

const CSID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";

/** Mock outputs with a real generated root (made once). */
let rootMocks: Promise<ReturnType<typeof computedOutputs>> | undefined;
function withRoot(): Promise<ReturnType<typeof computedOutputs>> {
  rootMocks ??= makeCertificate({ subject: "CN=test root CA", ca: true }).then(async (root) =>
    computedOutputs(root.pem, await pkcs8Pem(root.keys.privateKey)),
  );
  return rootMocks;
}

describe("relying parties cannot tell a node workload from a pod", () => {
  const SUB = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
  const grants = {
    vault: { policies: ["read"] },
    azure: {
      roleAssignments: [{ role: "Reader", scope: `/subscriptions/${SUB}/resourceGroups/rg` }],
    },
    gcp: { roles: [{ role: "roles/storage.objectViewer" }] },
    openziti: { roleAttributes: ["edge"] },
  };
  const config = (workload: Record<string, unknown>) => {
    const c = withNodes();
    c.workloads = [{ name: "edge-app", spiffeIdPath: "/edge/app", ...workload, ...grants }];
    c.vault = { policies: { read: 'path "secret/*" { capabilities = ["read"] }' } };
    c.azure = { resourceGroupName: "rg-x", location: "westeurope" };
    c.gcp = { project: "acme-edge-prod", projectNumber: "731640529817", poolId: "spiffe-edge" };
    c.openziti = {
      controllerUrl: "https://ziti.example.com:1280",
      username: "admin",
      password: "pw",
      jwt: true,
    };
    return c;
  };
  const run = async (workload: Record<string, unknown>) =>
    runRaw(config(workload), {
      secretKeys: ["openziti"],
      extraConfig: { "azure-native:subscriptionId": SUB },
      computed: await withRoot(),
    });

  it("gives both the same resources, inputs, edges and outputs in Vault, Azure, GCP and OpenZiti", async () => {
    const pod = await run({ namespace: "edge", serviceAccount: "app", podLabels: { app: "edge" } });
    const node = await run({ node: "vm-2", unix: { user: "app" } });
    const byUrn = (r: ProgramRun) => new Map(r.resources.map((x) => [x.urn, x.name]));
    const partyResources = (r: ProgramRun) => {
      const names = byUrn(r);
      return (
        r.resources
          .filter(
            (x) =>
              /^(vault|azure-native|gcp|pulumi-nodejs:dynamic\/openziti|command):/.test(x.type) ||
              x.type.startsWith("spire-federation:federation:") ||
              x.name.startsWith("spire-federation-openziti-"),
          )
          .map((x) => ({
            type: x.type,
            name: x.name,
            parent: x.parent === null ? null : names.get(x.parent),
            inputs: x.inputs,
            dependencies: x.dependencies.map((d) => names.get(d)).sort(),
          }))
          // Registration order follows promise resolution, which is not part of the contract.
          .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`))
      );
    };
    const p = partyResources(pod);
    // Every relying party is in the comparison.
    for (const prefix of ["vault:", "azure-native:", "gcp:", "pulumi-nodejs:dynamic/openziti:"]) {
      expect(
        p.some((x) => x.type.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    expect(p.length).toBeGreaterThan(15);
    expect(partyResources(node)).toEqual(p);
    expect(node.outputs.federation).toEqual(pod.outputs.federation);
    expect(node.outputs.workloads).toEqual({ "edge-app": "spiffe://test.example.com/edge/app" });
    expect(pod.outputs.workloads).toEqual(node.outputs.workloads);
    // Only the registration differs: a ClusterSPIFFEID for the pod, a ClusterStaticEntry for the node.
    expect(all(pod, CSID).map((r) => r.name)).toEqual(["spire-federation-spire-id-edge-app"]);
    expect(all(pod, ENTRY)).toEqual([]);
    expect(all(node, CSID)).toEqual([]);
    expect(all(node, ENTRY).map((r) => r.name)).toEqual(["spire-federation-nodes-entry-edge-app"]);
  });
});
