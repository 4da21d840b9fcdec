/** SPIRE's settings and the charts: TTLs, replicas and datastores, CA key types, chart versions. */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { baseConfig } from "../fixtures";
import { postgres, rejectsEach, type Mutate } from "../support/config-problems";

const badConfigs: [string, Mutate, string[]][] = [
  [
    "unparsable caTTL (days are not a Go duration)",
    (c) => (c.spire = { caTTL: "1d" }),
    [
      "spire-federation:spire.caTTL: must be a positive duration such as 1h, 30m or 1h30m (units h, m, s)",
    ],
  ],
  [
    "JWT-SVID TTL over 24h",
    (c) => (c.spire = { caTTL: "72h", jwtSvidTTL: "25h" }),
    [
      "spire-federation:spire.jwtSvidTTL: must be at most 24h; a JWT-SVID is a bearer token, usable by whoever holds it until it expires",
    ],
  ],
  [
    "X509-SVID TTL not shorter than the CA TTL",
    (c) => (c.spire = { caTTL: "4h", x509SvidTTL: "4h" }),
    [
      "spire-federation:spire.x509SvidTTL: must be shorter than spire.caTTL (4h); SPIRE cannot sign past its CA's expiry",
    ],
  ],
  [
    "replicas > 1 with sqlite3",
    (c) => (c.spire = { replicas: 3 }),
    [
      "spire-federation:spire.replicas: must be 1 with the sqlite3 datastore; use postgres or mysql for more replicas",
    ],
  ],
  [
    "unknown CA key type",
    (c) => (c.spire = { caKeyType: "ec-p521" }),
    ["spire-federation:spire.caKeyType: must be rsa-2048, rsa-4096, ec-p256 or ec-p384"],
  ],
  [
    "postgres without a password",
    (c) => {
      const { password: _p, ...rest } = postgres;
      c.spire = { datastore: rest };
    },
    ["spire-federation:spire.datastore.password: required"],
  ],
  [
    "unknown datastore type",
    (c) => (c.spire = { datastore: { type: "oracle" } }),
    ['spire-federation:spire.datastore.type: must be "sqlite3", "postgres" or "mysql"'],
  ],
  [
    "replicas not a number",
    (c) => (c.spire = { replicas: "three" }),
    ["spire-federation:spire.replicas: must be a number"],
  ],
  [
    "a spire chart version range",
    (c) => (c.spire = { chartVersion: "^0.30.0" }),
    ["spire-federation:spire.chartVersion: must be an exact SemVer chart version such as 0.30.0"],
  ],
  [
    "a partial spire-crds chart version",
    (c) => (c.spire = { crdsChartVersion: "0.6" }),
    [
      "spire-federation:spire.crdsChartVersion: must be an exact SemVer chart version such as 0.6.0",
    ],
  ],
  [
    "a cert-manager chart version that is not SemVer",
    (c) => (c.certManager = { chartVersion: "latest" }),
    [
      "spire-federation:certManager.chartVersion: must be an exact SemVer chart version such as v1.19.1",
    ],
  ],
  [
    "a cert-manager chart version with a leading zero",
    (c) => (c.certManager = { chartVersion: "v1.019.1" }),
    [
      "spire-federation:certManager.chartVersion: must be an exact SemVer chart version such as v1.19.1",
    ],
  ],
];

describe("SPIRE and chart config errors", () => {
  rejectsEach(badConfigs);
});

describe("chart versions", () => {
  it.each([
    ["spire", "chartVersion", "0.30.0"],
    ["spire", "chartVersion", "0.31.0-rc.1+build.5"],
    ["spire", "crdsChartVersion", "v0.6.0"],
    ["certManager", "chartVersion", "v1.19.1"],
    ["certManager", "chartVersion", "1.19.1"],
  ])("%s.%s %s is accepted", (block, key, version) => {
    const raw = { ...baseConfig(), [block]: { [key]: version } };
    const m = parseStackConfig(raw) as unknown as Record<string, Record<string, string>>;
    expect(m[block][key]).toBe(version);
  });
});
