/**
 * `--policy-config`: values checked against each rule's `configSchema` as the Pulumi engine
 * checks them (no type coercion), unknown properties and bad enforcement levels refused, before
 * anything is planned; a value of the wrong type never reaches a rule.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { policies } from "../components/policies";
import type { Plan } from "../tools/plan";
import { policyConfigProblems, runPolicies, schemaProblems } from "../tools/policy-runner";
import { ROOT } from "./helpers";

const PLAN_JS = path.join(ROOT, "bin", "tools", "plan.js");
const broken = JSON.parse(
  readFileSync(path.join(ROOT, "test", "fixtures", "plans", "prod-broken.json"), "utf8"),
) as Plan;

describe("schemaProblems (the JSON-schema subset of policy config schemas)", () => {
  it("types: no coercion; integer is a number, not the reverse", () => {
    expect(schemaProblems({ type: "number" }, 24, "p.n")).toEqual([]);
    expect(schemaProblems({ type: "number" }, 2.5, "p.n")).toEqual([]);
    expect(schemaProblems({ type: "number" }, "24", "p.n")).toEqual([
      'p.n: must be number, not a string "24"',
    ]);
    expect(schemaProblems({ type: "number" }, null, "p.n")).toEqual([
      "p.n: must be number, not null",
    ]);
    expect(schemaProblems({ type: "integer" }, 2.5, "p.n")).toEqual([
      "p.n: must be integer, not a number 2.5",
    ]);
    expect(schemaProblems({ type: "boolean" }, "true", "p.b")).toEqual([
      'p.b: must be boolean, not a string "true"',
    ]);
    expect(schemaProblems({ type: ["string", "null"] }, null, "p.s")).toEqual([]);
    expect(schemaProblems({ type: ["string", "null"] }, 1, "p.s")).toEqual([
      "p.s: must be string or null, not a number 1",
    ]);
  });

  it("arrays, items, bounds, enums, patterns and nested objects", () => {
    const list = { type: "array", items: { type: "string" }, minItems: 1, uniqueItems: true };
    expect(schemaProblems(list, ["P256", "P384"], "p.c")).toEqual([]);
    expect(schemaProblems(list, ["P256", 384], "p.c")).toEqual([
      "p.c[1]: must be string, not a number 384",
    ]);
    expect(schemaProblems(list, "P256", "p.c")).toEqual([
      'p.c: must be array, not a string "P256"',
    ]);
    expect(schemaProblems(list, [], "p.c")).toEqual([
      "p.c: must have at least 1 items, not an array []",
    ]);
    expect(schemaProblems(list, ["a", "a"], "p.c")).toEqual([
      'p.c: must not repeat an item, not an array ["a","a"]',
    ]);
    expect(schemaProblems({ type: "number", minimum: 1, maximum: 48 }, 0, "p.h")).toEqual([
      "p.h: must be at least 1, not a number 0",
    ]);
    expect(schemaProblems({ type: "number", exclusiveMinimum: 0 }, 0, "p.h")).toEqual([
      "p.h: must be more than 0, not a number 0",
    ]);
    expect(schemaProblems({ enum: ["a", "b"] }, "c", "p.e")).toEqual([
      'p.e: must be one of "a", "b", not a string "c"',
    ]);
    expect(schemaProblems({ type: "string", pattern: "^roles/" }, "owner", "p.r")).toEqual([
      'p.r: must match ^roles/, not a string "owner"',
    ]);
    const obj = {
      type: "object",
      properties: { a: { type: "number" } },
      required: ["a"],
      additionalProperties: false,
    };
    expect(schemaProblems(obj, { a: 1 }, "p.o")).toEqual([]);
    expect(schemaProblems(obj, { b: "x" }, "p.o")).toEqual([
      "p.o.a: required",
      "p.o.b: no such property",
    ]);
  });

  it("refuses a keyword it does not implement rather than half-check a schema", () => {
    expect(() => schemaProblems({ type: "string", format: "uri" }, "x", "p.u")).toThrow(
      "p.u: the offline policy runner does not support the schema keyword format",
    );
    expect(() => schemaProblems({ type: "array", items: [{}] }, [], "p.t")).toThrow(
      "p.t: the offline policy runner supports a single schema under items",
    );
  });
});

describe("policyConfigProblems", () => {
  it("every shipped rule's schema is within the subset and its defaults pass", () => {
    for (const p of policies) {
      expect(policyConfigProblems(policies, { [p.name]: {} })).toEqual([]);
      expect(
        policyConfigProblems(policies, { [p.name]: { enforcementLevel: "advisory" } }),
      ).toEqual([]);
    }
    expect(policies.filter((p) => p.configSchema).length).toBeGreaterThan(0);
  });

  it("names the policy and property of each wrong value", () => {
    expect(
      policyConfigProblems(policies, {
        "spire-jwt-svid-ttl": { maxHours: "48" },
        "ca-key-strength": { minRsaBits: 4096, allowedCurves: ["P256", 384] },
        "gcp-no-pool-wide-privileged-grant": { privilegedRoles: "roles/owner" },
        "entra-credentials-per-identity": { enforcementLevel: "mandatory", maxCredentialz: 5 },
      }),
    ).toEqual([
      'spire-jwt-svid-ttl.maxHours: must be number, not a string "48"',
      "ca-key-strength.allowedCurves[1]: must be string, not a number 384",
      'gcp-no-pool-wide-privileged-grant.privilegedRoles: must be array, not a string "roles/owner"',
      "entra-credentials-per-identity.maxCredentialz: no such property",
    ]);
  });

  it("refuses bad enforcement levels and shapes", () => {
    expect(
      policyConfigProblems(policies, {
        "ca-key-strength": "blocking",
        "spire-jwt-svid-ttl": { enforcementLevel: "Mandatory" },
        "spire-ha-datastore": { enforcementLevel: true },
        "root-key-in-state": ["mandatory"],
        "public-oidc-tls": null,
        nope: "mandatory",
      }),
    ).toEqual([
      "ca-key-strength: enforcement level must be one of advisory, mandatory, remediate, disabled",
      "spire-jwt-svid-ttl: enforcement level must be one of advisory, mandatory, remediate, disabled",
      "spire-ha-datastore: enforcement level must be one of advisory, mandatory, remediate, disabled",
      'root-key-in-state: must be an enforcement level or an object of enforcementLevel and properties, not an array ["mandatory"]',
      "public-oidc-tls: must be an enforcement level or an object of enforcementLevel and properties, not null",
      "nope: no such policy",
    ]);
    expect(policyConfigProblems(policies, ["root-key-in-state"])).toEqual([
      'must be a JSON object of policy names, each with an enforcement level or an object of enforcementLevel and properties, not an array ["root-key-in-state"]',
    ]);
  });

  it("a string where a number belongs cannot switch a mandatory rule off", async () => {
    const ttl = (v: Awaited<ReturnType<typeof runPolicies>>) =>
      v.filter((x) => x.policy === "spire-jwt-svid-ttl");
    // The broken plan's JWT-SVID TTL breaks the rule under its default and a numeric limit...
    expect(ttl(await runPolicies(policies, broken.resources))).toHaveLength(1);
    expect(
      ttl(await runPolicies(policies, broken.resources, { "spire-jwt-svid-ttl": { maxHours: 1 } })),
    ).toHaveLength(1);
    // ...and a non-number limit is refused, not compared ("x" * 3600 is NaN: nothing exceeds it).
    await expect(
      runPolicies(policies, broken.resources, { "spire-jwt-svid-ttl": { maxHours: "x" } }),
    ).rejects.toThrow(
      'invalid policy config:\n  spire-jwt-svid-ttl.maxHours: must be number, not a string "x"',
    );
  });
});

describe("plan --policy-config", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "policy-config-"));
  const run = (config: string, stack = "prod") => {
    const file = path.join(dir, "config.json");
    writeFileSync(file, config);
    return {
      file,
      r: spawnSync(process.execPath, [PLAN_JS, "--stack", stack, "--policy-config", file], {
        encoding: "utf8",
      }),
    };
  };

  it("exits 2 naming the policy and property, before planning", () => {
    // an unknown stack: the config is checked first, so the stack is never looked up
    const { file, r } = run('{"spire-jwt-svid-ttl": {"maxHours": "48"}}', "no-such-stack");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `error: --policy-config ${file}: spire-jwt-svid-ttl.maxHours: must be number, not a string "48"\n`,
    );
  });

  it("lists several problems, one per line", () => {
    const { file, r } = run('{"nope": "mandatory", "ca-key-strength": {"enforcementLevel": "x"}}');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: --policy-config ${file}:`,
      "  nope: no such policy",
      "  ca-key-strength: enforcement level must be one of advisory, mandatory, remediate, disabled",
    ]);
  });

  it("a file that is not JSON, or missing", () => {
    const { file, r } = run("{maxHours: 1}");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: --policy-config ${file}: not JSON \\(.+\\)\\n$`));
    const missing = path.join(dir, "missing.json");
    const m = spawnSync(
      process.execPath,
      [PLAN_JS, "--stack", "prod", "--policy-config", missing],
      { encoding: "utf8" },
    );
    expect(m.status).toBe(2);
    expect(m.stderr).toBe(`error: --policy-config ${missing}: no such file\n`);
  });

  it("the shipped prod policy config passes", () => {
    const r = spawnSync(
      process.execPath,
      [
        PLAN_JS,
        "--stack",
        "prod",
        "--policy-config",
        path.join(ROOT, "policy", "config", "prod.json"),
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
