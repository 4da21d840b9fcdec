/** OpenZiti's CrossGuard rule on a compliant and a violating CA. */
import { describe, expect, it } from "vitest";
import { TYPES } from "../../components/policies";
import { everyRuleTested, violations } from "../support/policy-harness";

describe("OpenZiti rules", () => {
  it("openziti-ca", async () => {
    const body = {
      name: "spire",
      isAuthEnabled: true,
      isAutoCaEnrollmentEnabled: false,
      isOttCaEnrollmentEnabled: false,
      externalIdClaim: {
        location: "SAN_URI",
        matcher: "SCHEME",
        matcherCriteria: "spiffe",
        parser: "NONE",
        parserCriteria: "",
        index: 0,
      },
    };
    expect(await violations("openziti-ca", TYPES.zitiCa, { kind: "ca", body })).toEqual([]);
    expect(
      await violations("openziti-ca", "pulumi-nodejs:dynamic/openziti:Identity", { body: {} }),
    ).toEqual([]);
    expect(
      await violations("openziti-ca", TYPES.zitiCa, {
        body: {
          ...body,
          isAuthEnabled: false,
          isAutoCaEnrollmentEnabled: true,
          isOttCaEnrollmentEnabled: true,
          externalIdClaim: { location: "COMMON_NAME", matcher: "ALL" },
        },
      }),
    ).toEqual([
      "isAuthEnabled is not true: SPIFFE certificates could not authenticate",
      "isAutoCaEnrollmentEnabled is not false: any SVID holder could enroll a new identity",
      "isOttCaEnrollmentEnabled is not false",
      'externalIdClaim {"location":"COMMON_NAME","matcher":"ALL"} does not read the spiffe:// URI SAN (location SAN_URI, matcher SCHEME, criteria "spiffe")',
    ]);
  });
});

everyRuleTested("openziti");
