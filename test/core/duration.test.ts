/** Go-style durations as the SPIRE chart takes them. */
import { describe, expect, it } from "vitest";
import { parseDuration } from "../../components/config";

describe("parseDuration", () => {
  it.each([
    ["1h", 3600],
    ["90m", 5400],
    ["1h30m", 5400],
    ["24h", 86400],
    ["1.5h", 5400],
    ["500ms", 0.5],
  ])("%s = %d s", (d, s) => expect(parseDuration(d)).toBe(s));
  it.each(["1d", "h", "", "10", "-1h", "1 h", "1H"])("%j is not a duration", (d) =>
    expect(parseDuration(d)).toBeUndefined(),
  );
});
