/**
 * The core's CrossGuard rules: SPIRE's chart settings, the root of trust, ordering, and the
 * discovery endpoint's TLS for relying parties that fetch it themselves (declared by each
 * relying party, see `federation/contract.ts`).
 */
import { anchorPolicies } from "./anchor-policies";
import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "./policy-types";
import { parseDuration } from "./duration";
import type { AnyRelyingParty, Policy } from "./federation/contract";
import { rotationLeadProblem } from "./federation/rotation";
import type { CaKeyType } from "./model";
import { nodesPolicies } from "./nodes/policies";
import { spireFederationPolicies } from "./spire-federation/policies";
import { platformPolicies } from "./platform/policies";
import {
  CORE_TYPES,
  isSpireRelease,
  resourcePolicy,
  spireChartSettings,
  spireReleasePolicy,
  str,
  waitsOnSpirePolicy,
} from "./policy-kit";

/** JWS algorithm SPIRE signs JWT-SVIDs with, per CA key type (the chart has no separate JWT key). */
export const JWT_ALGORITHM: Readonly<Record<CaKeyType, string>> = {
  "rsa-2048": "RS256",
  "rsa-4096": "RS256",
  "ec-p256": "ES256",
  "ec-p384": "ES384",
};

/**
 * A stack rule for a relying party that verifies JWT-SVIDs: while any resource `verifies` is in
 * the plan, the spire release's `caKeyType` must sign with one of `algorithms` (fixed for the
 * party, or each verifying resource's own list).
 */
export function jwtAlgorithmPolicy(p: {
  /** Rule name (`<key>-…`). */
  name: string;
  /** What the rule ensures. */
  description: string;
  /** Resources that make the relying party verify JWT-SVIDs. */
  verifies: (r: PolicyResource) => boolean;
  /** Those resources, as the message names them: "Entra federated credentials". */
  verifiers: string;
  /** JWS algorithms it accepts, or per verifying resource (`undefined`: not known for it). */
  algorithms: readonly string[] | ((r: PolicyResource) => readonly string[] | undefined);
  /** Why, as the message ends: "Entra accepts RS256 tokens only"; per list when per resource. */
  reason: string | ((algorithms: readonly string[]) => string);
}): StackValidationPolicy {
  const { algorithms, reason } = p;
  return {
    name: p.name,
    description: p.description,
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const verifying = args.resources.filter(p.verifies);
      if (verifying.length === 0) return;
      const needs =
        typeof algorithms === "function"
          ? verifying.flatMap((r) => {
              const list = algorithms(r);
              return list === undefined ? [] : [{ what: `${p.verifiers} (${r.name})`, list }];
            })
          : [{ what: p.verifiers, list: algorithms }];
      for (const r of args.resources) {
        if (!isSpireRelease(r.type, r.props)) continue;
        const { caKeyType } = spireChartSettings(r.props);
        const alg = (JWT_ALGORITHM as Readonly<Record<string, string>>)[caKeyType];
        for (const need of needs) {
          if (alg === undefined || !need.list.includes(alg)) {
            const why = typeof reason === "function" ? reason(need.list) : reason;
            report(`SPIRE's caKeyType is ${caKeyType} but ${need.what} exist: ${why}`, r.urn);
          }
        }
      }
    },
  };
}

/**
 * The rotation rule on the plan: while a party's JWT-verifying resources are planned (its
 * `jwks.planned`), the spire release's `caTTL` gives SPIRE's next key a lead at least as long as
 * the party's JWKS cache (`jwks.caching`); the same fact as the config rule (rotation-lead.ts).
 * `cacheMinutes` supplies, by config key, the cache of a party that publishes none (as measured).
 */
