/**
 * One audience rule for every party: an audience spiffe-helper's HCL cannot hold (`${`, control
 * characters) is refused by the schema at its key path, not thrown by the component later.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { decode } from "../../program";
import { loadStackConfig } from "../../tools/stack-config";
import { ROOT } from "../helpers";

/** The raw config of a stack of this repository, as the program reads it. */
function rawOf(stack: string): Record<string, unknown> {
  const { config } = loadStackConfig(ROOT, stack);
  return Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("spire-federation:"))
      .map(([k, v]) => [k.slice("spire-federation:".length), decode(v)]),
  );
}

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw, { azureSubscriptionId: "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93" });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const DOLLAR = "must not contain ${ (spiffe-helper's HCL parser reads it as an interpolation)";
const CONTROL = "must not contain control characters";

describe("audiences the helper config cannot hold", () => {
  it.each([
    ["vault-${env}", DOLLAR],
    ["vault\nx", CONTROL],
    ["vault\u007f", CONTROL],
  ])("a Vault grant's audience %j", (audience, why) => {
    const raw = rawOf("dev");
    const workloads = raw.workloads as { vault: Record<string, unknown> }[];
    workloads[1].vault.audience = audience;
    expect(problemsOf(raw)).toEqual([`spire-federation:workloads[1].vault.audience: ${why}`]);
  });

  it("the OpenZiti block's audience", () => {
    const raw = rawOf("prod");
    expect(raw.openziti).toBeDefined();
    (raw.openziti as Record<string, unknown>).audience = "ziti-${x}";
    expect(problemsOf(raw)).toContain(`spire-federation:openziti.audience: ${DOLLAR}`);
  });

  it("Curity's token endpoint, the audience of its JWT-SVIDs", () => {
    const raw = rawOf("curity");
    (raw.curity as Record<string, unknown>).tokenEndpoint =
      "https://login.example.com/oauth/${x}/token";
    expect(problemsOf(raw)).toContain(`spire-federation:curity.tokenEndpoint: ${DOLLAR}`);
  });
});
