/** Stack configs with every cloud relying party, and the problems the parser reports for them. */
import { expect } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import type { ProgramRun } from "../../tools/harness";
import { baseConfig, makeCertificate } from "../fixtures";
import { computedOutputs, runStackFile } from "../helpers";

/** The Azure subscription the federation configs use. */
export const SUB = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";

/** A base stack config with Vault, Azure and Google Cloud blocks and one workload granted each. */
export function fedConfig(): Record<string, any> {
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

/** The problems parseStackConfig reports for `raw` (fails the test if it accepts it). */
export function problemsOf(
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

/** The prod stack planned under mocks, with a real generated root as the mocked root PEM. */
export async function planProdStack(): Promise<ProgramRun> {
  const root = await makeCertificate({ subject: "CN=unused", ca: true });
  return runStackFile("prod", computedOutputs(root.pem, ""));
}