export function rotationLeadPolicy(parties: readonly AnyRelyingParty[]): StackValidationPolicy {
  return {
    name: "spire-rotation-lead",
    description:
      "SPIRE publishes its next JWT key caTTL/3 before signing with it: at least as long as each JWT-verifying relying party caches the JWKS.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        cacheMinutes: { type: "object", additionalProperties: { type: "number" }, default: {} },
      },
    },
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const { cacheMinutes } = args.getConfig<{ cacheMinutes: Record<string, number> }>();
      for (const release of args.resources) {
        if (!isSpireRelease(release.type, release.props)) continue;
        const { caTTL } = spireChartSettings(release.props);
        const seconds = parseDuration(caTTL);
        if (seconds === undefined) continue;
        for (const p of parties) {
          const jwks = p.jwks;
          const verifier = jwks && args.resources.find((r) => jwks.planned(r.type, r.props));
          if (jwks === undefined || verifier === undefined) continue;
          const measured = cacheMinutes[p.key];
          const caching =
            measured !== undefined && jwks.caching.maxAgeSeconds === undefined
              ? {
                  ...jwks.caching,
                  maxAgeSeconds: measured * 60,
                  source: `cacheMinutes.${p.key} in the policy config`,
                }
              : jwks.caching;
          const problem = rotationLeadProblem(seconds, caching, p.product);
          if (problem !== undefined) {
            report(
              `SPIRE's caTTL is ${caTTL} while ${p.product} verifies JWT-SVIDs (${verifier.name}): ${problem} (${caching.source})`,
              release.urn,
            );
          }
        }
      }
    },
  };
}

