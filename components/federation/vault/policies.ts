/** Vault's CrossGuard rules: the JWT role and backend settings Vault enforces at login. */
import type { ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { CORE_TYPES, obj, resourcePolicy, str, waitsOn } from "../../policy-kit";
import type { Policy } from "../contract";

/** Type tokens of Vault resources. */
export const VAULT_TYPES = {
  role: "vault:jwt/authBackendRole:AuthBackendRole",
  backend: "vault:jwt/authBackend:AuthBackend",
} as const;

/** The rules. */
export const vaultPolicies: Policy[] = [
  resourcePolicy({
    name: "vault-jwt-role",
    description:
      "Vault JWT roles: role_type jwt, bound audiences, a bound sub that is not a bare *, and user_claim.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [VAULT_TYPES.role],
    check: (props, _args, report) => {
      if (props.roleType !== "jwt") {
        report(
          `roleType is ${JSON.stringify(props.roleType ?? "")}: Vault treats an empty role type as oidc (a browser flow); set "jwt"`,
        );
      }
      const aud = props.boundAudiences;
      if (!Array.isArray(aud) || aud.length === 0) {
        report("boundAudiences is empty: Vault rejects every token that carries an aud claim");
      }
      const sub = str(obj(props.boundClaims).sub) ?? str(props.boundSubject);
      if (sub === undefined || sub.trim() === "" || sub.trim() === "*") {
        report(
          `no SPIFFE ID is bound: set boundClaims.sub (or boundSubject) to the workload's SPIFFE ID, not ${JSON.stringify(sub ?? "")}`,
        );
      }
      if (!str(props.userClaim)) {
        report('userClaim is not set: set it to "sub" so that the SPIFFE ID names the entity');
      }
    },
  }),
  resourcePolicy({
    name: "vault-jwt-backend-discovery",
    description: "Vault JWT backend: an https discovery URL equal to bound_issuer.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [VAULT_TYPES.backend],
    check: (props, _args, report) => {
      const url = str(props.oidcDiscoveryUrl);
      if (url === undefined) {
        if (props.jwksUrl === undefined && props.jwtValidationPubkeys === undefined) {
          report("oidcDiscoveryUrl is not set");
        }
        return;
      }
      if (!url.startsWith("https://")) report(`oidcDiscoveryUrl ${url} is not https`);
      if (props.boundIssuer !== undefined && props.boundIssuer !== url) {
        report(
          `boundIssuer ${JSON.stringify(props.boundIssuer)} differs from oidcDiscoveryUrl ${JSON.stringify(url)}: Vault compares them exactly, trailing slash included`,
        );
      }
    },
  }),
  {
    name: "vault-backend-waits-on-gate",
    description:
      "The Vault JWT backend waits on the OIDC readiness gate (Vault fetches the discovery document when written).",
    severity: "medium",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const r of args.resources) {
        if (r.type !== VAULT_TYPES.backend || r.props.oidcDiscoveryUrl === undefined) continue;
        const gated = waitsOn(r).some(
          (d) =>
            d.type === CORE_TYPES.command &&
            str(obj(d.props.environment).GATE_ISSUER) === str(r.props.oidcDiscoveryUrl),
        );
        if (!gated) {
          report(
            `${r.name} does not wait on a readiness gate for ${str(r.props.oidcDiscoveryUrl)}: the write fails while discovery is unreachable`,
            r.urn,
          );
        }
      }
    },
  },
];
