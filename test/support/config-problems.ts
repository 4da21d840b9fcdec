/** The core config tests' shared pieces: the parser's problems for a config, a datastore. */
import { expect } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";

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
