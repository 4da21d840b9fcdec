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
import { jwtAlgorithmPolicy } from "../../core-policies";
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

/** Label of the workload on the ConfigMap that holds its `helper.conf` (components/workload). */
const WORKLOAD_LABEL = "spire-federation/workload";

/**
 * The audiences a workload's spiffe-helper fetches JWT-SVIDs for, read from its planned
 * `helper.conf` (`jwt_audience = "<JSON string>"`); `undefined` when the plan has none (the
 * workload's files are off, or the platform provides them).
 */
function helperAudiences(args: StackValidationArgs, workload: string): string[] | undefined {
  const conf = args.resources
    .filter((r) => r.type === "kubernetes:core/v1:ConfigMap")
    .filter((r) => str(obj(obj(r.props.metadata).labels)[WORKLOAD_LABEL]) === workload)
    .map((r) => str(obj(r.props.data)["helper.conf"]))
    .find((c) => c !== undefined);
  if (conf === undefined) return undefined;
  return [...conf.matchAll(/jwt_audience\s*=\s*("(?:[^"\\]|\\.)*")/g)].map(
    (m) => JSON.parse(m[1]) as string,
  );
}

/** The spire chart releases' settings in a plan. */
function spireReleases(args: StackValidationArgs) {
  return args.resources
    .filter((r) => isSpireRelease(r.type, r.props))
    .map((r) => spireChartSettings(r.props));
}

/** The rules. */
export const curityPolicies: Policy[] = [
  {
    name: "curity-jwt-audience",
    description:
      "Curity JWT clients: the audience is the token endpoint as Curity publishes it, and each workload's spiffe-helper fetches its JWT-SVIDs for exactly that audience.",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const { r, assertion } of jwtClients(args)) {
        const audience = str(assertion.audience);
        if (audience === undefined) continue;
        const problem = tokenEndpointProblem(audience);
        if (problem) report(`${r.name}: the audience ${audience} ${problem}`, r.urn);
        const workload = str(obj(r.props.body)["client-name"]);
        const minted = workload === undefined ? undefined : helperAudiences(args, workload);
        if (minted !== undefined && !minted.includes(audience)) {
          report(
            `${r.name} checks aud against ${audience}, but workload ${String(workload)}'s spiffe-helper fetches JWT-SVIDs for ${minted.length === 0 ? "no audience" : minted.join(", ")}: Curity rejects every assertion whose aud is not its token endpoint; request a JWT-SVID for ${audience}`,
            r.urn,
          );
        }
      }
    },
  },
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
  jwtAlgorithmPolicy({
    name: "curity-jwt-algorithm",
    description:
      "Curity's token profile allows the algorithm SPIRE signs JWT-SVIDs with (asymmetrically-signed-jwt/signature-algorithm).",
    verifies: (r) => r.type === CURITY_TYPES.client && r.props.assertion !== undefined,
    verifiers: "Curity JWT clients",
    algorithms: (r) => {
      const a = obj(r.props.assertion);
      if (Array.isArray(a.allowedAlgorithms)) return a.allowedAlgorithms.map(String);
      const expected = str(a.algorithm);
      return expected === undefined ? undefined : [expected];
    },
    reason: (algorithms) =>
      `their token profile allows ${algorithms.join(", ")} for client assertions (or the client expects only that), and Curity rejects JWT-SVIDs signed otherwise at token time: allow SPIRE's algorithm in the profile (curity.signatureAlgorithms) or change spire.caKeyType`,
  }),
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
