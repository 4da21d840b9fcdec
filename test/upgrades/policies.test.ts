/**
 * The anchors-protected rule on real plans: silent when every anchor is protected, one violation
 * per anchor when `anchors.protect` is false, mandatory under prod's policy config.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ANCHORS_PROTECTED } from "../../components/anchor-policies";
import { policies } from "../../components/policies";
import { runPolicies, type PolicyConfig } from "../../tools/policy-runner";
import { everyRuleTested, policy } from "../support/policy-harness";
import { planEdited, planOf, withAnchors } from "./plans";

const prodConfig = JSON.parse(
  readFileSync(path.join(__dirname, "../../policy/config/prod.json"), "utf8"),
) as PolicyConfig;

describe("anchors-protected", () => {
  it("is advisory by default and mandatory in prod's policy config", () => {
    expect(policy(ANCHORS_PROTECTED).enforcementLevel).toBe("advisory");
    expect(prodConfig[ANCHORS_PROTECTED]).toBe("mandatory");
  });

  it("passes the dev and prod plans (every anchor protected)", async () => {
    for (const stack of ["dev", "prod"]) {
      const v = await runPolicies(policies, (await planOf(stack)).resources, prodConfig);
      expect(v.filter((x) => x.policy === ANCHORS_PROTECTED)).toEqual([]);
    }
  });

  it("names each unprotected anchor when anchors.protect is false", async () => {
    const plan = await planEdited("dev", (y) => withAnchors(y, ["protect: false"]));
    const v = await runPolicies(policies, plan.resources, prodConfig);
    const mine = v.filter((x) => x.policy === ANCHORS_PROTECTED);
    expect(mine.map((x) => [x.enforcementLevel, x.resource?.name]).sort()).toEqual([
      ["mandatory", "spire-federation-anchors"],
      ["mandatory", "spire-federation-cert-manager-root-cert"],
      ["mandatory", "spire-federation-cert-manager-root-key"],
      ["mandatory", "spire-federation-spire-release"],
      ["mandatory", "spire-federation-vault-jwt"],
    ]);
    expect(mine.find((x) => x.resource?.name === "spire-federation-vault-jwt")?.message).toBe(
      "spire-federation-vault-jwt is the Vault JWT auth backend (a new path drops every role), and it is not protected: a routine pulumi up could delete or replace it; keep spire-federation:anchors.protect true (the default), or unprotect on purpose only for a planned migration",
    );
    const advisory = await runPolicies(policies, plan.resources, {});
    expect(
      advisory.filter((x) => x.policy === ANCHORS_PROTECTED).map((x) => x.enforcementLevel),
    ).toEqual(Array(5).fill("advisory"));
  });
});

everyRuleTested("upgrades");
