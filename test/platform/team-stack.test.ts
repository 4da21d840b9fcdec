/**
 * The team stack on prod, planned offline against prod's outputs fixture: only the team's
 * resources, valid against the ClusterSPIFFEID CRD, passing the policy pack; the fixture held
 * equal to what prod's plan exports for the contract; and config refused before any resource.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { policies } from "../../components/policies";
import { PLATFORM_OUTPUT_NAMES, platformOutputsSchema } from "../../components/platform/contract";
import { SPIRE_NAMESPACES } from "../../components/platform/rules";
import { SPIRE_MGMT_NAMESPACE } from "../../components/spire";
import { platformFixtureText, platformOutputsOfPlan } from "../../tools/platform-outputs";
import type { Plan } from "../../tools/plan-types";
import { runPolicies } from "../../tools/policy-runner";
import { loadStackConfig } from "../../tools/stack-config";
import { readStackOutputs } from "../../tools/stack-outputs";
import { planStack, prepareProgram, runProgram } from "../compiled";
import { crdValidator } from "../crd";
import { ROOT, toConfigMap } from "../helpers";
import { PROD_OUTPUTS_FILE, prodOutputs, teamRaw } from "./fixtures";
import * as path from "node:path";

const ID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";

describe("the platform output contract", () => {
  let prod: Plan;
  let dev: Plan;
  beforeAll(async () => {
    prod = await planStack("prod");
    dev = await planStack("dev");
  }, 120_000);

  it("the prod outputs fixture is exactly what prod's plan exports for the contract", () => {
    expect(readFileSync(PROD_OUTPUTS_FILE, "utf8")).toBe(
      platformFixtureText(platformOutputsOfPlan(prod)),
    );
  });

  it("every platform stack exports every name of the contract, in the contract's shape", () => {
    for (const plan of [prod, dev]) {
      const outputs = platformOutputsOfPlan(plan);
      expect(Object.keys(outputs)).toEqual([...PLATFORM_OUTPUT_NAMES]);
      expect(platformOutputsSchema.safeParse(outputs).error).toBeUndefined();
    }
    expect(platformOutputsOfPlan(dev)).toMatchObject({
      controllerClassName: "spire-federation",
      teamStacks: {},
      reservedSpiffeIdPaths: expect.arrayContaining(["/spire"]),
    });
  });

  it("refuses to make a fixture of a stack that is not a platform", async () => {
    const team = await planStack("team-payments");
    expect(() => platformOutputsOfPlan(team)).toThrow(
      "stack team-payments does not export issuerUrl, jwksUri, rootCaPem, controllerClassName, clusterName, teamStacks, reservedNamespaces, reservedSpiffeIdPaths, shared: not a platform stack",
    );
  });

  it("reserves the namespace of SPIRE's releases as spire.ts names it", () => {
    expect(SPIRE_NAMESPACES[0]).toBe(SPIRE_MGMT_NAMESPACE);
  });
});

describe("team-payments on prod, planned offline", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("team-payments");
  }, 120_000);

  it("plans only the team's resources: no SPIRE, no cert-manager, no shared setup", () => {
    expect(plan.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "pulumi:pulumi:Stack spire-federation-team-payments",
        "spire-federation:platform:TeamStack spire-federation",
        "pulumi:providers:kubernetes spire-federation-platform-cluster",
        `${ID} spire-federation-id-refunds-worker`,
        "vault:index/policy:Policy spire-federation-vault-policy-checkout-read",
        "vault:index/policy:Policy spire-federation-vault-policy-refunds-rw",
        "vault:jwt/authBackendRole:AuthBackendRole spire-federation-vault-role-checkout-api",
        "vault:jwt/authBackendRole:AuthBackendRole spire-federation-vault-role-refunds-worker",
        "spire-federation:workload:WorkloadFiles spire-federation-workload-files",
        "kubernetes:core/v1:ConfigMap spire-federation-workload-files-checkout-api",
        "kubernetes:core/v1:ConfigMap spire-federation-workload-files-refunds-worker",
      ].sort(),
    );
  });

  it("its ClusterSPIFFEID carries prod's class and trust domain, its annotations, and fits the CRD", () => {
    const validate = crdValidator("spire/spire-crds-0.6.0-clusterspiffeids.yaml", "v1alpha1");
    const ids = plan.resources.filter((r) => r.type === ID);
    expect(ids).toHaveLength(1);
    expect(ids[0].inputs).toEqual({
      apiVersion: "spire.spiffe.io/v1alpha1",
      kind: "ClusterSPIFFEID",
      metadata: {
        name: "spire-federation-team-payments-refunds-worker",
        annotations: {
          "spire-federation.io/team-stack": "team-payments",
          "spire-federation.io/team-namespaces": "payments-checkout,payments-refunds",
          "spire-federation.io/reserved-paths":
            "/spire,/ns/payments/sa/payments-api,/ns/orders/sa/orders-worker,/ns/finance/sa/ledger,/workloads/batch-reports",
        },
      },
      spec: {
        className: "spire-federation",
        hint: "refunds-worker",
        spiffeIDTemplate: "spiffe://prod.spiffe.example.com/teams/payments/refunds-worker",
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "payments-refunds" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "refunds-worker" } },
        workloadSelectorTemplates: ["k8s:ns:payments-refunds", "k8s:sa:default"],
      },
    });
    expect(validate(ids[0].inputs), JSON.stringify(validate.errors)).toBe(true);
  });

  it("writes Vault roles on prod's backend, named for the team, bound to the team's IDs", () => {
    const role = plan.resources.find((r) => r.name === "spire-federation-vault-role-checkout-api");
    expect(role?.inputs).toMatchObject({
      backend: "spire-jwt",
      roleName: "team-payments-checkout-api",
      roleType: "jwt",
      userClaim: "sub",
      boundAudiences: ["vault"],
      boundClaimsType: "string",
      boundClaims: {
        sub: "spiffe://prod.spiffe.example.com/ns/payments-checkout/sa/checkout-api",
      },
    });
    const policy = plan.resources.find(
      (r) => r.name === "spire-federation-vault-policy-checkout-read",
    );
    expect(policy?.inputs.name).toBe("team-payments-checkout-read");
    expect(role?.dependencies).toEqual([policy?.urn]);
    expect(plan.outputs.federation).toEqual({
      "checkout-api": {
        vault: {
          role: "team-payments-checkout-api",
          loginPath: "auth/spire-jwt/login",
          audience: "vault",
        },
      },
      "refunds-worker": {
        vault: {
          role: "team-payments-refunds-worker",
          loginPath: "auth/spire-jwt/login",
          audience: "vault",
        },
      },
    });
  });

  it("passes every policy of the pack", async () => {
    expect(await runPolicies(policies as never, plan.resources)).toEqual([]);
  });
});

describe("a team stack's config is checked before any resource", () => {
  const stacksDir = path.join(ROOT, "stacks");
  function run(raw: Record<string, unknown>, registered: string[], read: string[]) {
    return runProgram(prepareProgram, {
      project: "spire-federation",
      stack: "team-payments",
      config: toConfigMap(raw),
      preview: true,
      stackOutputs: (name) => {
        read.push(name);
        return readStackOutputs(name, stacksDir);
      },
      computed: (args) => {
        registered.push(args.type);
        return {};
      },
    });
  }

  it("a key the platform owns fails before the platform is read", async () => {
    const registered: string[] = [];
    const read: string[] = [];
    await expect(run({ ...teamRaw(), oidc: { host: "x" } }, registered, read)).rejects.toThrow(
      "invalid stack config:\n  spire-federation:oidc: a team stack may not set it; the issuer and its discovery endpoint are the platform's (its issuerUrl and jwksUri outputs)",
    );
    expect([registered, read]).toEqual([[], []]);
  });

  it("a namespace the platform does not give fails after reading it, before any resource", async () => {
    const registered: string[] = [];
    const read: string[] = [];
    const raw = teamRaw();
    (raw.workloads as Record<string, unknown>[])[0].namespace = "payments-ledger";
    await expect(run(raw, registered, read)).rejects.toThrow(
      "spire-federation:workloads[0].namespace: namespace payments-ledger is not one the platform lists for team stack team-payments",
    );
    expect(read).toEqual(["acme/spire-federation/prod"]);
    // Nothing registered: the StackReference is a read, and the checks ran before the builder.
    expect(registered).toEqual([]);
  });

  it("a platform without an outputs file fails naming the file, not the missing outputs", async () => {
    const raw = { ...teamRaw(), platform: "acme/spire-federation/nowhere" };
    await expect(run(raw, [], [])).rejects.toThrow(
      `stack reference acme/spire-federation/nowhere: no outputs at ${path.join(stacksDir, "outputs", "acme", "spire-federation", "nowhere.json")}; give its outputs with --stack-outputs acme/spire-federation/nowhere=FILE`,
    );
  });

  it("plans the stack file's own config the same as the plan tool", async () => {
    const { config } = loadStackConfig(ROOT, "team-payments");
    const registered: string[] = [];
    const r = await runProgram(prepareProgram, {
      project: "spire-federation",
      stack: "team-payments",
      config,
      preview: true,
      stackOutputs: () => prodOutputs(),
      computed: (args) => {
        registered.push(args.type);
        return {};
      },
    });
    expect(r.outputs.trustDomain).toBe("prod.spiffe.example.com");
    expect(registered).not.toContain("kubernetes:helm.sh/v3:Release");
  });
});
