/**
 * Config outside the project namespace: a republished provider key (`vault:address`,
 * `azure-native:subscriptionId`) must not be secure, a key unknown to a provider the package
 * reads and a misspelled project namespace are errors, and a stack-file key without a namespace
 * is refused as the Pulumi CLI refuses it.
 */
import { describe, expect, it } from "vitest";
import { loadStackConfig, SECRET_PLACEHOLDER, stackConfigFromYaml } from "../../tools/stack-config";
import { prepareProgram, runProgram } from "../compiled";
import { ROOT } from "../helpers";

/** Runs the program on the dev stack's config with `extra` added (secure ones as the plan has them). */
async function errorOf(extra: Record<string, string>, secure: string[] = []): Promise<string> {
  const { config, secretKeys } = loadStackConfig(ROOT, "dev");
  const secured = Object.fromEntries(secure.map((k) => [k, SECRET_PLACEHOLDER]));
  try {
    await runProgram(() => prepareProgram({ secretPaths: [] }), {
      project: "spire-federation",
      stack: "test",
      config: { ...config, ...extra, ...secured },
      secretKeys: [...secretKeys, ...secure],
      preview: true,
    });
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
}

describe("provider config the package reads", () => {
  it("a secure vault:address is refused, its value never quoted", async () => {
    const message = await errorOf({}, ["vault:address"]);
    expect(message).toContain(
      "vault:address: must not be secure; workloads get it as VAULT_ADDR in their plain environment (it is not a secret): set it with pulumi config set vault:address <url>",
    );
    expect(message).not.toContain(SECRET_PLACEHOLDER);
  });

  it("a secure azure-native:subscriptionId is refused the same way", async () => {
    const message = await errorOf({}, ["azure-native:subscriptionId"]);
    expect(message).toContain(
      "azure-native:subscriptionId: must not be secure; it is part of the role assignments' scopes, in plain in the plan and the state (it is not a secret): set it with pulumi config set azure-native:subscriptionId <id>",
    );
  });

  it("a key the vault provider does not know, with the one it meant", async () => {
    const message = await errorOf({ "vault:adress": "https://vault.example.com" });
    expect(message).toContain(
      "vault:adress: unknown key of the vault provider: did you mean vault:address",
    );
    expect(await errorOf({ "vault:zzzzzz": "x" })).toMatch(
      /^ {2}vault:zzzzzz: unknown key of the vault provider$/m,
    );
  });

  it("a misspelled project namespace names the key it meant", async () => {
    expect(await errorOf({ "spire-federaton:trustDomain": "x" })).toContain(
      "spire-federaton:trustDomain: unknown namespace spire-federaton: did you mean spire-federation:trustDomain",
    );
  });

  it("keys the package does not read, in any namespace, pass", async () => {
    const ok = await errorOf({
      "vault:token": "t",
      "vault:skipTlsVerify": "false",
      "azure-native:location": "westeurope",
      "gcp:project": "p",
      "kubernetes:context": "kind",
    });
    expect(ok).toBe("no error");
  });
});

describe("a stack-file key without a namespace", () => {
  it("is refused with the key it meant, file, line and column", () => {
    const yaml = "config:\n  spire-federation:clusterName: dev\n  trustDomain: example.org\n";
    expect(() => stackConfigFromYaml(yaml, "Pulumi.x.yaml")).toThrow(
      'Pulumi.x.yaml:3:3: config key "trustDomain" has no namespace; Pulumi config keys are <namespace>:<key>: did you mean spire-federation:trustDomain',
    );
  });
});
