/** The core config tests' shared pieces: the parser's problems for a config, a datastore. */
import { expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { baseConfig } from "../fixtures";

/** The problems parseStackConfig reports for `raw` (fails the test if it accepts it). */
export function problemsOf(raw: Record<string, unknown>, secretKeys?: string[]): string[] {
  try {
    parseStackConfig(raw, { secretKeys: secretKeys ? new Set(secretKeys) : undefined });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

/** A change to a base config that makes it invalid. */
export type Mutate = (c: Record<string, any>) => void;

/** A postgres datastore block, its password in clear. */
export const postgres = {
  type: "postgres",
  host: "db.example.com",
  database: "spire",
  username: "spire",
  password: "s3cret",
};

/**
 * Tests, inside a describe: each of `badConfigs` (label, change to the base config, the exact
 * problems) is refused with exactly its problems, and no two rows make the same change.
 */
export function rejectsEach(badConfigs: [string, Mutate, string[]][]): void {
  it.each(badConfigs)("%s", (_label, mutate, expected) => {
    const raw = baseConfig();
    mutate(raw);
    expect(problemsOf(raw)).toEqual(expected);
  });

  it("each bad config is a different change", () => {
    expect(new Set(badConfigs.map(([, mutate]) => mutate.toString())).size).toBe(badConfigs.length);
  });
}
