/**
 * The registry's own contract: each relying party is one folder with a README that documents
 * every config key and policy rule, unique policy names with the party's prefix, and at least
 * one stack that uses it. Adding a party without these fails here.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { corePolicies } from "../../components/core-policies";
import type { AnyRelyingParty } from "../../components/federation/contract";
import { relyingParties } from "../../components/federation/registry";
import { policies } from "../../components/policies";
import { ROOT } from "../helpers";

const parties: readonly AnyRelyingParty[] = relyingParties;
/** Policy-name prefixes that predate the one-word rule (`azure` was `entra` first). */
const LEGACY_PREFIX: Record<string, string> = { azure: "entra" };

function keys(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

describe("the relying-party registry", () => {
  it("lists each party once, with a folder named by its key", () => {
    const folders = readdirSync(path.join(ROOT, "components", "federation"), {
      withFileTypes: true,
    })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(parties.map((p) => p.key).sort()).toEqual(folders);
    expect(new Set(parties.map((p) => p.key)).size).toBe(parties.length);
  });

  it.each(parties.map((p) => [p.key, p] as const))(
    "%s: its README documents every config key and policy rule",
    (key, party) => {
      const readme = readFileSync(
        path.join(ROOT, "components", "federation", key, "README.md"),
        "utf8",
      );
      for (const k of keys(party.blockSchema)) expect(readme).toContain(`\`${key}.${k}\``);
      for (const k of keys(party.grantSchema)) {
        expect(readme).toContain(`\`workloads[].${key}.${k}`);
      }
      for (const policy of party.policies) expect(readme).toContain(`\`${policy.name}\``);
    },
  );

  it.each(parties.map((p) => [p.key, p] as const))(
    "%s: policy names are unique and carry the party's prefix",
    (key, party) => {
      const prefix = `${LEGACY_PREFIX[key] ?? key}-`;
      for (const policy of party.policies) expect(policy.name.startsWith(prefix)).toBe(true);
      const all = policies.map((p) => p.name);
      expect(new Set(all).size).toBe(all.length);
    },
  );

  it.each(parties.map((p) => [p.key] as const))("%s: a stack in stacks/ uses it", (key) => {
    const stacks = readdirSync(path.join(ROOT, "stacks"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => readFileSync(path.join(ROOT, "stacks", f), "utf8"));
    expect(stacks.some((s) => s.includes(`spire-federation:${key}:`))).toBe(true);
  });

  it("the pack is the core rules plus each party's, and the root README lists the core rules", () => {
    const core = corePolicies(parties);
    expect(policies.map((p) => p.name)).toEqual([
      ...core.map((p) => p.name),
      ...parties.flatMap((p) => p.policies.map((q) => q.name)),
    ]);
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const p of core) expect(readme).toContain(`\`${p.name}\``);
    for (const p of parties) {
      expect(readme).toContain(`components/federation/${p.key}/README.md`);
      expect(existsSync(path.join(ROOT, "components", "federation", p.key, "index.ts"))).toBe(true);
    }
  });
});
