/**
 * The team stack rules of the pack, each on a compliant and a violating case, called as the
 * engine calls them (through the plan's policy runner, on planned resources).
 */
import { describe, expect, it } from "vitest";
import { policies } from "../../components/policies";
import type { PlanResource } from "../../tools/plan-types";
import { runPolicies, type Violation } from "../../tools/policy-runner";
import { everyRuleTested, policy } from "../support/policy-harness";

const ID = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";
const TEAM = "spire-federation:platform:TeamStack";

function resource(type: string, name: string, inputs: Record<string, unknown> = {}): PlanResource {
  return {
    urn: `urn:pulumi:team::spire-federation::${type}::${name}`,
    type,
    name,
    parent: null,
    inputs: inputs as PlanResource["inputs"],
    dependencies: [],
    propertyDependencies: {},
  };
}

function teamId(spec: Record<string, unknown>, annotations: Record<string, string> = {}) {
  return resource(ID, "id", {
    apiVersion: "spire.spiffe.io/v1alpha1",
    kind: "ClusterSPIFFEID",
    metadata: {
      name: "spire-federation-team-payments-x",
      annotations: {
        "spire-federation.io/team-stack": "team-payments",
        "spire-federation.io/team-namespaces": "payments-checkout,payments-refunds",
        "spire-federation.io/reserved-paths": "/spire,/workloads/batch-reports",
        ...annotations,
      },
    },
    spec: {
      className: "spire-federation",
      spiffeIDTemplate: "spiffe://prod.spiffe.example.com/teams/payments/x",
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "payments-refunds" } },
      podSelector: { matchLabels: { app: "x" } },
      ...spec,
    },
  });
}

async function violations(rule: string, resources: PlanResource[]): Promise<string[]> {
  const found: Violation[] = await runPolicies([policy(rule)], resources);
  return found.map((v) => v.message);
}

describe("platform-team-namespace", () => {
  it("passes a team ClusterSPIFFEID in one of its namespaces, and ignores the platform's own", async () => {
    expect(await violations("platform-team-namespace", [teamId({})])).toEqual([]);
    const platformId = resource(ID, "p", { spec: { namespaceSelector: {} }, metadata: {} });
    expect(await violations("platform-team-namespace", [platformId])).toEqual([]);
  });

  it("reports a namespace the platform does not give the team", async () => {
    const id = teamId({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "payments" } },
    });
    expect(await violations("platform-team-namespace", [id])).toEqual([
      "team stack team-payments's ClusterSPIFFEID selects namespace payments, which the platform does not give it (payments-checkout, payments-refunds): its pods would get IDs the team does not own; use one of its namespaces or ask the platform team to add payments to teamStacks.team-payments.namespaces",
    ]);
  });

  it("reports a selector that takes every namespace, expressions, or labels the team controls", async () => {
    const cases = [
      teamId({ namespaceSelector: undefined }),
      teamId({
        namespaceSelector: {
          matchExpressions: [{ key: "team", operator: "In", values: ["payments"] }],
        },
      }),
      teamId({ namespaceSelector: { matchLabels: { team: "payments" } } }),
    ];
    const found = [];
    for (const c of cases) found.push(...(await violations("platform-team-namespace", [c])));
    const tail =
      "; a team may give IDs only in its namespaces (payments-checkout, payments-refunds): select one with matchLabels kubernetes.io/metadata.name";
    expect(found).toEqual([
      `team stack team-payments's ClusterSPIFFEID has no namespaceSelector, so it selects pods in every namespace${tail}`,
      `team stack team-payments's ClusterSPIFFEID selects namespaces by matchExpressions, which may match namespaces the team does not own${tail}`,
      `team stack team-payments's ClusterSPIFFEID does not name its namespace by the kubernetes.io/metadata.name label, so labels the team does not control decide which namespaces it selects${tail}`,
    ]);
  });
});

describe("platform-team-reserved-path", () => {
  it("passes a path of the team's own", async () => {
    expect(await violations("platform-team-reserved-path", [teamId({})])).toEqual([]);
  });

  it("reports a path the platform's workload holds, and one below SPIRE's", async () => {
    const taken = teamId({
      spiffeIDTemplate: "spiffe://prod.spiffe.example.com/workloads/batch-reports",
    });
    const spire = teamId({ spiffeIDTemplate: "spiffe://prod.spiffe.example.com/spire/agent/x" });
    expect([
      ...(await violations("platform-team-reserved-path", [taken])),
      ...(await violations("platform-team-reserved-path", [spire])),
    ]).toEqual([
      "team stack team-payments's ClusterSPIFFEID spiffeIDTemplate spiffe://prod.spiffe.example.com/workloads/batch-reports: SPIFFE ID path /workloads/batch-reports is reserved by the platform (/workloads/batch-reports): choose a path of your own; two entries for one ID let the team's pods act as the platform's workload",
      "team stack team-payments's ClusterSPIFFEID spiffeIDTemplate spiffe://prod.spiffe.example.com/spire/agent/x: SPIFFE ID path /spire/agent/x is reserved by the platform (/spire): choose a path of your own; two entries for one ID let the team's pods act as the platform's workload",
    ]);
  });
});

describe("platform-team-no-platform-parts", () => {
  const team = resource(TEAM, "spire-federation");

  it("passes a team stack of team resources, and any platform stack", async () => {
    expect(await violations("platform-team-no-platform-parts", [team, teamId({})])).toEqual([]);
    const release = resource("kubernetes:helm.sh/v3:Release", "spire", { chart: "spire" });
    expect(await violations("platform-team-no-platform-parts", [release])).toEqual([]);
  });

  it("reports each platform part in a team stack, and an unannotated ClusterSPIFFEID", async () => {
    const parts = [
      resource("kubernetes:helm.sh/v3:Release", "spire", { chart: "spire" }),
      resource("kubernetes:cert-manager.io/v1:ClusterIssuer", "root"),
      resource("vault:jwt/authBackend:AuthBackend", "jwt"),
      resource("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", "oidc"),
      resource("pulumi-nodejs:dynamic/openziti:Ca", "ca"),
      resource(ID, "bare", { metadata: { name: "x" }, spec: {} }),
    ];
    const fix =
      "a team stack builds on its platform stack and must not deploy it: remove it, or move it to the platform stack";
    expect(await violations("platform-team-no-platform-parts", [team, ...parts])).toEqual([
      `spire is a Helm release (SPIRE and cert-manager are the platform's); ${fix}`,
      `root is a ClusterIssuer (the root of trust is the platform's); ${fix}`,
      `jwt is a Vault JWT auth backend (the platform's is shared); ${fix}`,
      `oidc is a Google workload identity pool provider (the platform's pool is shared); ${fix}`,
      `ca is an OpenZiti CA (the platform's is shared); ${fix}`,
      "bare is a ClusterSPIFFEID without the spire-federation.io/team-stack annotation in a team stack, so the team rules cannot check it: create it through TeamStack",
    ]);
  });
});

describe("clusterspiffeid-waits-on-spire in a team stack", () => {
  const rule = policies.filter((p) => p.name === "clusterspiffeid-waits-on-spire");

  it("leaves a team stack's ClusterSPIFFEIDs alone (the platform stack deployed SPIRE)", async () => {
    const team = resource(TEAM, "spire-federation");
    expect(await runPolicies(rule as never, [team, teamId({})])).toEqual([]);
  });

  it("still reports one in a stack that is no team stack", async () => {
    const found = await runPolicies(rule, [teamId({})]);
    expect(found.map((v) => v.message)).toEqual(["id does not wait on the spire release"]);
  });
});

everyRuleTested("platform");