/** The core rules; `parties` tell which of their resources fetch the discovery endpoint. */
export function corePolicies(parties: readonly AnyRelyingParty[]): Policy[] {
  return [
    spireReleasePolicy({
      name: "spire-jwt-issuer",
      description:
        "SPIRE sets an https jwtIssuer: without it JWT-SVIDs carry no iss and relying parties reject them.",
      severity: "high",
      enforcementLevel: "mandatory",
      check: (s, _args, report) => {
        if (!s.jwtIssuer) report("jwtIssuer is not set: JWT-SVIDs would carry no iss claim");
        else if (!s.jwtIssuer.startsWith("https://"))
          report(`jwtIssuer ${s.jwtIssuer} is not https`);
      },
    }),
    spireReleasePolicy({
      name: "spire-trust-domain",
      description: "The trust domain is set, not the chart's example.org.",
      severity: "high",
      enforcementLevel: "mandatory",
      check: (s, _args, report) => {
        if (s.trustDomain === "example.org")
          report("the trust domain is the chart's example, example.org");
      },
    }),
    spireReleasePolicy({
      name: "spire-jwt-svid-ttl",
      description:
        "JWT-SVIDs live at most maxHours (24): a bearer token works for whoever holds it until it expires.",
      severity: "medium",
      enforcementLevel: "mandatory",
      configSchema: { properties: { maxHours: { type: "number", default: 24 } } },
      check: (s, args, report) => {
        const { maxHours } = args.getConfig<{ maxHours: number }>();
        const seconds = parseDuration(s.jwtSvidTtl);
        if (seconds === undefined) report(`defaultJwtSvidTTL ${s.jwtSvidTtl} is not a duration`);
        else if (seconds > maxHours * 3600)
          report(`defaultJwtSvidTTL ${s.jwtSvidTtl} exceeds ${maxHours}h`);
      },
    }),
    spireReleasePolicy({
      name: "spire-ha-datastore",
      description: "More than one SPIRE server needs an external datastore (postgres or mysql).",
      severity: "high",
      enforcementLevel: "mandatory",
      check: (s, _args, report) => {
        if (s.replicas > 1 && s.databaseType === "sqlite3") {
          report(
            `${s.replicas} replicas share nothing on sqlite3: each server would have its own registrations`,
          );
        }
      },
    }),
    spireReleasePolicy({
      name: "spire-production-recommendations",
      description:
        "The chart's production recommendations are on (namespaces, PSS, security contexts, strict mode).",
      severity: "medium",
      enforcementLevel: "mandatory",
      check: (s, _args, report) => {
        if (!s.recommendations) report("global.spire.recommendations.enabled is not true");
      },
    }),
    {
      name: "public-oidc-tls",
      description:
        "When Entra or Google Cloud OIDC federate, the discovery endpoint is not on SPIRE's own (in-cluster) TLS.",
      severity: "high",
      enforcementLevel: "mandatory",
      validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const fetchers = args.resources.filter((r) =>
          parties.some((p) => p.fetchesIssuer?.(r.type, r.props) === true),
        );
        if (fetchers.length === 0) return;
        for (const r of args.resources) {
          if (isSpireRelease(r.type, r.props) && spireChartSettings(r.props).oidcOnSpireTls) {
            report(
              `the OIDC discovery provider serves SPIRE's own certificate, which ${fetchers[0].name} cannot trust; use cert-manager (ACME) or an ingress TLS secret`,
              r.urn,
            );
          }
        }
      },
    },
    resourcePolicy({
      name: "root-key-in-state",
      description:
        "A root CA key generated by Pulumi lives in the state file (encrypted). Advisory; make it mandatory (e.g. for prod) to require an external ClusterIssuer.",
      severity: "medium",
      enforcementLevel: "advisory",
      types: [CORE_TYPES.tlsKey],
      check: (_props, _args, report) => {
        report(
          `a CA private key is generated and kept in Pulumi state; use ca.mode clusterIssuer with an HSM- or Vault-backed issuer`,
        );
      },
    }),
    resourcePolicy({
      name: "ca-key-strength",
      description: "CA keys are at least ECDSA P-256 or RSA 2048.",
      severity: "high",
      enforcementLevel: "mandatory",
      configSchema: {
        properties: {
          minRsaBits: { type: "number", default: 2048 },
          allowedCurves: {
            type: "array",
            items: { type: "string" },
            default: ["P256", "P384", "P521"],
          },
        },
      },
      types: [CORE_TYPES.tlsKey, CORE_TYPES.helmRelease],
      check: (props, args, report) => {
        const { minRsaBits, allowedCurves } = args.getConfig<{
          minRsaBits: number;
          allowedCurves: string[];
        }>();
        if (args.type === CORE_TYPES.tlsKey) {
          if (props.algorithm === "RSA") {
            const bits = typeof props.rsaBits === "number" ? props.rsaBits : 2048;
            if (bits < minRsaBits)
              report(`RSA key of ${bits} bits; at least ${minRsaBits} required`);
          } else if (props.algorithm === "ECDSA") {
            const curve = str(props.ecdsaCurve) ?? "P224";
            if (!allowedCurves.includes(curve))
              report(`ECDSA curve ${curve} is not one of ${allowedCurves.join(", ")}`);
          } else {
            report(`key algorithm ${String(props.algorithm)} is not RSA or ECDSA`);
          }
          return;
        }
        if (!isSpireRelease(args.type, props)) return;
        const { caKeyType } = spireChartSettings(props);
        const m = /^rsa-(\d+)$/.exec(caKeyType);
        if (m && Number(m[1]) < minRsaBits)
          report(`SPIRE caKeyType ${caKeyType} is weaker than RSA ${minRsaBits}`);
        if (!m && !["ec-p256", "ec-p384"].includes(caKeyType))
          report(`SPIRE caKeyType ${caKeyType} is not a known strong key type`);
      },
    }),
    rotationLeadPolicy(parties),
    waitsOnSpirePolicy({
      name: "clusterspiffeid-waits-on-spire",
      description:
        "Every ClusterSPIFFEID waits on the SPIRE release (its webhook rejects them before that).",
      type: CORE_TYPES.clusterSpiffeId,
    }),
    ...nodesPolicies,
    ...spireFederationPolicies,
    ...platformPolicies,
    ...anchorPolicies,
  ];
}
