/**
 * The spire-federation policies: the known federation mistakes, each as a CrossGuard rule.
 * `index.ts` builds the PolicyPack from them; the tests and the offline plan import them directly.
 *
 * Rules match resources by type token (no provider SDK is loaded) and read the inputs the
 * program sets. Values unknown during a preview are `undefined`; rules stay silent on them.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { parseDuration } from "../components/duration";
import { parseSpiffeId } from "../components/spiffe-id";

/** Type tokens the rules look at. */
export const TYPES = {
  vaultRole: "vault:jwt/authBackendRole:AuthBackendRole",
  vaultBackend: "vault:jwt/authBackend:AuthBackend",
  command: "command:local:Command",
  fic: "azure-native:managedidentity:FederatedIdentityCredential",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  gcpProvider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
  gcpMember: "gcp:projects/iAMMember:IAMMember",
  gcpBinding: "gcp:projects/iAMBinding:IAMBinding",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  clusterSpiffeId: "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID",
  tlsKey: "tls:index/privateKey:PrivateKey",
  zitiCa: "pulumi-nodejs:dynamic/openziti:Ca",
} as const;

type Props = Record<string, unknown>;

function obj(v: unknown): Props {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Props) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The spire chart release: a Helm release of chart `spire`. */
export function isSpireRelease(type: string, props: Props): boolean {
  return type === TYPES.helmRelease && props.chart === "spire";
}

/** Values of the spire chart that the rules read, with the chart's defaults. */
export function spireChartSettings(props: Props) {
  const values = obj(props.values);
  const global = obj(obj(values.global).spire);
  const server = obj(values["spire-server"]);
  const oidc = obj(values["spiffe-oidc-discovery-provider"]);
  const oidcTls = obj(oidc.tls);
  const sql = obj(obj(server.dataStore).sql);
  return {
    trustDomain: str(global.trustDomain) ?? str(server.trustDomain) ?? "example.org",
    jwtIssuer: str(global.jwtIssuer) ?? str(server.jwtIssuer),
    jwtSvidTtl: str(server.defaultJwtSvidTTL) ?? "1h",
    replicas: typeof server.replicaCount === "number" ? server.replicaCount : 1,
    databaseType: str(sql.databaseType) ?? "sqlite3",
    recommendations: obj(global.recommendations).enabled === true,
    caKeyType: str(server.caKeyType) ?? "rsa-2048",
    // The chart defaults to SPIRE's own TLS unless cert-manager, an external secret or an
    // ingress TLS secret provides a certificate.
    oidcOnSpireTls:
      obj(oidcTls.spire).enabled !== false &&
      obj(oidcTls.certManager).enabled !== true &&
      obj(oidcTls.externalSecret).enabled !== true &&
      !str(obj(oidc.ingress).tlsSecret),
  };
}

function resourcePolicy(
  p: Omit<ResourceValidationPolicy, "validateResource"> & {
    types: readonly string[];
    check: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void;
  },
): ResourceValidationPolicy {
  const { types, check, ...rest } = p;
  return {
    ...rest,
    validateResource: (args, report) => {
      if (types.includes(args.type)) check(args.props, args, report);
    },
  };
}

function spireReleasePolicy(
  p: Omit<ResourceValidationPolicy, "validateResource"> & {
    check: (
      s: ReturnType<typeof spireChartSettings>,
      args: ResourceValidationArgs,
      report: ReportViolation,
    ) => void;
  },
): ResourceValidationPolicy {
  const { check, ...rest } = p;
  return resourcePolicy({
    ...rest,
    types: [TYPES.helmRelease],
    check: (props, args, report) => {
      if (isSpireRelease(args.type, props)) check(spireChartSettings(props), args, report);
    },
  });
}

/** Every resource a resource waits on, directly or through others. */
export function waitsOn(resource: PolicyResource): PolicyResource[] {
  const seen = new Map<string, PolicyResource>();
  const todo = [...resource.dependencies];
  while (todo.length > 0) {
    const next = todo.pop() as PolicyResource;
    if (seen.has(next.urn)) continue;
    seen.set(next.urn, next);
    todo.push(...next.dependencies);
  }
  return [...seen.values()];
}

const DEFAULT_PRIVILEGED_ROLES = [
  "roles/owner",
  "roles/editor",
  "roles/resourcemanager.projectIamAdmin",
  "roles/iam.securityAdmin",
  "roles/iam.serviceAccountAdmin",
  "roles/iam.serviceAccountTokenCreator",
  "roles/iam.workloadIdentityPoolAdmin",
];

const POOL_WIDE =
  /^principalSet:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\/[^/]+\/\*$/;

function gcpMembers(props: Props): string[] {
  const one = str(props.member);
  const many = Array.isArray(props.members)
    ? props.members.filter((m) => typeof m === "string")
    : [];
  return one ? [one, ...many] : many;
}

