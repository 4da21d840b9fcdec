/**
 * The anchor guard's provider as the engine calls it (`diff(id, olds, news)`): a changed anchored
 * value is refused with the reason and the way out, unless `allowMigration` lists it; a list-valued
 * anchor may grow; a skipped spire chart minor is refused; with `enforce` off it reports the
 * replacement instead. And `anchors.*` config: the skipped minor as a config error.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  anchorGuardProvider,
  type AnchorGuardState,
  guardProblems,
  replacedOnChange,
  rootFingerprint,
} from "../../components/anchor-guard";
import { SPIRE_UPGRADE_NOTES, spireUpgradeProblem } from "../../components/spire-upgrades";
import { baseConfig } from "../fixtures";
import { configProblems } from "../helpers";

const state = (over: Partial<AnchorGuardState> = {}): AnchorGuardState => ({
  anchors: {
    trustDomain: "prod.example.org",
    issuer: "https://oidc.prod.example.org",
    clusterName: "prod",
    root: rootFingerprint("PEM"),
    gcpPool: "acme/spiffe-prod",
    azureIdentities: "api,worker",
  },
  allowMigration: [],
  enforce: true,
  spireChart: "0.30.0",
  ...over,
});
const diff = (olds: AnchorGuardState, news: AnchorGuardState) =>
  (anchorGuardProvider.diff as NonNullable<typeof anchorGuardProvider.diff>)("anchors", olds, news);
const WAY_OUT =
  'a changed anchor means a new stack; to migrate on purpose list it in spire-federation:anchors.allowMigration (see the README, "Anchors")';

describe("the guard's diff", () => {
  it("the same values: no change", async () => {
    expect(await diff(state(), state())).toEqual({ changes: false, replaces: [] });
  });

  it("a trust-domain change is refused with the reason and the way out", async () => {
    const news = state({ anchors: { ...state().anchors, trustDomain: "prod2.example.org" } });
    await expect(diff(state(), news)).rejects.toThrow(
      `spire-federation:anchors: trustDomain changed from "prod.example.org" to "prod2.example.org" on a deployed stack; every SPIFFE ID, Vault sub, Entra subject, Google principal and peer federation: ${WAY_OUT}`,
    );
  });

  it("every changed value is named, and a chart skip too", () => {
    const news = state({
      anchors: { ...state().anchors, root: rootFingerprint("PEM2"), gcpPool: "acme/other" },
      spireChart: "0.32.0",
    });
    expect(guardProblems(state(), news).map((p) => p.split(";")[0])).toEqual([
      `spire-federation:anchors: root changed from "${rootFingerprint("PEM")}" to "${rootFingerprint("PEM2")}" on a deployed stack`,
      'spire-federation:anchors: gcpPool changed from "acme/spiffe-prod" to "acme/other" on a deployed stack',
      "spire-federation:spire.chartVersion: the spire chart goes from 0.30.0 to 0.32.0, skipping a version",
    ]);
  });

  it("allowMigration lets the listed value through as a replacement-free update", async () => {
    const news = state({
      anchors: { ...state().anchors, clusterName: "prod-b" },
      allowMigration: ["clusterName"],
    });
    expect(await diff(state(), news)).toEqual({ changes: true, replaces: [] });
  });

  it("an identity may be added; a dropped one is refused", async () => {
    const grown = state({ anchors: { ...state().anchors, azureIdentities: "api,batch,worker" } });
    expect(await diff(state(), grown)).toEqual({ changes: true, replaces: [] });
    const shrunk = state({ anchors: { ...state().anchors, azureIdentities: "api" } });
    await expect(diff(state(), shrunk)).rejects.toThrow(
      /^spire-federation:anchors: azureIdentities changed from "api,worker" to "api" on a deployed stack; a new identity has a new client ID/,
    );
  });

  it("with enforce off it reports the replacement (the engine then replaces the unprotected guard)", async () => {
    const news = state({
      anchors: { ...state().anchors, issuer: "https://oidc2.prod.example.org" },
      enforce: false,
    });
    expect(await diff(state(), news)).toEqual({ changes: true, replaces: ["anchors.issuer"] });
  });

  it("the first deployment (no old values) and the next chart minor pass", async () => {
    expect(guardProblems({}, state())).toEqual([]);
    expect(await diff(state(), state({ spireChart: "0.31.0" }))).toEqual({
      changes: true,
      replaces: [],
    });
  });

  it("replaceOnChanges covers every anchored value but the allowed and the list-valued ones", () => {
    expect(replacedOnChange(["trustDomain"])).toEqual([
      "anchors.issuer",
      "anchors.root",
      "anchors.clusterName",
      "anchors.vaultPath",
      "anchors.gcpPool",
    ]);
  });
});

describe("spire chart upgrades", () => {
  it.each([
    ["0.30.0", "0.30.1", undefined],
    ["0.29.2", "0.30.0", undefined],
    ["0.30.0", "0.29.0", undefined],
    ["0.30.0", "1.0.0", undefined],
    ["0.30.0", "1.1.0", "deploy 1.0.x first"],
    ["0.28.5", "0.30.0", "deploy 0.29.x first"],
    ["0.23.0", "0.26.1", "deploy 0.24.x first"],
  ])("%s → %s", (from, to, expected) => {
    const p = spireUpgradeProblem(from, to);
    if (expected === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(expected);
  });

  it("names the notes of each minor version crossed", () => {
    expect(spireUpgradeProblem("0.23.0", "0.26.1")).toBe(
      "the spire chart goes from 0.23.0 to 0.26.1, skipping a version; it upgrades one minor version at a time (spire-crds first): deploy 0.24.x first, and read the chart's upgrade notes (https://github.com/spiffe/helm-charts-hardened/blob/main/charts/spire/README.md#upgrade-notes): " +
        `0.24.X: ${SPIRE_UPGRADE_NOTES["0.24"].join("; ")} | 0.26.X: ${SPIRE_UPGRADE_NOTES["0.26"].join("; ")}`,
    );
  });

  it("the notes table has exactly the carried README's version headings", () => {
    const readme = readFileSync(
      path.join(__dirname, "../contracts/spire/spire-0.30.0-upgrade-notes.md"),
      "utf8",
    );
    const headings = [...readme.matchAll(/^### (\d+\.\d+)\.X$/gm)].map((m) => m[1]);
    expect(Object.keys(SPIRE_UPGRADE_NOTES).sort()).toEqual([...headings].sort());
    expect(readme).toContain(
      "We only support upgrading one major/minor version at a time. Version skipping isn't supported.",
    );
  });

  it("a skipped minor is a config error naming the key, both versions and the notes", () => {
    const raw = { ...baseConfig(), anchors: { deployedSpireChart: "0.28.5" } };
    expect(configProblems(raw)).toEqual([
      `spire-federation:spire.chartVersion: ${spireUpgradeProblem("0.28.5", "0.30.0")} (anchors.deployedSpireChart is 0.28.5)`,
    ]);
    expect(configProblems(raw)[0]).toContain("0.30.X: upgrade spire-crds first");
  });

  it("anchors' own keys are checked", () => {
    const raw = {
      ...baseConfig(),
      anchors: {
        protect: "yes",
        allowMigration: ["trustDomain", "colour"],
        deployedSpireChart: "0.30",
      },
    };
    expect(configProblems(raw)).toEqual([
      "spire-federation:anchors.protect: must be true or false",
      "spire-federation:anchors.allowMigration[1]: must be one of trustDomain, issuer, root, clusterName, vaultPath, gcpPool, azureIdentities",
      "spire-federation:anchors.deployedSpireChart: must be an exact SemVer chart version such as 0.30.0",
    ]);
  });
});
