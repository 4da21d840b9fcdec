/** Google Cloud's CrossGuard rules, each on a compliant and a violating resource or stack. */
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

describe("Google Cloud rules", () => {
  it("gcp-provider-mapping", async () => {
    const oidc = {
      attributeMapping: { "google.subject": "assertion.sub" },
      attributeCondition: 'assertion.sub.startsWith("spiffe://td/")',
      oidc: { issuerUri: ISSUER },
    };
    const x509 = {
      attributeMapping: { "google.subject": "assertion.san.uri" },
      attributeCondition: "true",
      x509: { trustStore: {} },
    };
    expect(await violations("gcp-provider-mapping", TYPES.gcpProvider, oidc)).toEqual([]);
    expect(await violations("gcp-provider-mapping", TYPES.gcpProvider, x509)).toEqual([]);
    expect(
      await violations("gcp-provider-mapping", TYPES.gcpProvider, {
        ...oidc,
        attributeMapping: {},
        attributeCondition: " ",
      }),
    ).toEqual([
      "google.subject is not mapped: every token would be rejected",
      "no attributeCondition: any credential the provider accepts could act as this pool; limit it to the trust domain",
    ]);
    expect(
      await violations("gcp-provider-mapping", TYPES.gcpProvider, {
        ...x509,
        attributeMapping: {},
      }),
    ).toEqual([
      'X.509 provider maps google.subject to "": SPIRE\'s leaves have no CN; map it to assertion.san.uri',
    ]);
  });

  const pool =
    "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*";
  const one = `principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/${SPIFFE}`;
  it("gcp-no-pool-wide-grant", async () => {
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: one,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: `${pool.slice(0, -2)}/attribute.ns/a`,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: pool,
      }),
    ).toEqual([`roles/viewer is granted to the whole pool (${pool})`]);
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpBinding, {
        role: "roles/viewer",
        members: [one, pool],
      }),
    ).toHaveLength(1);
  });

  it("gcp-no-pool-wide-privileged-grant", async () => {
    expect(
      await violations("gcp-no-pool-wide-privileged-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: pool,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-privileged-grant", TYPES.gcpMember, {
        role: "roles/owner",
        member: one,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-privileged-grant", TYPES.gcpMember, {
        role: "roles/editor",
        member: pool,
      }),
    ).toEqual([`privileged role roles/editor is granted to every identity of the pool (${pool})`]);
    expect(
      await violations(
        "gcp-no-pool-wide-privileged-grant",
        TYPES.gcpMember,
        { role: "roles/viewer", member: pool },
        { privilegedRoles: ["roles/viewer"] },
      ),
    ).toHaveLength(1);
  });

  it("gcp-oidc-jwt-algorithm", async () => {
    const oidc = { type: TYPES.gcpProvider, name: "oidc", props: { oidc: { issuerUri: ISSUER } } };
    const x509 = { type: TYPES.gcpProvider, name: "x509", props: { x509: {} } };
    const spire = (caKeyType: string) => {
      const v = goodValues();
      v["spire-server"].caKeyType = caKeyType;
      return { type: TYPES.helmRelease, name: "spire", props: release(v) };
    };
    for (const ok of ["rsa-2048", "rsa-4096", "ec-p256"]) {
      expect(await stackViolations("gcp-oidc-jwt-algorithm", [oidc, spire(ok)])).toEqual([]);
    }
    expect(await stackViolations("gcp-oidc-jwt-algorithm", [x509, spire("ec-p384")])).toEqual([]);
    expect(await stackViolations("gcp-oidc-jwt-algorithm", [oidc, spire("ec-p384")])).toEqual([
      "SPIRE's caKeyType is ec-p384 but Google Cloud OIDC providers exist: Google Cloud's STS accepts RS256 and ES256 tokens only",
    ]);
    expect(await stackViolations("gcp-oidc-jwt-algorithm", [oidc, spire("ed25519")])).toEqual([
      "SPIRE's caKeyType is ed25519 but Google Cloud OIDC providers exist: Google Cloud's STS accepts RS256 and ES256 tokens only",
    ]);
  });
});

everyRuleTested("gcp");
