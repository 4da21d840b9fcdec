/**
 * Curity's CrossGuard rules: the mistakes Curity takes without complaint when they are written
 * and reveals only when a workload asks for a token (`invalid_client`, with nothing in the
 * answer to say why).
 */
import type { ReportViolation, StackValidationArgs } from "@pulumi/policy";
import {
  isSpireRelease,
  obj,
  resourcePolicy,
  spireChartSettings,
  str,
  type Props,
} from "../../policy-kit";
import type { Policy } from "../contract";
import { JWT_ALGORITHM } from "../../core-policies";
import { tokenEndpointProblem, trustStorePemProblems } from "./rules";

/** Type tokens of Curity resources (the dynamic provider's). */
export const CURITY_TYPES = {
  client: "pulumi-nodejs:dynamic/curity:Client",
  clientTrustStore: "pulumi-nodejs:dynamic/curity:ClientTrustStore",
  serverTrustStore: "pulumi-nodejs:dynamic/curity:ServerTrustStore",
} as const;

/** The JWT verifier of a client's body: its own, or its secondary authentication method's. */
export function jwtVerifier(body: Props): Props | undefined {
  if (body["jwks-uri"] !== undefined) return body;
  const secondary = obj(body["secondary-authentication-method"]);
  return secondary["jwks-uri"] !== undefined ? secondary : undefined;
}

/** The JWT clients of a plan, with their assertion expectations. */
function jwtClients(args: StackValidationArgs) {
  return args.resources.flatMap((r) => {
    if (r.type !== CURITY_TYPES.client || r.props.assertion === undefined) return [];
    return [{ r, assertion: obj(r.props.assertion), verifier: jwtVerifier(obj(r.props.body)) }];
  });
}

/** The spire chart releases' settings in a plan. */
function spireReleases(args: StackValidationArgs) {
  return args.resources
    .filter((r) => isSpireRelease(r.type, r.props))
    .map((r) => spireChartSettings(r.props));
}

/** The rules. */
export const curityPolicies: Policy[] = [
  resourcePolicy({
    name: "curity-jwt-audience",
    description:
      "Curity JWT clients: workloads mint their JWT-SVIDs for exactly the token endpoint (Curity checks aud against it at token time).",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [CURITY_TYPES.client],
    check: (props, _args, report) => {
      if (props.assertion === undefined) return;
      const a = obj(props.assertion);
      const endpoint = str(a.tokenEndpoint);
      const audience = str(a.audience);
      if (endpoint === undefined || audience === undefined) return;
      const problem = tokenEndpointProblem(endpoint);
      if (problem) report(`assertion.tokenEndpoint ${endpoint} ${problem}`);
      if (audience !== endpoint) {
        report(
          `assertion.audience ${JSON.stringify(audience)} is not the token endpoint ${JSON.stringify(endpoint)}: Curity rejects every JWT-SVID whose aud is not its token endpoint; mint them for the token endpoint`,
        );
      }
    },
  }),
  {
    name: "curity-jwt-issuer",
    description:
      "Curity JWT clients validate assertions by RFC 7523 with SPIRE's issuer, and fetch SPIRE's JWKS.",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const issuers = spireReleases(args).map((s) => s.jwtIssuer);
      for (const { r, assertion, verifier } of jwtClients(args)) {
        if (verifier === undefined) {
          report(`${r.name} expects JWT-SVIDs but has no jwks-uri verifier`, r.urn);
          continue;
        }
        const issuer = str(obj(verifier["assertion-jwt-validation"]).issuer);
        if (issuer === undefined) {
          report(
            `${r.name} has no assertion-jwt-validation issuer: Curity then applies OpenID Connect Core rules (iss = sub = client id, jti required), which JWT-SVIDs never meet`,
            r.urn,
          );
          continue;
        }
        const expected = str(assertion.issuer);
        for (const spire of issuers) {
          if (spire !== undefined && spire !== issuer) {
            report(
              `${r.name} accepts assertions from issuer ${issuer}, but SPIRE mints JWT-SVIDs with iss ${spire}: Curity compares them exactly`,
              r.urn,
            );
          }
        }
        if (expected !== undefined && expected !== issuer) {
          report(`${r.name} accepts issuer ${issuer}, not SPIRE's ${expected}`, r.urn);
        }
        const uri = str(obj(verifier["jwks-uri"]).uri);
        if (uri !== undefined && uri !== `${issuer}/keys`) {
          report(
            `${r.name} fetches keys from ${uri}, not from SPIRE's JWKS ${issuer}/keys: signatures of JWT-SVIDs will not verify`,
            r.urn,
          );
        }
      }
    },
  },
  {
    name: "curity-jwt-algorithm",
    description:
      "Curity's token profile allows the algorithm SPIRE signs JWT-SVIDs with (asymmetrically-signed-jwt/signature-algorithm).",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const algorithms = spireReleases(args).map(
        (s) => (JWT_ALGORITHM as Readonly<Record<string, string>>)[s.caKeyType],
      );
      for (const { r, assertion } of jwtClients(args)) {
        const expected = str(assertion.algorithm);
        const allowed = Array.isArray(assertion.allowedAlgorithms)
          ? assertion.allowedAlgorithms.map(String)
          : undefined;
        for (const alg of algorithms) {
          if (alg === undefined) continue;
          if (expected !== undefined && expected !== alg) {
            report(
              `${r.name} expects ${expected} assertions, but SPIRE signs JWT-SVIDs with ${alg} (its caKeyType)`,
              r.urn,
            );
          }
          if (allowed !== undefined && !allowed.includes(alg)) {
            report(
              `${r.name}: the token profile allows ${allowed.join(", ")} for client assertions, and SPIRE signs JWT-SVIDs with ${alg}: Curity rejects them at token time; allow ${alg} in the profile or change spire.caKeyType`,
              r.urn,
            );
          }
        }
      }
    },
  },
  resourcePolicy({
    name: "curity-trust-store-ca",
    description:
      "Curity trust store entries hold one CA certificate, valid now: a leaf or an expired CA anchors no chain.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [CURITY_TYPES.clientTrustStore, CURITY_TYPES.serverTrustStore],
    check: (props, _args, report) => {
      const pem = str(props.pem);
      if (pem === undefined) return;
      for (const p of trustStorePemProblems(pem)) {
        report(`the ${String(props.kind)} entry ${String(props.key)}: its certificate ${p}`);
      }
    },
  }),
];
