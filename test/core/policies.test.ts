/**
 * The core's CrossGuard rules (SPIRE release, discovery TLS, root of trust), each on a compliant
 * and a violating resource or stack.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { TYPES } from "../../components/policies";
import { effectiveConfig } from "../../tools/policy-runner";
import { ROOT } from "../helpers";
import {
  everyRuleTested,
  goodValues,
  ISSUER,
  policy,
  release,
  stackViolations,
  violations,
} from "../support/policy-harness";

describe("SPIRE release rules", () => {
  const rel = (mutate: (v: ReturnType<typeof goodValues>) => void = () => undefined) => {
    const v = goodValues();
    mutate(v);
    return release(v);
  };
  it("apply only to the spire chart", async () => {
    expect(
      await violations("spire-trust-domain", TYPES.helmRelease, {
        chart: "cert-manager",
        values: {},
      }),
    ).toEqual([]);
  });
  it("spire-jwt-issuer", async () => {
    expect(await violations("spire-jwt-issuer", TYPES.helmRelease, rel())).toEqual([]);
    expect(
      await violations(
        "spire-jwt-issuer",
        TYPES.helmRelease,
        rel((v) => delete (v.global.spire as any).jwtIssuer),
      ),
    ).toEqual(["jwtIssuer is not set: JWT-SVIDs would carry no iss claim"]);
    expect(
      await violations(
        "spire-jwt-issuer",
        TYPES.helmRelease,
        rel((v) => (v.global.spire.jwtIssuer = "http://x")),
      ),
    ).toEqual(["jwtIssuer http://x is not https"]);
  });
  it("spire-trust-domain", async () => {
    expect(await violations("spire-trust-domain", TYPES.helmRelease, rel())).toEqual([]);
    expect(
      await violations(
        "spire-trust-domain",
        TYPES.helmRelease,
        rel((v) => delete (v.global.spire as any).trustDomain),
      ),
    ).toEqual(["the trust domain is the chart's example, example.org"]);
  });
  it("spire-jwt-svid-ttl", async () => {
    expect(
      await violations(
        "spire-jwt-svid-ttl",
        TYPES.helmRelease,
        rel((v) => (v["spire-server"].defaultJwtSvidTTL = "24h")),
      ),
    ).toEqual([]);
    expect(
      await violations(
        "spire-jwt-svid-ttl",
        TYPES.helmRelease,
        rel((v) => (v["spire-server"].defaultJwtSvidTTL = "24h1s")),
      ),
    ).toEqual(["defaultJwtSvidTTL 24h1s exceeds 24h"]);
    expect(
      await violations("spire-jwt-svid-ttl", TYPES.helmRelease, rel(), { maxHours: 0.5 }),
    ).toEqual(["defaultJwtSvidTTL 1h exceeds 0.5h"]);
  });
  it("spire-ha-datastore", async () => {
    expect(await violations("spire-ha-datastore", TYPES.helmRelease, rel())).toEqual([]);
    expect(
      await violations(
        "spire-ha-datastore",
        TYPES.helmRelease,
        rel((v) => {
          v["spire-server"].replicaCount = 3;
          v["spire-server"].dataStore.sql.databaseType = "postgres";
        }),
      ),
    ).toEqual([]);
    expect(
      await violations(
        "spire-ha-datastore",
        TYPES.helmRelease,
        rel((v) => (v["spire-server"].replicaCount = 3)),
      ),
    ).toEqual([
      "3 replicas share nothing on sqlite3: each server would have its own registrations",
    ]);
  });
  it("spire-production-recommendations", async () => {
    expect(await violations("spire-production-recommendations", TYPES.helmRelease, rel())).toEqual(
      [],
    );
    expect(
      await violations(
        "spire-production-recommendations",
        TYPES.helmRelease,
        rel((v) => (v.global.spire.recommendations.enabled = false)),
      ),
    ).toEqual(["global.spire.recommendations.enabled is not true"]);
  });
  it("clusterspiffeid-waits-on-spire", async () => {
    const spire = { type: TYPES.helmRelease, name: "spire", props: rel() };
    const crds = { type: TYPES.helmRelease, name: "crds", props: { chart: "spire-crds" } };
    const id = (deps: string[]) => ({ type: TYPES.clusterSpiffeId, name: "id", props: {}, deps });
    expect(
      await stackViolations("clusterspiffeid-waits-on-spire", [spire, crds, id(["spire"])]),
    ).toEqual([]);
    expect(
      await stackViolations("clusterspiffeid-waits-on-spire", [spire, crds, id(["crds"])]),
    ).toEqual(["id does not wait on the spire release"]);
  });
});

describe("the discovery endpoint's TLS", () => {
  it("public-oidc-tls", async () => {
    const onSpire = goodValues();
    onSpire["spiffe-oidc-discovery-provider"] = { tls: {} } as any; // chart default: SPIRE's own TLS
    const gcpOidc = {
      type: TYPES.gcpProvider,
      name: "oidc",
      props: { oidc: { issuerUri: ISSUER } },
    };
    const gcpX509 = { type: TYPES.gcpProvider, name: "x509", props: { x509: {} } };
    const spire = (v: unknown) => ({ type: TYPES.helmRelease, name: "spire", props: release(v) });
    expect(await stackViolations("public-oidc-tls", [gcpOidc, spire(goodValues())])).toEqual([]);
    expect(await stackViolations("public-oidc-tls", [gcpX509, spire(onSpire)])).toEqual([]);
    expect(await stackViolations("public-oidc-tls", [gcpOidc, spire(onSpire)])).toEqual([
      "the OIDC discovery provider serves SPIRE's own certificate, which oidc cannot trust; use cert-manager (ACME) or an ingress TLS secret",
    ]);
    const ingressTls = goodValues();
    ingressTls["spiffe-oidc-discovery-provider"] = {
      tls: { spire: { enabled: true } },
      ingress: { tlsSecret: "s" },
    } as any;
    expect(await stackViolations("public-oidc-tls", [gcpOidc, spire(ingressTls)])).toEqual([]);
  });
});

describe("root of trust rules", () => {
  it("root-key-in-state is advisory by default, mandatory when configured", async () => {
    expect(
      await violations("root-key-in-state", "tls:index/selfSignedCert:SelfSignedCert", {}),
    ).toEqual([]);
    expect(
      await violations("root-key-in-state", TYPES.tlsKey, {
        algorithm: "ECDSA",
        ecdsaCurve: "P256",
      }),
    ).toHaveLength(1);
    const p = policy("root-key-in-state");
    expect(effectiveConfig(p, {}).level).toBe("advisory");
    expect(
      effectiveConfig(
        p,
        JSON.parse(readFileSync(path.join(ROOT, "policy", "config", "prod.json"), "utf8")),
      ).level,
    ).toBe("mandatory");
  });
  it("ca-key-strength", async () => {
    expect(
      await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "ECDSA", ecdsaCurve: "P256" }),
    ).toEqual([]);
    expect(
      await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "RSA", rsaBits: 4096 }),
    ).toEqual([]);
    expect(
      await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "RSA", rsaBits: 1024 }),
    ).toEqual(["RSA key of 1024 bits; at least 2048 required"]);
    expect(await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "ECDSA" })).toEqual([
      "ECDSA curve P224 is not one of P256, P384, P521",
    ]);
    expect(await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "ED25519" })).toEqual([
      "key algorithm ED25519 is not RSA or ECDSA",
    ]);
    expect(
      await violations(
        "ca-key-strength",
        TYPES.tlsKey,
        { algorithm: "RSA", rsaBits: 2048 },
        { minRsaBits: 3072 },
      ),
    ).toHaveLength(1);
    const v = goodValues();
    expect(await violations("ca-key-strength", TYPES.helmRelease, release(v))).toEqual([]);
    v["spire-server"].caKeyType = "rsa-1024";
    expect(await violations("ca-key-strength", TYPES.helmRelease, release(v))).toEqual([
      "SPIRE caKeyType rsa-1024 is weaker than RSA 2048",
    ]);
  });
});

describe("spire-rotation-lead (its config rule and the factory: rotation-lead.test.ts)", () => {
  const spire = (caTTL?: string) => ({
    type: TYPES.helmRelease,
    name: "spire",
    props: { chart: "spire", values: { "spire-server": caTTL ? { caTTL } : {} } },
  });
  const fic = { type: TYPES.fic, name: "fic-payments", props: { issuer: "https://x" } };
  const backend = { type: TYPES.vaultBackend, name: "jwt", props: {} };

  it("is mandatory, and passes today's facts: Vault refetches, Entra publishes no cache", async () => {
    expect(policy("spire-rotation-lead").enforcementLevel).toBe("mandatory");
    expect(await stackViolations("spire-rotation-lead", [spire("1h"), backend, fic])).toEqual([]);
  });

  it("fails a caTTL whose lead is shorter than a measured Entra cache (cacheMinutes)", async () => {
    const measured = { cacheMinutes: { azure: 24 * 60 } };
    expect(await stackViolations("spire-rotation-lead", [spire(), fic], measured)).toEqual([
      "SPIRE's caTTL is 24h while Azure Entra ID verifies JWT-SVIDs (fic-payments): SPIRE publishes its next JWT key 8h before signing with it, and Azure Entra ID refetches the JWKS only every 24h: set spire.caTTL to at least 72h (cacheMinutes.azure in the policy config)",
    ]);
    expect(await stackViolations("spire-rotation-lead", [spire("72h"), fic], measured)).toEqual([]);
    // No planned verifier of that party: nothing to compare.
    expect(await stackViolations("spire-rotation-lead", [spire(), backend], measured)).toEqual([]);
  });
});

everyRuleTested("core");
