/**
 * Plan pairs of the example stacks: a trust-domain, root or pool-ID change is named by the offline
 * diff as a change `pulumi up` refuses, the plan exits 5 on it, and the engine's own rules (the
 * model in engine-model.ts, driven by the recorded options) refuse the same update. Routine
 * changes and an allowed migration pass.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ANCHOR_EXIT_CODE, anchorChanges } from "../../tools/anchor-diff";
import { diffPlans } from "../../tools/diff";
import type { Plan } from "../../tools/plan-types";
import { main } from "../compiled";
import { makeCertificate } from "../fixtures";
import { engineModel } from "./engine-model";
import { planEdited, planOf, withAnchors } from "./plans";

afterEach(() => {
  vi.restoreAllMocks();
});

const GUARD =
  "urn:pulumi:*::spire-federation::spire-federation:index:SpireFederation$pulumi-nodejs:dynamic/spire-federation:Anchors::spire-federation-anchors";
const REFUSED_REPLACE = (urn: string) =>
  `unable to replace resource "${urn}"\nas it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``;

function changes(base: Plan, next: Plan) {
  return anchorChanges(base, next, diffPlans(base, next))
    .map((c) => [c.effect, c.name])
    .sort((a, b) => a.join(" ").localeCompare(b.join(" ")));
}

const trustDomain = (y: string) =>
  y.replace("trustDomain: dev.spiffe.example.com", "trustDomain: dev2.spiffe.example.com");
const poolId = (y: string) => y.replace("poolId: spiffe-prod", "poolId: spiffe-prod2");

describe("a changed anchor between two plans", () => {
  let dev: Plan;
  let prod: Plan;
  beforeAll(async () => {
    dev = await planOf("dev");
    prod = await planOf("prod");
  });

  it("a trust-domain change: the guard's replacement is refused, the root and SPIRE change", async () => {
    const next = await planEdited("dev", trustDomain);
    expect(changes(dev, next)).toEqual([
      ["changes", "spire-federation-cert-manager-root-cert"],
      ["changes", "spire-federation-spire-release"],
      ["refused", "spire-federation-anchors"],
    ]);
    const guard = anchorChanges(dev, next, diffPlans(dev, next)).find(
      (c) => c.effect === "refused",
    );
    expect(guard?.reason).toBe(
      `anchors.trustDomain changed (replaceOnChanges): replaces the record of the stack's anchored values, protected: pulumi up refuses ("unable to replace resource … as it is currently marked for protection")`,
    );
    const model = engineModel(dev, next);
    const guardUrn = next.resources.find((r) => r.name === "spire-federation-anchors")?.urn ?? "";
    expect(model.errors).toEqual([REFUSED_REPLACE(guardUrn)]);
    expect(model.steps.find((s) => s.urn === GUARD)?.op).toBe("replace");
  });

  it("a root change (a new root PEM for the existing ClusterIssuer) is refused", async () => {
    const { pem } = await makeCertificate({ subject: "CN=Example Corp Root CA 2", ca: true });
    const indented = pem
      .trim()
      .split("\n")
      .map((l) => `      ${l}`)
      .join("\n");
    const next = await planEdited("prod", (y) =>
      y.replace(/ {6}-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/, indented),
    );
    const named = changes(prod, next);
    expect(named).toContainEqual(["refused", "spire-federation-anchors"]);
    expect(named).toContainEqual(["changes", "spire-federation-gcp-x509"]);
    expect(named).toContainEqual(["changes", "spire-federation-openziti-ca"]);
    const guardUrn = next.resources.find((r) => r.name === "spire-federation-anchors")?.urn ?? "";
    expect(engineModel(prod, next).errors).toEqual([REFUSED_REPLACE(guardUrn)]);
  });

  it("a pool-ID change is refused (guard) and changes the pool and its providers", async () => {
    const next = await planEdited("prod", poolId);
    const named = changes(prod, next);
    expect(named).toContainEqual(["refused", "spire-federation-anchors"]);
    expect(named).toContainEqual(["changes", "spire-federation-gcp-pool"]);
    expect(named).toContainEqual(["changes", "spire-federation-gcp-oidc"]);
    expect(engineModel(prod, next).errors).toHaveLength(1);
  });

  it("a routine change (the JWT-SVID TTL in SPIRE's values) names no anchor", async () => {
    const next = await planEdited("dev", (y) =>
      y.replace("    jwtSvidTTL: 1h\n    replicas: 1\n", "    jwtSvidTTL: 30m\n    replicas: 1\n"),
    );
    expect(changes(dev, next)).toEqual([]);
    expect(engineModel(dev, next).errors).toEqual([]);
  });

  it("anchors.allowMigration lets the trust domain through the guard; the engine allows it", async () => {
    const next = await planEdited("dev", (y) =>
      withAnchors(trustDomain(y), ["allowMigration: [trustDomain]"]),
    );
    const named = changes(dev, next);
    expect(named).not.toContainEqual(["refused", "spire-federation-anchors"]);
    expect(engineModel(dev, next).errors).toEqual([]);
  });

  it("anchors.protect false: nothing is protected, the diff says so, the engine replaces", async () => {
    const next = await planEdited("dev", (y) => withAnchors(trustDomain(y), ["protect: false"]));
    expect(next.resources.filter((r) => r.options?.protect)).toEqual([]);
    const named = changes(dev, next);
    expect(named).toContainEqual(["unprotects", "spire-federation-anchors"]);
    expect(named).toContainEqual(["unprotects", "spire-federation-cert-manager-root-key"]);
    // The engine lets an unprotect and a replacement happen in one update.
    expect(engineModel(dev, next).errors).toEqual([]);
  });

  it("a plan written before options were recorded still works as a --diff base", async () => {
    const old: Plan = {
      ...dev,
      resources: dev.resources.map(({ options: _o, ...r }) => r),
    };
    const next = await planEdited("dev", trustDomain);
    expect(changes(old, next)).toContainEqual(["refused", "spire-federation-anchors"]);
    expect(changes(old, dev)).toEqual([]);
  });
});

describe("npm run plan -- --diff exits 5 on an anchor change", () => {
  it("prints each change and exits 5", async () => {
    const base = await planEdited("prod", poolId);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "anchors-")), "base.json");
    writeFileSync(file, JSON.stringify(base));
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const code = await main(["--stack", "prod", "--diff", file]);
    expect(code).toBe(ANCHOR_EXIT_CODE);
    const text = log.mock.calls.map((c) => String(c[0])).join("\n");
    expect(text).toMatch(/^Anchors: \d+ changes to anchors \(exit 5\)$/m);
    expect(text).toContain(
      "! refused  pulumi-nodejs:dynamic/spire-federation:Anchors  spire-federation-anchors: anchors.gcpPool changed (replaceOnChanges)",
    );
  });

  it("exits 0 against the same plan", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "anchors-")), "base.json");
    writeFileSync(file, JSON.stringify(await planOf("dev")));
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(await main(["--stack", "dev", "--diff", file])).toBe(0);
  });
});
