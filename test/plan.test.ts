/** The offline plan: JSON shape, dependencies, secrets, the tree, and the CLI's exit codes. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatTree, parseArgs, type Plan } from "../tools/plan";
import { planStack } from "./compiled";
import { stackConfigFromYaml, SECRET_PLACEHOLDER } from "../tools/stack-config";
import { ROOT } from "./helpers";

const NODE = process.execPath;
const PLAN_JS = path.join(ROOT, "bin", "tools", "plan.js");

describe("planStack(prod)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod");
  });

  it("has the documented shape", () => {
    expect(Object.keys(plan).sort()).toEqual(["outputs", "resources", "stack"]);
    expect(plan.stack).toBe("prod");
    for (const r of plan.resources) {
      expect(Object.keys(r).sort()).toEqual([
        "dependencies",
        "inputs",
        "name",
        "options",
        "parent",
        "propertyDependencies",
        "type",
        "urn",
      ]);
      expect(r.urn).toBe(`urn:pulumi:prod::spire-federation::${r.urn.split("::")[2]}::${r.name}`);
    }
    expect(plan.resources[0]).toMatchObject({
      type: "pulumi:pulumi:Stack",
      name: "spire-federation-prod",
      parent: null,
    });
  });

  it("lists explicit and implicit dependencies by URN", () => {
    const byName = (n: string) => plan.resources.find((r) => r.name === n)!;
    // implicit: tokenPolicies and backend are outputs of the policy and the backend
    const role = byName("spire-federation-vault-role-ledger");
    const policy = byName("spire-federation-vault-policy-ledger-transit").urn;
    const backend = byName("spire-federation-vault-jwt").urn;
    expect([...role.dependencies].sort()).toEqual([policy, backend].sort());
    expect(role.propertyDependencies).toMatchObject({
      tokenPolicies: [policy],
      backend: [backend],
    });
    // explicit dependsOn
    expect(byName("spire-federation-spire-id-batch-reports").dependencies).toEqual([
      byName("spire-federation-spire-release").urn,
    ]);
    const urns = new Set(plan.resources.map((r) => r.urn));
    for (const r of plan.resources) for (const d of r.dependencies) expect(urns.has(d)).toBe(true);
  });

  it("never shows a secret", () => {
    const text = JSON.stringify(plan);
    expect(text).not.toContain(SECRET_PLACEHOLDER);
    const release = plan.resources.find((r) => r.name === "spire-federation-spire-release")!;
    expect((release.inputs as any).values["spire-server"].dataStore.sql.password).toBe("[secret]");
  });

  it("prints a tree with every resource and the count", () => {
    const tree = formatTree(plan);
    expect(tree.split("\n")[0]).toBe(`Plan of stack "prod": ${plan.resources.length} resources`);
    for (const r of plan.resources) expect(tree).toContain(`${r.type}  ${r.name}`);
    expect(tree).toContain(
      "└─ kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID  spire-federation-spire-id-batch-reports  (waits on spire-federation-spire-release)",
    );
  });
});

describe("planStack(dev)", () => {
  it("shows values known only after deployment as [unknown]", async () => {
    const plan = await planStack("dev");
    expect(plan.outputs.rootCaPem).toBe("[unknown]");
    const secret = plan.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!;
    expect(secret.inputs.stringData).toBe("[secret]");
  });
});

describe("stack files", () => {
  it("turn secure values into placeholder secrets, nested or not", () => {
    const loaded = stackConfigFromYaml(`config:
  a:x: plain
  a:y: { secure: v1:abc }
  a:z:
    nested:
      - { secure: v1:def }
  other:k: 3
`);
    expect(loaded.config).toEqual({
      "a:x": "plain",
      "a:y": SECRET_PLACEHOLDER,
      "a:z": JSON.stringify({ nested: [SECRET_PLACEHOLDER] }),
      "other:k": "3",
    });
    expect(loaded.secretKeys).toEqual(["a:y", "a:z"]);
  });
});

describe("command line", () => {
  it("parses flags and rejects unknown ones", () => {
    expect(parseArgs(["--stack", "dev", "--json", "/tmp/x.json"])).toEqual({
      stack: "dev",
      json: "/tmp/x.json",
      stackOutputs: {},
    });
    expect(() => parseArgs(["--stack"])).toThrow("--stack needs a value");
    expect(() => parseArgs(["--stack", "a", "--stack-outputs"])).toThrow(
      "--stack-outputs needs a value",
    );
    expect(() => parseArgs(["--stak", "dev"])).toThrow("unknown argument --stak");
    expect(() => parseArgs([])).toThrow("usage: npm run plan");
  });

  it("writes the JSON plan and exits 0", () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), "plan-")), "p.json");
    const stdout = execFileSync(NODE, [PLAN_JS, "--stack", "prod", "--json", out], {
      encoding: "utf8",
    });
    expect(stdout).toContain('Plan of stack "prod"');
    const written = JSON.parse(readFileSync(out, "utf8")) as Plan;
    expect(written.stack).toBe("prod");
    expect(written.resources.length).toBeGreaterThan(5);
  });

  it("prints every config problem, no stack trace, and exits 1", () => {
    const r = spawnSync(
      NODE,
      [
        PLAN_JS,
        "--stack",
        "badconfig",
        "--stacks-dir",
        path.join(ROOT, "test", "fixtures", "stacks"),
      ],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([
      "error: invalid stack config:",
      "  spire-federation:trustDomain: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
      "  spire-federation:oidc.ingressClassName: required",
      "  spire-federation:oidc.ingressClass: unknown key",
      '  spire-federation:ca.mode: must be "generated" or "clusterIssuer"',
      "  spire-federation:spire.jwtSvidTTL: must be a positive duration such as 1h, 30m or 1h30m (units h, m, s)",
      "  spire-federation:spire.replicas: must be 1 with the sqlite3 datastore; use postgres or mysql for more replicas",
      "  spire-federation:workloads[1].namespace: must be a DNS-1123 label",
      '  spire-federation:workloads[1].name: duplicates workloads[0].name "payments-api"',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 1 on an unknown stack", () => {
    const r = spawnSync(NODE, [PLAN_JS, "--stack", "nope"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: no stack file stacks/Pulumi.nope.yaml");
  });
});
