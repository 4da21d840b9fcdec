/** The CrossGuard rules for agents outside the cluster, on compliant and violating resources. */
import { describe, expect, it } from "vitest";
import { TYPES } from "../../components/policies";
import {
  everyRuleTested,
  goodValues,
  release,
  stackViolations,
  violations,
} from "../support/policy-harness";

describe("rules for agents outside the cluster", () => {
  const withChallenge = (hc: Record<string, unknown>) => {
    const v = goodValues() as any;
    v["spire-server"].nodeAttestor = { httpChallenge: hc };
    return release(v);
  };
  const hardened = {
    enabled: true,
    allowedDNSPatterns: ["^edge-1\\.example\\.com$", "^edge-2\\.example\\.com$"],
    requiredPort: 80,
    allowNonRootPorts: false,
  };

  it("spire-http-challenge-hosts", async () => {
    const check = (props: Record<string, unknown>) =>
      violations("spire-http-challenge-hosts", TYPES.helmRelease, props);
    expect(await check(withChallenge(hardened))).toEqual([]);
    expect(await check(release(goodValues()))).toEqual([]);
    // Off: patterns do not matter.
    expect(await check(withChallenge({ enabled: false, allowedDNSPatterns: ["x"] }))).toEqual([]);
    expect(await check(withChallenge({ ...hardened, allowedDNSPatterns: [] }))).toEqual([
      "http_challenge is enabled with no allowedDNSPatterns: any host the server can reach may attest as an agent; list the nodes' hostnames",
    ]);
    expect(await check(withChallenge({ ...hardened, allowedDNSPatterns: undefined }))).toHaveLength(
      1,
    );
    expect(
      await check(
        withChallenge({
          ...hardened,
          allowedDNSPatterns: ["edge-1\\.example\\.com", "^edge-2\\.example\\.com", "^ok$"],
        }),
      ),
    ).toEqual([
      'allowedDNSPatterns entry "edge-1\\\\.example\\\\.com" is not anchored ^…$: SPIRE matches it anywhere in a hostname, so other hosts can attest; anchor it',
      'allowedDNSPatterns entry "^edge-2\\\\.example\\\\.com" is not anchored ^…$: SPIRE matches it anywhere in a hostname, so other hosts can attest; anchor it',
    ]);
    // An escaped dollar is a literal "$", not an anchor.
    expect(await check(withChallenge({ ...hardened, allowedDNSPatterns: ["^a\\$"] }))).toHaveLength(
      1,
    );
  });

  it("spire-http-challenge-root-port", async () => {
    const check = (props: Record<string, unknown>) =>
      violations("spire-http-challenge-root-port", TYPES.helmRelease, props);
    expect(await check(withChallenge(hardened))).toEqual([]);
    expect(await check(withChallenge({ ...hardened, requiredPort: 443 }))).toEqual([]);
    // Any privileged port, or no unprivileged one: only root answers.
    expect(
      await check(
        withChallenge({ ...hardened, requiredPort: undefined, allowNonRootPorts: false }),
      ),
    ).toEqual([]);
    expect(await check(withChallenge({ enabled: false }))).toEqual([]);
    // The chart's defaults: any port.
    expect(await check(withChallenge({ enabled: true, allowedDNSPatterns: ["^a\\.b$"] }))).toEqual([
      "http_challenge accepts unprivileged ports (requiredPort unset, allowNonRootPorts true): any local user of a listed host can answer the challenge and take the node's identity; set requiredPort 80 and allowNonRootPorts false",
    ]);
    expect(
      await check(withChallenge({ ...hardened, requiredPort: 8080, allowNonRootPorts: true })),
    ).toEqual([
      "http_challenge accepts unprivileged ports (requiredPort 8080, allowNonRootPorts true): any local user of a listed host can answer the challenge and take the node's identity; set requiredPort 80 and allowNonRootPorts false",
    ]);
  });

  it("static-entry-waits-on-spire", async () => {
    const spire = { type: TYPES.helmRelease, name: "spire", props: release(goodValues()) };
    const crds = { type: TYPES.helmRelease, name: "crds", props: { chart: "spire-crds" } };
    const entry = (deps: string[]) => ({
      type: TYPES.clusterStaticEntry,
      name: "entry",
      props: {},
      deps,
    });
    const component = {
      type: "spire-federation:index:Nodes",
      name: "nodes",
      props: {},
      deps: ["spire"],
    };
    expect(
      await stackViolations("static-entry-waits-on-spire", [spire, crds, entry(["spire"])]),
    ).toEqual([]);
    // Through another resource that waits on it.
    expect(
      await stackViolations("static-entry-waits-on-spire", [spire, component, entry(["nodes"])]),
    ).toEqual([]);
    expect(
      await stackViolations("static-entry-waits-on-spire", [spire, crds, entry(["crds"])]),
    ).toEqual(["entry does not wait on the spire release"]);
    expect(await stackViolations("static-entry-waits-on-spire", [spire, entry([])])).toEqual([
      "entry does not wait on the spire release",
    ]);
  });
});

everyRuleTested("nodes");
