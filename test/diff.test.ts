/** The offline diff: added, removed, changed (nested, array, secret) properties and the CLI. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { diffPlans, diffValues, formatDiff, isEmptyDiff } from "../tools/diff";
import type { Plan } from "../tools/plan";
import { ROOT } from "./helpers";

const urn = (stack: string, type: string, name: string) =>
  `urn:pulumi:${stack}::spire-federation::${type}::${name}`;

function plan(
  stack: string,
  resources: Omit<Plan["resources"][number], "urn">[],
  outputs: Plan["outputs"] = {},
): Plan {
  return {
    stack,
    resources: resources.map((r) => ({ ...r, urn: urn(stack, r.type, r.name) })),
    outputs,
  };
}

const base = plan(
  "pr",
  [
    {
      type: "vault:index/policy:Policy",
      name: "p",
      parent: null,
      inputs: { name: "p", policy: "a" },
      dependencies: [],
    },
    {
      type: "kubernetes:helm.sh/v3:Release",
      name: "spire",
      parent: null,
      inputs: {
        values: {
          "spire-server": { replicaCount: 1, dataStore: { sql: { password: "[secret]" } } },
          list: ["a", "b"],
        },
      },
      dependencies: [],
    },
    {
      type: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
      name: "old",
      parent: null,
      inputs: {},
      dependencies: [],
    },
  ],
  { issuerUrl: "https://a.example.com" },
);

describe("diffValues", () => {
  it("reports nested paths with old and new values", () => {
    expect(
      diffValues({ a: { b: 1, "c.d": [1, 2] } }, { a: { b: 2, "c.d": [1] }, e: true }),
    ).toEqual([
      { path: "a.b", old: 1, new: 2 },
      { path: 'a["c.d"][1]', old: 2 },
      { path: "e", new: true },
    ]);
    expect(diffValues({ a: 1 }, { a: 1 })).toEqual([]);
    expect(diffValues({ a: { b: 1 } }, { a: "x" })).toEqual([
      { path: "a", old: { b: 1 }, new: "x" },
    ]);
  });
});

describe("diffPlans", () => {
  const head = plan(
    "main",
    [
      {
        type: "vault:index/policy:Policy",
        name: "p",
        parent: null,
        inputs: { name: "p", policy: "a" },
        dependencies: [],
      },
      {
        type: "kubernetes:helm.sh/v3:Release",
        name: "spire",
        parent: null,
        inputs: {
          values: {
            "spire-server": {
              replicaCount: 3,
              dataStore: { sql: { password: "[secret]", host: "db" } },
            },
            list: ["a", "c"],
          },
        },
        dependencies: [urn("main", "vault:index/policy:Policy", "p")],
      },
      {
        type: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
        name: "new",
        parent: null,
        inputs: {},
        dependencies: [],
      },
    ],
    { issuerUrl: "https://b.example.com" },
  );

  const d = diffPlans(base, head);

  it("finds added and removed resources across stack names", () => {
    expect(d.added).toEqual([
      {
        urn: urn("main", "gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "new"),
        type: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
        name: "new",
      },
    ]);
    expect(d.removed.map((r) => r.name)).toEqual(["old"]);
  });

  it("lists changed properties by path; secrets stay [secret]; dependencies too", () => {
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0].name).toBe("spire");
    expect(d.changed[0].changes).toEqual([
      { path: "values.list[1]", old: "b", new: "c" },
      { path: 'values["spire-server"].dataStore.sql.host', new: "db" },
      { path: 'values["spire-server"].replicaCount', old: 1, new: 3 },
      {
        path: "(dependencies)",
        old: [],
        new: ["urn:pulumi:*::spire-federation::vault:index/policy:Policy::p"],
      },
    ]);
    expect(JSON.stringify(d)).not.toContain('password":"');
    expect(d.outputs).toEqual([
      { path: "issuerUrl", old: "https://a.example.com", new: "https://b.example.com" },
    ]);
  });

  it("a secret whose value changed is indistinguishable, as intended", () => {
    expect(diffValues({ password: "[secret]" }, { password: "[secret]" })).toEqual([]);
  });

  it("formats a readable summary", () => {
    expect(formatDiff(d)).toBe(
      [
        "Plan diff: 1 to add, 1 to change, 1 to remove, 1 output changes",
        "+ gcp:iam/workloadIdentityPool:WorkloadIdentityPool  new",
        "- gcp:iam/workloadIdentityPool:WorkloadIdentityPool  old",
        "~ kubernetes:helm.sh/v3:Release  spire",
        '    values.list[1]: "b" => "c"',
        '    values["spire-server"].dataStore.sql.host: (absent) => "db"',
        '    values["spire-server"].replicaCount: 1 => 3',
        '    (dependencies): [] => ["urn:pulumi:*::spire-federation::vault:index/policy:Policy::p"]',
        '~ output issuerUrl: "https://a.example.com" => "https://b.example.com"',
      ].join("\n"),
    );
    expect(isEmptyDiff(diffPlans(base, base))).toBe(true);
    expect(formatDiff(diffPlans(base, base))).toBe("Plan diff: no changes");
  });
});

describe("plan --diff on the command line", () => {
  const PLAN_JS = path.join(ROOT, "bin", "tools", "plan.js");
  const dir = mkdtempSync(path.join(tmpdir(), "diff-"));

  it("no changes against its own plan; --expect-no-changes exits 4 on a change", () => {
    const saved = path.join(dir, "prod.json");
    execFileSync(process.execPath, [PLAN_JS, "--stack", "prod", "--json", saved]);
    const same = spawnSync(
      process.execPath,
      [PLAN_JS, "--stack", "prod", "--diff", saved, "--expect-no-changes"],
      { encoding: "utf8" },
    );
    expect(same.status).toBe(0);
    expect(same.stdout).toContain(`Diff against ${saved}: no changes`);

    const edited = JSON.parse(readFileSync(saved, "utf8")) as Plan;
    const role = edited.resources.find((r) => r.name === "spire-federation-vault-role-ledger")!;
    (role.inputs as any).tokenPolicies = ["other"];
    edited.resources = edited.resources.filter((r) => r.name !== "spire-federation-gcp-oidc");
    const changedFile = path.join(dir, "edited.json");
    writeFileSync(changedFile, JSON.stringify(edited));
    const out = path.join(dir, "with-diff.json");
    const r = spawnSync(
      process.execPath,
      [PLAN_JS, "--stack", "prod", "--diff", changedFile, "--expect-no-changes", "--json", out],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(4);
    expect(r.stdout).toContain(`Diff against ${changedFile}: 1 to add, 1 to change, 0 to remove`);
    expect(r.stdout).toContain('    tokenPolicies[0]: "other" => "ledger-transit"');
    const json = JSON.parse(readFileSync(out, "utf8"));
    expect(json.diff.added.map((x: { name: string }) => x.name)).toEqual([
      "spire-federation-gcp-oidc",
    ]);
    expect(json.diff.changed[0].changes).toEqual([
      { path: "tokenPolicies[0]", old: "other", new: "ledger-transit" },
    ]);
  });

  it("needs --diff for --expect-no-changes", () => {
    const r = spawnSync(process.execPath, [PLAN_JS, "--stack", "prod", "--expect-no-changes"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--expect-no-changes needs --diff <base.json>");
  });
});
