/** OpenZiti's CrossGuard rules: the CA settings that keep enrollment closed and IDs from the URI SAN. */
import { obj, resourcePolicy } from "../../policy-kit";
import type { Policy } from "../contract";

/** Type tokens of OpenZiti resources (the dynamic provider's). */
export const OPENZITI_TYPES = {
  ca: "pulumi-nodejs:dynamic/openziti:Ca",
  extJwtSigner: "pulumi-nodejs:dynamic/openziti:ExternalJwtSigner",
} as const;

/** The rules. */
export const openzitiPolicies: Policy[] = [
  resourcePolicy({
    name: "openziti-ca",
    description:
      "OpenZiti CA: authentication on, auto- and OTT-enrollment off, external IDs from the spiffe:// URI SAN.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [OPENZITI_TYPES.ca],
    check: (props, _args, report) => {
      const body = obj(props.body);
      if (body.isAuthEnabled !== true)
        report("isAuthEnabled is not true: SPIFFE certificates could not authenticate");
      if (body.isAutoCaEnrollmentEnabled !== false) {
        report(
          "isAutoCaEnrollmentEnabled is not false: any SVID holder could enroll a new identity",
        );
      }
      if (body.isOttCaEnrollmentEnabled !== false) report("isOttCaEnrollmentEnabled is not false");
      const claim = obj(body.externalIdClaim);
      if (
        claim.location !== "SAN_URI" ||
        claim.matcher !== "SCHEME" ||
        claim.matcherCriteria !== "spiffe"
      ) {
        report(
          `externalIdClaim ${JSON.stringify(claim)} does not read the spiffe:// URI SAN (location SAN_URI, matcher SCHEME, criteria "spiffe")`,
        );
      }
    },
  }),
];
