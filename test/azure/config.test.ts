/** Entra ID's config: exact errors, and the component's own checks of its args. */
import { describe, expect, it } from "vitest";
import { EntraFederation, entraArgsProblems } from "../../components/federation/azure/component";
import { fedConfig, problemsOf, SUB } from "../support/federation-config";

const badConfigs: [string, (c: Record<string, any>) => void, string[]][] = [
  [
    "Azure grants with an EC CA key",
    (c) => (c.spire = { caKeyType: "ec-p256" }),
    [
      "spire-federation:spire.caKeyType: must be rsa-2048 or rsa-4096 while workloads have Azure grants: Entra ID accepts RS256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p256)",
    ],
  ],
  [
    "Azure with the discovery endpoint on SPIRE's own TLS",
    (c) => {
      c.oidc.tls = { spire: true };
      delete c.gcp;
      delete c.workloads[0].gcp;
    },
    [
      "spire-federation:oidc.tls: Entra ID fetches the discovery document itself and needs a publicly trusted certificate: use acme or secretName, not spire",
    ],
  ],
  [
    "a subject over 600 characters",
    (c) => {
      c.workloads[0].spiffeIdPath = "/" + "a".repeat(620);
      c.workloads[0].podLabels = { app: "api" };
      delete c.workloads[0].gcp;
    },
    [
      "spire-federation:workloads[0]: SPIFFE ID is 646 characters; Entra accepts at most 600 in a federated credential subject",
    ],
  ],
  [
    "a scope that is not a resource ID",
    (c) => (c.workloads[0].azure.roleAssignments[0].scope = "rg-x"),
    [
      "spire-federation:workloads[0].azure.roleAssignments[0].scope: must be an Azure resource ID such as /subscriptions/<id>/resourceGroups/<group>",
    ],
  ],
  [
    "an unknown role name",
    (c) => (c.workloads[0].azure.roleAssignments[0].role = "Owner-ish"),
    [
      "spire-federation:workloads[0].azure.roleAssignments[0].role: must be a built-in role name the package knows (Reader, Contributor, Storage Blob Data Reader, Storage Blob Data Contributor, Key Vault Secrets User, Key Vault Crypto User, AcrPull) or a role definition GUID",
    ],
  ],
  [
    "21 credentials on one identity",
    (c) => {
      c.workloads = Array.from({ length: 21 }, (_, i) => ({
        name: `w${i}-app`,
        namespace: "ns",
        serviceAccount: `sa${i}`,
        azure: { identity: "shared", roleAssignments: [] },
      }));
    },
    [
      'spire-federation:workloads[20].azure.identity: identity "shared" would have more than 20 federated credentials; Entra allows at most 20',
    ],
  ],
  [
    "a workload name too short for a credential name",
    (c) => (c.workloads[0].name = "ab"),
    [
      "spire-federation:workloads[0].name: must be 3–120 characters of letters, digits, - and _, starting with a letter or digit (it names the Entra federated credential)",
    ],
  ],
  [
    "an Entra audience other than api://AzureADTokenExchange",
    (c) => (c.azure.audience = "api://my-app"),
    [
      "spire-federation:azure.audience: must be api://AzureADTokenExchange, the audience Entra ID expects in federated tokens: remove the key",
    ],
  ],
  [
    "Azure identities equal but for case",
    (c) => {
      c.workloads[0].azure.identity = "Finance";
      c.workloads[1].azure = { identity: "finance", roleAssignments: [] };
    },
    [
      'spire-federation:workloads[1].azure.identity: names identity "finance", which equals "Finance" (workloads[0]) but for case; Azure resource names are case-insensitive: spell it the same way',
    ],
  ],
  [
    "an Azure identity equal to another workload's default identity but for case",
    (c) => (c.workloads[1].azure = { identity: "API", roleAssignments: [] }),
    [
      'spire-federation:workloads[1].azure.identity: names identity "API", which equals "api" (workloads[0]) but for case; Azure resource names are case-insensitive: spell it the same way',
    ],
  ],
];

describe("Azure config errors", () => {
  it.each(badConfigs)("%s", (_n, mutate, expected) => {
    const c = fedConfig();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("requires azure-native:subscriptionId with the azure block", () => {
    expect(problemsOf(fedConfig(), {})).toEqual([
      "azure-native:subscriptionId: required when spire-federation:azure is set (pulumi config set azure-native:subscriptionId <id>)",
    ]);
  });

  it("rejects an azure-native:subscriptionId that is not a GUID", () => {
    expect(problemsOf(fedConfig(), { azureSubscriptionId: "my-subscription" })).toEqual([
      "azure-native:subscriptionId: must be a subscription ID, a GUID such as 3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93 (az account show --query id)",
    ]);
  });
});

describe("components validate their own args", () => {
  const entraArgs = {
    issuerUrl: "https://oidc.example.com",
    audience: "api://AzureADTokenExchange",
    resourceGroupName: "rg",
    location: "westeurope",
    subscriptionId: SUB,
    identities: [
      {
        name: "app",
        credentials: [{ name: "app", subject: "spiffe://td/app" }],
        roleAssignments: [],
      },
    ],
  };

  it("Entra: issuer length, wildcards, duplicate subjects, credential count", () => {
    expect(entraArgsProblems(entraArgs)).toEqual([]);
    expect(entraArgsProblems({ ...entraArgs, issuerUrl: "https://" + "h".repeat(600) })).toEqual([
      "issuer is 608 characters; Entra accepts at most 600",
    ]);
    const creds = Array.from({ length: 21 }, (_, i) => ({
      name: `cred${i}`,
      subject: `spiffe://td/w${i}`,
    }));
    expect(
      entraArgsProblems({
        ...entraArgs,
        identities: [{ name: "app", credentials: creds, roleAssignments: [] }],
      }),
    ).toEqual(["identity app has 21 federated credentials; Entra allows at most 20"]);
    expect(
      entraArgsProblems({
        ...entraArgs,
        identities: [
          {
            name: "app",
            credentials: [
              { name: "one", subject: "spiffe://td/*" },
              { name: "two", subject: "spiffe://td/*" },
            ],
            roleAssignments: [],
          },
        ],
      }),
    ).toEqual([
      "subject of one contains a wildcard; Entra matches issuer and subject exactly",
      "subject of two contains a wildcard; Entra matches issuer and subject exactly",
      "identity app trusts subject spiffe://td/* twice",
    ]);
  });

  it("Entra: the component throws before registering", () => {
    expect(() => new EntraFederation("bad", { ...entraArgs, audience: "" })).toThrow(
      "EntraFederation bad: audience must be one exact value",
    );
  });
});
