/** Vault's config: exact errors, and the component's own checks of its args. */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { vaultArgsProblems } from "../../components/federation/vault/component";
import { fedConfig, problemsOf, SUB } from "../support/federation-config";

const badConfigs: [string, (c: Record<string, any>) => void, string[]][] = [
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
];

describe("Vault config errors", () => {
  it.each(badConfigs)("%s", (_n, mutate, expected) => {
    const c = fedConfig();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
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
});

describe("the component validates its own args", () => {
  it("Vault problem list", () => {
    expect(
      vaultArgsProblems({
        issuerUrl: "https://x.example.com",
        path: "jwt",
        policies: {},
        roles: [{ name: "a", spiffeId: "spiffe://td/a", audience: "", policies: ["p"] }],
        waitFor: [],
      }),
    ).toEqual(["role a: audience must not be empty", 'role a: policy "p" is not declared']);
  });
});
