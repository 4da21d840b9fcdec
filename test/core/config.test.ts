/** The parser as a whole: unknown keys, every problem at once, the capped error list. */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { baseConfig } from "../fixtures";
import { problemsOf, rejectsEach, type Mutate } from "../support/config-problems";

const badConfigs: [string, Mutate, string[]][] = [
  [
    "a typo in a nested key",
    (c) => {
      c.oidc.hots = c.oidc.host;
      delete c.oidc.host;
    },
    ["spire-federation:oidc.host: required", "spire-federation:oidc.hots: unknown key"],
  ],
  [
    "a typo in a top-level key",
    (c) => (c.trustdomain = "x.example.com"),
    ["spire-federation:trustdomain: unknown key"],
  ],
];

describe("config shape errors", () => {
  rejectsEach(badConfigs);

  it("reports every problem at once, in one error", () => {
    const raw = baseConfig();
    raw.trustDomain = "Bad";
    delete raw.clusterName;
    raw.spire = { replicas: 2, jwtSvidTTL: "48h" };
    (raw.workloads as Record<string, unknown>[])[1].namespace = "NS";
    const problems = problemsOf(raw);
    expect(problems).toEqual([
      "spire-federation:clusterName: required",
      "spire-federation:trustDomain: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
      "spire-federation:spire.jwtSvidTTL: must be at most 24h; a JWT-SVID is a bearer token, usable by whoever holds it until it expires",
      "spire-federation:spire.replicas: must be 1 with the sqlite3 datastore; use postgres or mysql for more replicas",
      "spire-federation:workloads[1].namespace: must be a DNS-1123 label",
    ]);
    try {
      parseStackConfig(raw);
    } catch (e) {
      expect((e as Error).message).toBe(`invalid stack config:\n  ${problems.join("\n  ")}`);
    }
  });
});

describe("the error list is capped", () => {
  /** The ConfigError message for `n` workloads, each with one bad namespace. */
  const messageFor = (n: number) => {
    const raw = baseConfig();
    raw.workloads = Array.from({ length: n }, (_, i) => ({
      name: `w${i}`,
      namespace: "Bad_NS",
      serviceAccount: "sa",
    }));
    try {
      parseStackConfig(raw);
    } catch (e) {
      return { problems: (e as ConfigError).problems, lines: (e as Error).message.split("\n") };
    }
    throw new Error("config was accepted");
  };

  it("lists the first 100 problems in the message, then a count; problems keeps all", () => {
    const { problems, lines } = messageFor(150);
    expect(problems).toHaveLength(150);
    expect(lines[0]).toBe("invalid stack config:");
    expect(lines.slice(1, 101)).toEqual(problems.slice(0, 100).map((p) => `  ${p}`));
    expect(lines[100]).toBe("  spire-federation:workloads[99].namespace: must be a DNS-1123 label");
    expect(lines.slice(101)).toEqual(["  … and 50 more"]);
  });

  it("lists exactly 100 problems without a count", () => {
    const { problems, lines } = messageFor(100);
    expect(lines).toEqual(["invalid stack config:", ...problems.map((p) => `  ${p}`)]);
    expect(lines).toHaveLength(101);
  });
});