/** The rules. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  resourcePolicy({
    name: "vault-jwt-role",
    description:
      "Vault JWT roles: role_type jwt, bound audiences, a bound sub that is not a bare *, and user_claim.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [TYPES.vaultRole],
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
    types: [TYPES.vaultBackend],
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
  resourcePolicy({
    name: "entra-federated-credential",
    description:
      "Entra federated credentials: https issuer, a valid SPIFFE ID as subject, exactly one audience, no wildcards.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: { properties: { maxClaimLength: { type: "number", default: 600 } } },
    types: [TYPES.fic],
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
        if (r.type !== TYPES.fic) continue;
        // The identity: its name, or (unknown at preview) the identity resource it waits on.
        const owner = r.dependencies.find((d) => d.type === TYPES.identity);
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
  resourcePolicy({
    name: "gcp-provider-mapping",
    description:
      "GCP workload identity providers map google.subject (assertion.san.uri for X.509) and carry an attribute condition.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [TYPES.gcpProvider],
    check: (props, _args, report) => {
      const subject = str(obj(props.attributeMapping)["google.subject"]);
      if (props.x509 !== undefined) {
        if (subject !== "assertion.san.uri") {
          report(
            `X.509 provider maps google.subject to ${JSON.stringify(subject ?? "")}: SPIRE's leaves have no CN; map it to assertion.san.uri`,
          );
        }
      } else if (!subject) {
        report("google.subject is not mapped: every token would be rejected");
      }
      if (!str(props.attributeCondition)?.trim()) {
        report(
          "no attributeCondition: any credential the provider accepts could act as this pool; limit it to the trust domain",
        );
      }
    },
  }),
  resourcePolicy({
    name: "gcp-no-pool-wide-grant",
    description:
      "Project roles go to individual SPIFFE IDs, not to every identity of the pool (principalSet://…/*).",
    severity: "medium",
    enforcementLevel: "advisory",
    types: [TYPES.gcpMember, TYPES.gcpBinding],
    check: (props, _args, report) => {
      for (const m of gcpMembers(props)) {
        if (POOL_WIDE.test(m)) report(`${str(props.role)} is granted to the whole pool (${m})`);
      }
    },
  }),
  resourcePolicy({
    name: "gcp-no-pool-wide-privileged-grant",
    description: "Owner/editor-class roles are never granted to a whole workload identity pool.",
    severity: "critical",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        privilegedRoles: {
          type: "array",
          items: { type: "string" },
          default: DEFAULT_PRIVILEGED_ROLES,
        },
      },
    },
    types: [TYPES.gcpMember, TYPES.gcpBinding],
    check: (props, args, report) => {
      const { privilegedRoles } = args.getConfig<{ privilegedRoles: string[] }>();
      const role = str(props.role);
      if (role === undefined || !privilegedRoles.includes(role)) return;
      for (const m of gcpMembers(props)) {
        if (POOL_WIDE.test(m))
          report(`privileged role ${role} is granted to every identity of the pool (${m})`);
      }
    },
  }),
  spireReleasePolicy({
    name: "spire-jwt-issuer",
    description:
      "SPIRE sets an https jwtIssuer: without it JWT-SVIDs carry no iss and relying parties reject them.",
    severity: "high",
    enforcementLevel: "mandatory",
    check: (s, _args, report) => {
      if (!s.jwtIssuer) report("jwtIssuer is not set: JWT-SVIDs would carry no iss claim");
      else if (!s.jwtIssuer.startsWith("https://")) report(`jwtIssuer ${s.jwtIssuer} is not https`);
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
    description: "JWT-SVIDs live at most 24 hours (Google Cloud rejects longer tokens).",
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
    name: "entra-needs-rsa-ca-key",
    description:
      "When Entra credentials exist, SPIRE's CA key (which signs JWT-SVIDs) is RSA: Entra accepts RS256 only.",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      if (!args.resources.some((r) => r.type === TYPES.fic)) return;
      for (const r of args.resources) {
        if (!isSpireRelease(r.type, r.props)) continue;
        const { caKeyType } = spireChartSettings(r.props);
        if (!caKeyType.startsWith("rsa-")) {
          report(
            `SPIRE's caKeyType is ${caKeyType} but Entra federated credentials exist: Entra accepts RS256 tokens only`,
            r.urn,
          );
        }
      }
    },
  },
  {
    name: "public-oidc-tls",
    description:
      "When Entra or Google Cloud OIDC federate, the discovery endpoint is not on SPIRE's own (in-cluster) TLS.",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const fetchers = args.resources.filter(
        (r) => r.type === TYPES.fic || (r.type === TYPES.gcpProvider && r.props.oidc !== undefined),
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
    types: [TYPES.tlsKey],
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
    types: [TYPES.tlsKey, TYPES.helmRelease],
    check: (props, args, report) => {
      const { minRsaBits, allowedCurves } = args.getConfig<{
        minRsaBits: number;
        allowedCurves: string[];
      }>();
      if (args.type === TYPES.tlsKey) {
        if (props.algorithm === "RSA") {
          const bits = typeof props.rsaBits === "number" ? props.rsaBits : 2048;
          if (bits < minRsaBits) report(`RSA key of ${bits} bits; at least ${minRsaBits} required`);
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
  resourcePolicy({
    name: "openziti-ca",
    description:
      "OpenZiti CA: authentication on, auto- and OTT-enrollment off, external IDs from the spiffe:// URI SAN.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [TYPES.zitiCa],
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
  {
    name: "vault-backend-waits-on-gate",
    description:
      "The Vault JWT backend waits on the OIDC readiness gate (Vault fetches the discovery document when written).",
    severity: "medium",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const r of args.resources) {
        if (r.type !== TYPES.vaultBackend || r.props.oidcDiscoveryUrl === undefined) continue;
        const gated = waitsOn(r).some(
          (d) =>
            d.type === TYPES.command &&
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
  {
    name: "clusterspiffeid-waits-on-spire",
    description:
      "Every ClusterSPIFFEID waits on the SPIRE release (its webhook rejects them before that).",
    severity: "medium",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const r of args.resources) {
        if (r.type !== TYPES.clusterSpiffeId) continue;
        if (!waitsOn(r).some((d) => isSpireRelease(d.type, d.props))) {
          report(`${r.name} does not wait on the spire release`, r.urn);
        }
      }
    },
  },
];
