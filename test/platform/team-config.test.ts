/**
 * What a team stack may not do, refused in config with the reason and the key path: keys the
 * platform owns (before the platform is read), and namespaces, paths and grants checked against
 * the platform's outputs. Also the platform's own `teamStacks` rules.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { PLATFORM_OUTPUT_NAMES } from "../../components/platform/contract";
import { TEAM_REFUSED_KEYS } from "../../components/platform/rules";
import { parseTeamConfig, teamKeyProblems } from "../../components/platform/team-config";
import { stackConfigFromYaml } from "../../tools/stack-config";
import { prodOutputs, teamRaw } from "./fixtures";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT } from "../helpers";

const P = "spire-federation:";

function problems(raw: Record<string, unknown>, outputs = prodOutputs(), stack = "team-payments") {
  try {
    parseTeamConfig(raw, outputs, stack);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("team stack config: keys the platform owns", () => {
  it.each(Object.entries(TEAM_REFUSED_KEYS))("refuses %s with the reason", (key, reason) => {
    const raw = { ...teamRaw(), [key]: {} };
    expect(teamKeyProblems(raw)).toEqual([`${P}${key}: a team stack may not set it; ${reason}`]);
  });

  it("names the reason for each refused key exactly", () => {
    expect(TEAM_REFUSED_KEYS.trustDomain).toBe(
      "the trust domain is the platform's (its trustDomain output)",
    );
    expect(TEAM_REFUSED_KEYS.oidc).toBe(
      "the issuer and its discovery endpoint are the platform's (its issuerUrl and jwksUri outputs)",
    );
    expect(Object.keys(TEAM_REFUSED_KEYS)).toEqual(
      expect.arrayContaining([
        "trustDomain",
        "oidc",
        "ca",
        "spire",
        "certManager",
        "gcp",
        "azure",
        "openziti",
      ]),
    );
  });

  it("refuses the shared Vault backend's keys, other parties' grants, unknown keys, a bad platform", () => {
    const raw = teamRaw();
    raw.platform = "prod";
    raw.vault = { path: "mine", discoveryCaPem: "x", policies: {} };
    (raw.workloads as Record<string, unknown>[])[0].gcp = { roles: [] };
    raw.frobnicate = 1;
    expect(teamKeyProblems(raw)).toEqual([
      `${P}frobnicate: unknown key`,
      `${P}platform: must be the platform stack's fully qualified name, org/project/stack`,
      `${P}vault.path: a team stack may not set it; the JWT auth backend is the platform's (its shared.vault.path output)`,
      `${P}vault.discoveryCaPem: a team stack may not set it; the JWT auth backend and its discovery settings are the platform's`,
      `${P}workloads[0].gcp: a team stack may not grant Google Cloud workload identity federation access; the Google pool is shared and the platform's; a team stack takes Vault grants only: ask the platform team`,
    ]);
  });

  it("parseTeamConfig refuses them too, before reading the workloads", () => {
    expect(problems({ ...teamRaw(), trustDomain: "mine.example.com" })).toEqual([
      `${P}trustDomain: a team stack may not set it; the trust domain is the platform's (its trustDomain output)`,
    ]);
  });
});

describe("team stack config against the platform's outputs", () => {
  it("accepts the example: IDs in the platform's trust domain, Vault on its backend", () => {
    const m = parseTeamConfig(teamRaw(), prodOutputs(), "team-payments");
    expect(m.workloads.map((w) => w.spiffeId)).toEqual([
      "spiffe://prod.spiffe.example.com/ns/payments-checkout/sa/checkout-api",
      "spiffe://prod.spiffe.example.com/teams/payments/refunds-worker",
    ]);
    expect(m.vault).toEqual({
      path: "spire-jwt",
      address: "https://vault.prod.example.com:8200",
      policies: teamRaw().vault && (teamRaw().vault as { policies: unknown }).policies,
    });
    expect(m.workloads[0].vault).toEqual({ policies: ["checkout-read"], audience: "vault" });
  });

  it("refuses a namespace the platform does not give the team, and a reserved one", () => {
    const raw = teamRaw();
    const [a, b] = raw.workloads as Record<string, unknown>[];
    a.namespace = "orders";
    b.namespace = "payments-ledger";
    expect(problems(raw)).toEqual([
      `${P}workloads[0].namespace: namespace orders is reserved by the platform (SPIRE, cert-manager, Kubernetes or the platform's own workloads): use one of your team's namespaces`,
      `${P}workloads[1].namespace: namespace payments-ledger is not one the platform lists for team stack team-payments (payments-checkout, payments-refunds): use one of them, or ask the platform team to add it to teamStacks.team-payments.namespaces`,
    ]);
  });

  it("refuses a SPIFFE ID path the platform's workloads hold, and SPIRE's", () => {
    const raw = teamRaw();
    const [, b] = raw.workloads as Record<string, unknown>[];
    b.spiffeIdPath = "/workloads/batch-reports";
    expect(problems(raw)).toEqual([
      `${P}workloads[1].spiffeIdPath: SPIFFE ID path /workloads/batch-reports is reserved by the platform (/workloads/batch-reports): choose a path of your own`,
    ]);
    const outputs = prodOutputs();
    outputs.reservedSpiffeIdPaths = ["/spire", "/teams/payments"];
    expect(problems(teamRaw(), outputs)).toEqual([
      `${P}workloads[1].spiffeIdPath: SPIFFE ID path /teams/payments/refunds-worker is reserved by the platform (/teams/payments): choose a path of your own`,
    ]);
  });

  it("refuses a team stack the platform does not list", () => {
    expect(problems(teamRaw(), prodOutputs(), "team-orders")).toEqual([
      `${P}platform: acme/spire-federation/prod lists no team stack team-orders in its teamStacks output: ask the platform team to add teamStacks.team-orders.namespaces to its config`,
    ]);
  });

  it("refuses a platform whose outputs break the contract, naming each output", () => {
    const outputs = prodOutputs();
    delete outputs.controllerClassName;
    outputs.reservedNamespaces = "spire-server";
    expect(problems(teamRaw(), outputs)).toEqual([
      `${P}platform: the output controllerClassName of acme/spire-federation/prod is missing; is acme/spire-federation/prod a platform stack of this package, deployed with this version?`,
      `${P}platform: the output reservedNamespaces of acme/spire-federation/prod is not as the platform contract says (Invalid input: expected array, received string); is acme/spire-federation/prod a platform stack of this package, deployed with this version?`,
    ]);
    expect(PLATFORM_OUTPUT_NAMES).toContain("controllerClassName");
  });

  it("refuses Vault grants when the platform has no Vault backend, and an undeclared policy", () => {
    const outputs = prodOutputs();
    outputs.shared = {};
    expect(problems(teamRaw(), outputs)).toEqual([
      `${P}vault: acme/spire-federation/prod has no Vault JWT auth backend (its shared.vault output is empty): remove the block, or ask the platform team to configure vault`,
    ]);
    const raw = teamRaw();
    (raw.workloads as Record<string, unknown>[])[1].vault = { policies: ["nope"] };
    expect(problems(raw)).toEqual([
      `${P}workloads[1].vault.policies[0]: policy "nope" is not declared in spire-federation:vault.policies`,
    ]);
  });
});

describe("the platform's teamStacks", () => {
  const prodRaw = () => {
    const file = path.join(ROOT, "stacks", "Pulumi.prod.yaml");
    const { config } = stackConfigFromYaml(readFileSync(file, "utf8"), file);
    return Object.fromEntries(
      Object.entries(config)
        .filter(([k]) => k.startsWith(P))
        .map(([k, v]) => [
          k.slice(P.length),
          v.startsWith("{") || v.startsWith("[") ? JSON.parse(v) : v,
        ]),
    );
  };
  const configProblems = (raw: Record<string, unknown>) => {
    try {
      parseStackConfig(raw, { azureSubscriptionId: "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93" });
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  it("prod's config is valid and its model lists the team stack", () => {
    expect(
      parseStackConfig(prodRaw(), {
        azureSubscriptionId: "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93",
      }).teamStacks,
    ).toEqual({
      "team-payments": { namespaces: ["payments-checkout", "payments-refunds"] },
    });
  });

  it("refuses a reserved namespace and one given to two team stacks", () => {
    const raw = prodRaw();
    raw.teamStacks = {
      "team-a": { namespaces: ["spire-server", "shared"] },
      "team-b": { namespaces: ["shared", "payments"] },
    };
    expect(configProblems(raw)).toEqual([
      `${P}teamStacks.team-a.namespaces[0]: namespace spire-server is reserved by the platform (SPIRE, cert-manager, Kubernetes or the platform's own workloads): give the team a namespace of its own`,
      `${P}teamStacks.team-b.namespaces[0]: namespace shared is already given to team stack team-a; two team stacks in one namespace could each mint the other's IDs: give each its own`,
      `${P}teamStacks.team-b.namespaces[1]: namespace payments is reserved by the platform (SPIRE, cert-manager, Kubernetes or the platform's own workloads): give the team a namespace of its own`,
    ]);
  });

  it("refuses a malformed teamStacks", () => {
    const raw = prodRaw();
    raw.teamStacks = { "a/b": { namespaces: ["x"] }, c: { namespaces: [] } };
    expect(configProblems(raw)).toEqual([
      `${P}teamStacks.a/b: must be a stack name ([A-Za-z0-9_.-]+)`,
      `${P}teamStacks.c.namespaces: must list at least one namespace`,
    ]);
  });
});
