/** The deploy critical path the benchmark reports: computed from the plan's dependency graph. */
import { describe, expect, it } from "vitest";
import { criticalPaths, generatedStack, longestChain } from "../tools/bench";
import { planStack } from "./compiled";
import type { PlanResource } from "../tools/plan-types";
import { parse } from "yaml";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const r = (name: string, deps: string[] = [], data: string[] = []): PlanResource => ({
  urn: name,
  type: "x:y:Z",
  name,
  parent: null,
  inputs: {},
  dependencies: deps,
  propertyDependencies: data.length ? { p: data } : {},
});

describe("longestChain", () => {
  it("finds the longest chain, not the first", () => {
    const rs = [r("a"), r("b", ["a"]), r("c", ["b"]), r("d", ["a"]), r("e", ["d", "c"])];
    expect(longestChain(rs, (x) => x.dependencies)).toEqual(["a", "b", "c", "e"]);
  });
  it("keeps only data edges and required orderings for the required path", () => {
    const rs = [r("a"), r("b", ["a"], ["a"]), r("c", ["b"])]; // c → b is an unexplained dependsOn
    const p = criticalPaths({ stack: "s", resources: rs, outputs: {} });
    expect(p.longest).toEqual(["a", "b", "c"]);
    expect(p.required).toEqual(["a", "b"]);
    expect(p.unjustifiedEdges).toEqual(["c → b"]);
  });
});

describe("the stacks' critical paths", () => {
  it("prod: spire-crds → SPIRE → readiness gate → Vault backend → role, nothing in Azure or GCP, no unneeded edge", async () => {
    const plan = await planStack("prod");
    const p = criticalPaths(plan);
    expect(p.longest).toEqual([
      "spire-federation-spire-crds",
      "spire-federation-spire-release",
      "spire-federation-vault-oidc-ready",
      "spire-federation-vault-jwt",
      "spire-federation-vault-role-payments-api",
    ]);
    expect(p.required).toHaveLength(p.longest.length);
    expect(p.unjustifiedEdges).toEqual([]);
    expect(p.longest.some((n) => n.includes("entra") || n.includes("gcp"))).toBe(false);
  });

  it("dev: the generated root's chain into SPIRE, then the Vault chain", async () => {
    const p = criticalPaths(await planStack("dev"));
    expect(p.longest).toEqual([
      "spire-federation-cert-manager-root-key",
      "spire-federation-cert-manager-root-cert",
      "spire-federation-cert-manager-root-secret",
      "spire-federation-cert-manager-root-issuer",
      "spire-federation-spire-release",
      "spire-federation-vault-oidc-ready",
      "spire-federation-vault-jwt",
      "spire-federation-vault-role-payments-api",
    ]);
    expect(p.unjustifiedEdges).toEqual([]);
  });
});

describe("generated stacks", () => {
  it("are valid stack config that plans", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gen-"));
    writeFileSync(path.join(dir, "Pulumi.gen-3.yaml"), generatedStack(3));
    const plan = await planStack("gen-3", dir);
    const types = new Set(plan.resources.map((x) => x.type.split(":")[0]));
    expect([...types]).toEqual(
      expect.arrayContaining(["vault", "azure-native", "gcp", "pulumi-nodejs"]),
    );
  });

  it("have n workloads with Vault, Azure and GCP grants", () => {
    const doc = parse(generatedStack(3));
    const ws = doc.config["spire-federation:workloads"];
    expect(ws).toHaveLength(3);
    for (const w of ws)
      expect(Object.keys(w)).toEqual(expect.arrayContaining(["vault", "azure", "gcp", "openziti"]));
  });
});
