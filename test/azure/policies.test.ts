/** Entra ID's CrossGuard rules, each on a compliant and a violating resource or stack. */
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

describe("Entra rules", () => {
  const good = {
    issuer: ISSUER,
    subject: SPIFFE,
    audiences: ["api://AzureADTokenExchange"],
    resourceGroupName: "rg",
    resourceName: "id",
  };
  it("entra-federated-credential", async () => {
    expect(await violations("entra-federated-credential", TYPES.fic, good)).toEqual([]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, {
        ...good,
        issuer: "http://x",
        subject: "spiffe://td/a/",
        audiences: ["a", "b"],
      }),
    ).toEqual([
      "issuer http://x is not https",
      "subject spiffe://td/a/ is not a SPIFFE ID: path cannot have a trailing slash",
      "audiences has 2 entries; Entra requires exactly one",
    ]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, {
        ...good,
        subject: "spiffe://td/ns/*",
      }),
    ).toEqual(["subject spiffe://td/ns/* contains a wildcard: Entra matches it literally"]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, {
        ...good,
        subject: SPIFFE + "/x".repeat(300),
      }),
    ).toEqual(["subject is 635 characters; Entra accepts at most 600"]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, good, { maxClaimLength: 20 }),
    ).toHaveLength(2);
  });

  it("entra-credentials-per-identity", async () => {
    const fic = (name: string, subject: string, identity = "id") => ({
      type: TYPES.fic,
      name,
      props: { ...good, resourceName: identity, subject },
    });
    const three = [fic("a", `${SPIFFE}1`), fic("b", `${SPIFFE}2`), fic("c", `${SPIFFE}3`, "other")];
    expect(await stackViolations("entra-credentials-per-identity", three)).toEqual([]);
    expect(
      await stackViolations("entra-credentials-per-identity", three, {
        maxCredentialsPerIdentity: 1,
      }),
    ).toEqual(["identity rg/id has 2 federated credentials; Entra allows at most 1"]);
    const twentyOne = Array.from({ length: 21 }, (_, i) => fic(`f${i}`, `${SPIFFE}${i}`));
    expect(await stackViolations("entra-credentials-per-identity", twentyOne)).toEqual([
      "identity rg/id has 21 federated credentials; Entra allows at most 20",
    ]);
    expect(
      await stackViolations("entra-credentials-per-identity", [fic("a", SPIFFE), fic("b", SPIFFE)]),
    ).toEqual([`identity rg/id trusts issuer ${ISSUER} with subject ${SPIFFE} twice (also a)`]);
  });

  it("entra-needs-rsa-ca-key", async () => {
    const fic = { type: TYPES.fic, name: "fic", props: good };
    const ec = goodValues();
    ec["spire-server"].caKeyType = "ec-p256";
    expect(
      await stackViolations("entra-needs-rsa-ca-key", [
        fic,
        { type: TYPES.helmRelease, name: "spire", props: release(goodValues()) },
      ]),
    ).toEqual([]);
    expect(
      await stackViolations("entra-needs-rsa-ca-key", [
        { type: TYPES.helmRelease, name: "spire", props: release(ec) },
      ]),
    ).toEqual([]);
    expect(
      await stackViolations("entra-needs-rsa-ca-key", [
        fic,
        { type: TYPES.helmRelease, name: "spire", props: release(ec) },
      ]),
    ).toEqual([
      "SPIRE's caKeyType is ec-p256 but Entra federated credentials exist: Entra accepts RS256 tokens only",
    ]);
  });

  it("entra-jwt-svid-ttl", async () => {
    const fic = { type: TYPES.fic, name: "fic", props: good };
    const withTtl = (ttl: string | undefined) => {
      const v: any = goodValues();
      if (ttl === undefined) delete v["spire-server"].defaultJwtSvidTTL;
      else v["spire-server"].defaultJwtSvidTTL = ttl;
      return { type: TYPES.helmRelease, name: "spire", props: release(v) };
    };
    const name = "entra-jwt-svid-ttl";
    expect(await stackViolations(name, [fic, withTtl("50m")])).toEqual([]);
    expect(await stackViolations(name, [fic, withTtl(undefined)])).toEqual([]); // chart: 1h
    expect(await stackViolations(name, [withTtl("15m")])).toEqual([]); // no Entra credential
    expect(await stackViolations(name, [fic, withTtl("49m59s")])).toEqual([
      "SPIRE's defaultJwtSvidTTL is 49m59s but Entra federated credentials exist: at least 50m, or the Azure SDKs post expired assertions (AADSTS700024)",
    ]);
    expect(await stackViolations(name, [fic, withTtl("50m")], { minMinutes: 60 })).toEqual([
      "SPIRE's defaultJwtSvidTTL is 50m but Entra federated credentials exist: at least 60m, or the Azure SDKs post expired assertions (AADSTS700024)",
    ]);
  });
});

everyRuleTested("azure");
