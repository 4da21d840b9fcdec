/**
 * The policy pack as a whole: every rule is well formed and owned by a folder whose
 * policies.test.ts tests it (see test/support/policy-harness.ts); the example stacks pass; the
 * broken fixture shows every rule.
 */
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { policies } from "../components/policies";
import { type Plan } from "../tools/plan";
import { planStack } from "./compiled";
import { formatViolations, policyConfigProblems, runPolicies } from "../tools/policy-runner";
import { ROOT } from "./helpers";
import { RULE_OWNERS, rulesOf } from "./support/policy-harness";

describe("the pack", () => {
  it("every rule has a name, description, severity, enforcement level, and an owner that tests it", () => {
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z0-9-]+$/);
      expect(p.description.length).toBeGreaterThan(20);
      expect(["low", "medium", "high", "critical"]).toContain(p.severity);
      expect(["advisory", "mandatory"]).toContain(p.enforcementLevel);
    }
    // Each rule has exactly one owner, and each owner's policies.test.ts ends with the test that
    // every rule it owns was called above (everyRuleTested).
    expect(RULE_OWNERS.flatMap(rulesOf).sort()).toEqual(policies.map((p) => p.name).sort());
    for (const owner of RULE_OWNERS) {
      const file = path.join(ROOT, "test", owner, "policies.test.ts");
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, "utf8")).toContain(`everyRuleTested("${owner}");`);
    }
  });

  it("policy config problems are named", () => {
    expect(
      policyConfigProblems(policies, {
        "spire-jwt-svid-ttl": { maxHourz: 3 },
        nope: "mandatory",
        "ca-key-strength": "blocking" as any,
      }),
    ).toEqual([
      "spire-jwt-svid-ttl.maxHourz: no such property",
      "nope: no such policy",
      "ca-key-strength: enforcement level must be one of advisory, mandatory, remediate, disabled",
    ]);
  });
});

describe("the example stacks and the broken fixture", () => {
  it.each(["dev", "prod", "mesh"])("%s plans with no mandatory violation", async (stack) => {
    const plan = await planStack(stack);
    const v = await runPolicies(policies, plan.resources);
    expect(v.filter((x) => x.enforcementLevel === "mandatory")).toEqual([]);
    expect(v.map((x) => x.policy)).toEqual(stack === "prod" ? [] : ["root-key-in-state"]);
  });

  it("the broken copy of prod shows every rule", async () => {
    const plan = JSON.parse(
      readFileSync(path.join(ROOT, "test", "fixtures", "plans", "prod-broken.json"), "utf8"),
    ) as Plan;
    const v = await runPolicies(policies, plan.resources, {
      "entra-credentials-per-identity": { maxCredentialsPerIdentity: 1 },
      // The broken copy's JWT-SVIDs live 48h (too long); ask for more than that.
      "entra-jwt-svid-ttl": { minMinutes: 50 * 60 },
      "root-key-in-state": "mandatory",
      "anchors-protected": "mandatory",
      // The broken copy's caTTL is the default 24h (an 8h lead): a day-long Entra cache outlasts it.
      "spire-rotation-lead": { cacheMinutes: { azure: 24 * 60 } },
    });
    // prod has no peers and is no team stack: those rules are shown on the east, west and
    // team-payments plans by test/federation-spire/ and test/platform/.
    const elsewhere = new Set([...rulesOf("federation-spire"), ...rulesOf("platform")]);
    expect([...new Set(v.map((x) => x.policy))].sort()).toEqual(
      policies
        .map((p) => p.name)
        .filter((n) => !elsewhere.has(n))
        .sort(),
    );
    expect(
      v.every((x) => x.enforcementLevel === "mandatory" || x.policy === "gcp-no-pool-wide-grant"),
    ).toBe(true);
    const text = formatViolations(v);
    expect(text).toContain(
      "[mandatory] vault-jwt-role: spire-federation-vault-role-payments-api (vault:jwt/authBackendRole:AuthBackendRole): boundAudiences is empty",
    );
    expect(text).toContain(
      "[mandatory] clusterspiffeid-waits-on-spire: spire-federation-spire-id-ledger",
    );
    expect(text).toContain(
      "[mandatory] static-entry-waits-on-spire: spire-federation-nodes-entry-edge-router",
    );
    expect(text).toContain(
      "[mandatory] istio-trust-domain: spire-federation-istio-istiod (kubernetes:helm.sh/v3:Release): meshConfig.trustDomain is cluster.local but SPIRE issues SVIDs in example.org",
    );
    expect(text).toContain(
      '[mandatory] istio-spire-template: spire-federation-istio-gateway (kubernetes:helm.sh/v3:Release): the gateway\'s pods are injected with "gateway" only',
    );
  });

  it("the plan CLI exits 3 on a mandatory violation and 2 on a bad policy config", () => {
    const plan = path.join(ROOT, "bin", "tools", "plan.js");
    const strict = spawnSync(
      process.execPath,
      [plan, "--stack", "dev", "--policy-config", path.join(ROOT, "policy", "config", "prod.json")],
      { encoding: "utf8" },
    );
    expect(strict.status).toBe(3);
    expect(strict.stdout).toContain(
      "Policies: 1 violation, 1 mandatory\n  [mandatory] root-key-in-state: spire-federation-cert-manager-root-key",
    );
    const relaxed = spawnSync(process.execPath, [plan, "--stack", "dev"], { encoding: "utf8" });
    expect(relaxed.status).toBe(0);
    expect(relaxed.stdout).toContain("[advisory] root-key-in-state");
    const bad = spawnSync(
      process.execPath,
      [plan, "--stack", "dev", "--policy-config", path.join(ROOT, "package.json")],
      { encoding: "utf8" },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("name: no such policy");
  });
});
