/** Entra ID's CrossGuard rules: federated credential claims, limits, and the signing algorithm. */
import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { jwtAlgorithmPolicy } from "../../core-policies";
import { parseDuration } from "../../duration";
import { isSpireRelease, resourcePolicy, spireChartSettings, str } from "../../policy-kit";
import { parseSpiffeId } from "../../spiffe-id";
import type { Policy } from "../contract";
import { AZURE_MIN_JWT_SVID_TTL_SECONDS } from "./rules";

/** Type tokens of Azure resources. */
export const AZURE_TYPES = {
  fic: "azure-native:managedidentity:FederatedIdentityCredential",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
} as const;

/** The rules. */
export const azurePolicies: Policy[] = [
  resourcePolicy({
    name: "entra-federated-credential",
    description:
      "Entra federated credentials: https issuer, a valid SPIFFE ID as subject, exactly one audience, no wildcards.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: { properties: { maxClaimLength: { type: "number", default: 600 } } },
    types: [AZURE_TYPES.fic],
    check: (props, args, report) => {
      const { maxClaimLength } = args.getConfig<{ maxClaimLength: number }>();
      const issuer = str(props.issuer);
      const subject = str(props.subject);
      if (issuer !== undefined && !issuer.startsWith("https://"))
        report(`issuer ${issuer} is not https`);
      for (const [label, v] of [
        ["issuer", issuer],
        ["subject", subject],
      ] as const) {
        if (v === undefined) continue;
        if (v.includes("*"))
          report(`${label} ${v} contains a wildcard: Entra matches it literally`);
        if (v.length > maxClaimLength)
          report(`${label} is ${v.length} characters; Entra accepts at most ${maxClaimLength}`);
      }
      if (subject !== undefined && !subject.includes("*")) {
        try {
          parseSpiffeId(subject);
        } catch (e) {
          report(`subject ${subject} is not a SPIFFE ID: ${(e as Error).message}`);
        }
      }
      const aud = props.audiences;
      if (Array.isArray(aud) && aud.length !== 1) {
        report(`audiences has ${aud.length} entries; Entra requires exactly one`);
      }
    },
  }),
  {
    name: "entra-credentials-per-identity",
    description: "At most 20 federated credentials per identity, each (issuer, subject) once.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: { properties: { maxCredentialsPerIdentity: { type: "number", default: 20 } } },
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const { maxCredentialsPerIdentity } = args.getConfig<{ maxCredentialsPerIdentity: number }>();
      const byIdentity = new Map<string, PolicyResource[]>();
      for (const r of args.resources) {
        if (r.type !== AZURE_TYPES.fic) continue;
        // The identity: its name, or (unknown at preview) the identity resource it waits on.
        const owner = r.dependencies.find((d) => d.type === AZURE_TYPES.identity);
        const name = str(r.props.resourceName) ?? owner?.name ?? r.name;
        const key = `${str(r.props.resourceGroupName) ?? "?"}/${name}`;
        byIdentity.set(key, [...(byIdentity.get(key) ?? []), r]);
      }
      for (const [identity, creds] of byIdentity) {
        if (creds.length > maxCredentialsPerIdentity) {
          report(
            `identity ${identity} has ${creds.length} federated credentials; Entra allows at most ${maxCredentialsPerIdentity}`,
            creds[maxCredentialsPerIdentity].urn,
          );
        }
        const seen = new Map<string, string>();
        for (const c of creds) {
          const key = `${str(c.props.issuer)} ${str(c.props.subject)}`;
          const first = seen.get(key);
          if (first) {
            report(
              `identity ${identity} trusts issuer ${str(c.props.issuer)} with subject ${str(c.props.subject)} twice (also ${first})`,
              c.urn,
            );
          }
          seen.set(key, c.name);
        }
      }
    },
  },
  {
    name: "entra-jwt-svid-ttl",
    description:
      "When Entra credentials exist, SPIRE's JWT-SVIDs live at least minMinutes (50): the token file can hold one with under a quarter of its life left, and Azure SDKs reuse it up to 10 minutes.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        minMinutes: { type: "number", default: AZURE_MIN_JWT_SVID_TTL_SECONDS / 60 },
      },
    },
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      if (!args.resources.some((r) => r.type === AZURE_TYPES.fic)) return;
      const { minMinutes } = args.getConfig<{ minMinutes: number }>();
      for (const r of args.resources) {
        if (!isSpireRelease(r.type, r.props)) continue;
        const ttl = spireChartSettings(r.props).jwtSvidTtl;
        const seconds = parseDuration(ttl);
        if (seconds !== undefined && seconds < minMinutes * 60) {
          report(
            `SPIRE's defaultJwtSvidTTL is ${ttl} but Entra federated credentials exist: at least ${minMinutes}m, or the Azure SDKs post expired assertions (AADSTS700024)`,
            r.urn,
          );
        }
      }
    },
  },
  jwtAlgorithmPolicy({
    name: "entra-needs-rsa-ca-key",
    description:
      "When Entra credentials exist, SPIRE's CA key (which signs JWT-SVIDs) is RSA: Entra accepts RS256 only.",
    verifies: (r) => r.type === AZURE_TYPES.fic,
    verifiers: "Entra federated credentials",
    algorithms: ["RS256"],
    reason: "Entra accepts RS256 tokens only",
  }),
];
