/** Go durations (SPIRE's TTL format), parsed without dependencies (the policy pack uses it too). */

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Parses a Go duration (`90m`, `1h30m`, `24h`) into seconds; `undefined` when it is not one. */
export function parseDuration(value: string): number | undefined {
  if (!GO_DURATION.test(value)) {
    return undefined;
  }
  let seconds = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    seconds += Number(m[1]) * DURATION_UNITS[m[2]];
  }
  return seconds;
}
