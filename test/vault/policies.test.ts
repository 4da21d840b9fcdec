/** Vault's CrossGuard rules, each on a compliant and a violating resource or stack. */
import { describe, expect, it } from "vitest";
import { TYPES } from "../../components/policies";
import {
  everyRuleTested,
  goodValues,
  ISSUER,
  release,
  SPIFFE,
  stackViolations,
  violations,
} from "../support/policy-harness";

describe("Vault rules", () => {
  const good = {
    roleType: "jwt",
    userClaim: "sub",
    boundAudiences: ["vault"],
    boundClaims: { sub: SPIFFE },
    boundClaimsType: "string",
  };
  it("vault-jwt-role", async () => {
    expect(await violations("vault-jwt-role", TYPES.vaultRole, good)).toEqual([]);
    expect(
      await violations("vault-jwt-role", TYPES.vaultRole, {
        ...good,
        boundClaims: undefined,
        boundSubject: SPIFFE,
      }),
    ).toEqual([]);
    expect(
      await violations("vault-jwt-role", TYPES.vaultRole, {
        boundAudiences: [],
        boundClaims: { sub: "*" },
      }),
    ).toEqual([
      'roleType is "": Vault treats an empty role type as oidc (a browser flow); set "jwt"',
      "boundAudiences is empty: Vault rejects every token that carries an aud claim",
      'no SPIFFE ID is bound: set boundClaims.sub (or boundSubject) to the workload\'s SPIFFE ID, not "*"',
      'userClaim is not set: set it to "sub" so that the SPIFFE ID names the entity',
    ]);
    expect(
      await violations("vault-jwt-role", TYPES.vaultRole, { ...good, boundClaims: {} }),
    ).toHaveLength(1);
    expect(await violations("vault-jwt-role", "vault:index/policy:Policy", {})).toEqual([]);
  });

  it("vault-jwt-backend-discovery", async () => {
    expect(
      await violations("vault-jwt-backend-discovery", TYPES.vaultBackend, {
        oidcDiscoveryUrl: ISSUER,
        boundIssuer: ISSUER,
      }),
    ).toEqual([]);
    expect(
      await violations("vault-jwt-backend-discovery", TYPES.vaultBackend, {
        oidcDiscoveryUrl: "http://x",
        boundIssuer: `${ISSUER}/`,
      }),
    ).toEqual([
      "oidcDiscoveryUrl http://x is not https",
      `boundIssuer "${ISSUER}/" differs from oidcDiscoveryUrl "http://x": Vault compares them exactly, trailing slash included`,
    ]);
    expect(await violations("vault-jwt-backend-discovery", TYPES.vaultBackend, {})).toEqual([
      "oidcDiscoveryUrl is not set",
    ]);
  });

  it("vault-backend-waits-on-gate", async () => {
    const gate = {
      type: TYPES.command,
      name: "gate",
      props: { environment: { GATE_ISSUER: ISSUER } },
      deps: ["release"],
    };
    const rel = { type: TYPES.helmRelease, name: "release", props: release(goodValues()) };
    const backend = (deps: string[]) => ({
      type: TYPES.vaultBackend,
      name: "backend",
      props: { oidcDiscoveryUrl: ISSUER },
      deps,
    });
    expect(
      await stackViolations("vault-backend-waits-on-gate", [rel, gate, backend(["gate"])]),
    ).toEqual([]);
    expect(
      await stackViolations("vault-backend-waits-on-gate", [rel, gate, backend(["release"])]),
    ).toEqual([
      `backend does not wait on a readiness gate for ${ISSUER}: the write fails while discovery is unreachable`,
    ]);
    // a gate for another issuer does not count
    const other = { ...gate, props: { environment: { GATE_ISSUER: "https://other.example.com" } } };
    expect(
      await stackViolations("vault-backend-waits-on-gate", [rel, other, backend(["gate"])]),
    ).toHaveLength(1);
  });
});

everyRuleTested("vault");
