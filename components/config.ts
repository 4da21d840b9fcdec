/**
 * The stack-config schema: raw values from the `spire-federation:` config namespace in, a validated
 * and typed {@link StackModel} out. Every problem is reported at once, each prefixed with its full
 * key path (`spire-federation:workloads[2].namespace: must be a DNS-1123 label`), before any
 * resource is registered. Nothing here reads Pulumi config itself: the program hands in the raw
 * values and the set of keys Pulumi holds as secrets.
 */
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  claimProblem,
  credentialNameProblem,
  ENTRA_AUDIENCE,
  ENTRA_MAX_CREDENTIALS_PER_IDENTITY,
  identityNameProblem,
  isAzureScope,
  roleDefinitionGuid,
} from "./federation/azure/component";
import {
  DEFAULT_GCP_OIDC_PROVIDER_ID,
  DEFAULT_GCP_X509_PROVIDER_ID,
  GCP_MAX_SUBJECT_LENGTH,
  gcpIdProblem,
  gcpRoleProblem,
  type GcpPoolSettings,
} from "./federation/gcp/component";
import {
  DEFAULT_VAULT_AUDIENCE,
  DEFAULT_VAULT_PATH,
  vaultNameProblem,
  vaultPathProblem,
} from "./federation/vault/component";
import { parseDuration } from "./duration";
import { zitiNameProblem } from "./federation/openziti/provider";
import { formatSpiffeId, parseSpiffePath, SpiffeIdError, trustDomainProblem } from "./spiffe-id";

/** The Pulumi config namespace of this package (the project name). */
export const CONFIG_NAMESPACE = "spire-federation";

/** Pinned chart versions; `spire.chartVersion` and friends override them. */
export const DEFAULT_VERSIONS = {
  certManager: "v1.19.1",
  spire: "0.30.0",
  spireCrds: "0.6.0",
} as const;

export { parseDuration };

/** Longest JWT-SVID lifetime Google Cloud's STS accepts. */
export const MAX_JWT_SVID_TTL_SECONDS = 24 * 3600;

/** Thrown when the stack config is invalid; `problems` holds one line per problem. */
export class ConfigError extends Error {
  /** Each problem as `<namespace>:<key path>: <what is wrong>`. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid stack config:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------
// Field rules shared by the schema.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A string checked by one of the relying parties' own rule functions. */
const ruled = (problem: (s: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    const p = problem(v);
    if (p !== undefined) ctx.addIssue({ code: "custom", message: p });
  });

const dnsLabel = z
  .string()
  .refine((s) => s.length <= 63 && DNS_LABEL.test(s), { error: "must be a DNS-1123 label" });
const dnsSubdomain = z.string().refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), {
  error: "must be a DNS-1123 subdomain",
});
const hostName = z
  .string()
  .refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s) && s.includes("."), {
    error: "must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)",
  });
const duration = z.string().refine((s) => (parseDuration(s) ?? 0) > 0, {
  error: "must be a positive duration such as 1h, 30m or 1h30m (units h, m, s)",
});
const httpsUrl = z.string().refine(
  (s) => {
    try {
      return new URL(s).protocol === "https:";
    } catch {
      return false;
    }
  },
  { error: "must be an https:// URL" },
);
const labelMap = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf("/");
    const prefix = slash === -1 ? undefined : key.slice(0, slash);
    const name = slash === -1 ? key : key.slice(slash + 1);
    const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
    if (!prefixOk || name.length > 63 || !LABEL_NAME.test(name)) {
      ctx.addIssue({ code: "custom", path: [key], message: "must be a valid label key" });
    }
    if (value.length > 63 || (value !== "" && !LABEL_NAME.test(value))) {
      ctx.addIssue({ code: "custom", path: [key], message: "must be a valid label value" });
    }
  }
});
/** A secure config value: a non-empty string that Pulumi holds as a secret. */
const secureString = z.string().min(1, { error: "must not be empty" });

const pemCertificate = z.string().superRefine((pem, ctx) => {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a PEM-encoded X.509 certificate" });
    return;
  }
  if (!cert.ca) {
    ctx.addIssue({
      code: "custom",
      message: "must be a CA certificate (basicConstraints CA:TRUE)",
    });
  } else if (new Date(cert.validTo).getTime() < Date.now()) {
    ctx.addIssue({ code: "custom", message: `certificate expired on ${cert.validTo}` });
  }
});

// ---------------------------------------------------------------------------------------------
// The schema, one entry per top-level config key.

const oidcTlsSchema = z
  .strictObject({
    acme: z
      .strictObject({
        email: z.string().regex(EMAIL, { error: "must be an email address" }),
        server: httpsUrl.optional(),
      })
      .optional(),
    secretName: dnsSubdomain.optional(),
    spire: z.literal(true, { error: "must be true" }).optional(),
  })
  .superRefine((tls, ctx) => {
    const chosen = Object.keys(tls).filter((k) => tls[k as keyof typeof tls] !== undefined);
    if (chosen.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          "must set exactly one of acme: { email, server? }, secretName, or spire: true" +
          (chosen.length > 1 ? ` (found ${chosen.join(", ")})` : ""),
      });
    }
  });

const schemas = {
  trustDomain: z.string().superRefine((td, ctx) => {
    const problem = trustDomainProblem(td);
    if (problem !== undefined) {
      ctx.addIssue({ code: "custom", message: problem });
    } else if (td === "example.org") {
      ctx.addIssue({
        code: "custom",
        message: "example.org is the chart's example trust domain; choose your own",
      });
    }
  }),
  clusterName: dnsLabel,
  oidc: z.strictObject({
    host: hostName,
    ingressClassName: dnsSubdomain,
    ingressControllerType: z
      .enum(["ingress-nginx", "openshift", "other"], {
        error: "must be ingress-nginx, openshift or other",
      })
      .optional(),
    tls: oidcTlsSchema,
  }),
  ca: z.discriminatedUnion(
    "mode",
    [
      z.strictObject({
        mode: z.literal("generated"),
        keyAlgorithm: z
          .enum(["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-4096"], {
            error: "must be ECDSA-P256, ECDSA-P384, RSA-2048 or RSA-4096",
          })
          .optional(),
        validityHours: z
          .number({ error: "must be a number of hours" })
          .int({ error: "must be a whole number of hours" })
          .positive({ error: "must be positive" })
          .optional(),
      }),
      z.strictObject({
        mode: z.literal("clusterIssuer"),
        clusterIssuer: dnsSubdomain,
        rootCertificatePem: pemCertificate,
      }),
    ],
    {
      error: (iss) =>
        iss.code === "invalid_union" ? 'must be "generated" or "clusterIssuer"' : undefined,
    },
  ),
  certManager: z.strictObject({
    install: z.boolean({ error: "must be true or false" }).optional(),
    chartVersion: z.string().min(1).optional(),
    namespace: dnsLabel.optional(),
  }),
  spire: z.strictObject({
    chartVersion: z.string().min(1).optional(),
    crdsChartVersion: z.string().min(1).optional(),
    caKeyType: z
      .enum(["rsa-2048", "rsa-4096", "ec-p256", "ec-p384"], {
        error: "must be rsa-2048, rsa-4096, ec-p256 or ec-p384",
      })
      .optional(),
    caTTL: duration.optional(),
    x509SvidTTL: duration.optional(),
    jwtSvidTTL: duration.optional(),
    replicas: z
      .number({ error: "must be a number" })
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .optional(),
    datastore: z
      .discriminatedUnion(
        "type",
        [
          z.strictObject({ type: z.literal("sqlite3") }),
          z.strictObject({
            type: z.enum(["postgres", "mysql"]),
            host: dnsSubdomain,
            port: z
              .number({ error: "must be a port number" })
              .int({ error: "must be a port number" })
              .min(1, { error: "must be a port number" })
              .max(65535, { error: "must be a port number" })
              .optional(),
            database: z.string().min(1, { error: "must not be empty" }),
            username: z.string().min(1, { error: "must not be empty" }),
            password: secureString,
          }),
        ],
        {
          error: (iss) =>
            iss.code === "invalid_union" ? 'must be "sqlite3", "postgres" or "mysql"' : undefined,
        },
      )
      .optional(),
    caSubject: z
      .strictObject({
        country: z.string().length(2, { error: "must be a two-letter country code" }).optional(),
        organization: z.string().min(1).optional(),
        commonName: z.string().min(1).optional(),
      })
      .optional(),
  }),
  workloads: z.array(z.unknown(), { error: "must be a list of workloads" }),
  vault: z.strictObject({
    path: ruled(vaultPathProblem).optional(),
    discoveryCaPem: pemCertificate.optional(),
    policies: z.record(
      ruled(vaultNameProblem),
      z.string().min(1, { error: "must be a policy in HCL" }),
    ),
  }),
  azure: z.strictObject({
    resourceGroupName: z
      .string()
      .regex(/^[-\w.()]{1,89}[-\w()]$/, { error: "must be an Azure resource group name" }),
    location: z
      .string()
      .regex(/^[a-z0-9]+$/, { error: "must be an Azure region such as westeurope" }),
    audience: z.string().min(1).optional(),
  }),
  gcp: z.strictObject({
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { error: "must be a project ID" }),
    projectNumber: z
      .union([z.string(), z.number()])
      .transform((v) => String(v))
      .refine((v) => /^[0-9]{6,20}$/.test(v), { error: "must be the numeric project number" }),
    poolId: ruled(gcpIdProblem),
    oidcProviderId: ruled(gcpIdProblem).optional(),
    x509ProviderId: ruled(gcpIdProblem).optional(),
    oidc: z.boolean({ error: "must be true or false" }).optional(),
    x509: z.boolean({ error: "must be true or false" }).optional(),
  }),
  openziti: z.strictObject({
    controllerUrl: httpsUrl,
    username: z.string().min(1, { error: "must not be empty" }),
    password: secureString,
    controllerCaPem: z
      .string()
      .includes("BEGIN CERTIFICATE", { error: "must be a PEM bundle" })
      .optional(),
    caName: ruled(zitiNameProblem).optional(),
    x509: z.boolean({ error: "must be true or false" }).optional(),
    jwt: z.boolean({ error: "must be true or false" }).optional(),
    audience: z.string().min(1, { error: "must not be empty" }).optional(),
    verificationCertPem: z
      .string()
      .includes("BEGIN CERTIFICATE", { error: "must be a PEM certificate" })
      .optional(),
  }),
} as const;

const workloadSchema = z.strictObject({
  name: dnsLabel,
  namespace: dnsLabel,
  serviceAccount: dnsSubdomain,
  spiffeIdPath: z.string().optional(),
  podLabels: labelMap.optional(),
  vault: z
    .strictObject({
      policies: z.array(z.string()).min(1, { error: "must name at least one policy" }),
      audience: z.string().min(1, { error: "must not be empty" }).optional(),
      tokenTtl: duration.optional(),
    })
    .optional(),
  azure: z
    .strictObject({
      identity: ruled(identityNameProblem).optional(),
      roleAssignments: z.array(
        z.strictObject({
          role: z.string().refine((r) => roleDefinitionGuid(r) !== undefined, {
            error: `must be a built-in role name the package knows (Reader, Contributor, Storage Blob Data Reader, Storage Blob Data Contributor, Key Vault Secrets User, Key Vault Crypto User, AcrPull) or a role definition GUID`,
          }),
          scope: z.string().refine(isAzureScope, {
            error:
              "must be an Azure resource ID such as /subscriptions/<id>/resourceGroups/<group>",
          }),
        }),
      ),
    })
    .optional(),
  openziti: z
    .strictObject({
      roleAttributes: z.array(z.string().min(1, { error: "must not be empty" })),
      admin: z.boolean({ error: "must be true or false" }).optional(),
    })
    .optional(),
  gcp: z
    .strictObject({
      roles: z.array(
        z.strictObject({ role: ruled(gcpRoleProblem), project: z.string().optional() }),
      ),
    })
    .optional(),
});

const REQUIRED_KEYS = ["trustDomain", "clusterName", "oidc", "ca", "workloads"] as const;

// ---------------------------------------------------------------------------------------------
// The model the components consume.

/** How the OIDC discovery provider gets its serving certificate. */
export type OidcTls =
  | { kind: "acme"; email: string; server: string }
  | { kind: "secret"; secretName: string }
  | { kind: "spire" };

/** The root of trust SPIRE's upstream authority chains to. */
export type CaModel =
  | {
      mode: "generated";
      keyAlgorithm: "ECDSA-P256" | "ECDSA-P384" | "RSA-2048" | "RSA-4096";
      validityHours: number;
    }
  | { mode: "clusterIssuer"; clusterIssuer: string; rootCertificatePem: string };

/** SPIRE's datastore; the password stays a Pulumi secret. */
export type DatastoreModel =
  | { type: "sqlite3" }
  | {
      type: "postgres" | "mysql";
      host: string;
      port: number;
      database: string;
      username: string;
      password: pulumi.Output<string>;
    };

/** One workload that gets a SPIFFE ID (and, in later config blocks, federated grants). */
export interface WorkloadModel {
  /** Unique name, used in resource names. */
  name: string;
  /** Kubernetes namespace the workload's pods run in. */
  namespace: string;
  /** Service account the pods run as. */
  serviceAccount: string;
  /** The full SPIFFE ID. */
  spiffeId: string;
  /** Extra pod labels that select the workload's pods. */
  podLabels: Record<string, string>;
  /** Vault grants: a JWT role with these policies. */
  vault?: { policies: string[]; audience: string; tokenTtlSeconds?: number };
  /** Azure grants: a managed identity (shared when several workloads name it) and its roles. */
  azure?: { identity: string; roleAssignments: { role: string; scope: string }[] };
  /** Google Cloud grants: project roles for the workload's principal. */
  gcp?: { roles: { role: string; project: string }[] };
  /** OpenZiti grants: an identity with these role attributes. */
  openziti?: { roleAttributes: string[]; admin: boolean };
}

/** The validated stack config. */
export interface StackModel {
  /** SPIFFE trust domain, e.g. `prod.example.org`. */
  trustDomain: string;
  /** Name of the Kubernetes cluster as SPIRE's node attestor knows it. */
  clusterName: string;
  /** OIDC discovery exposure. */
  oidc: {
    /** Public host name of the discovery provider. */
    host: string;
    /** Ingress class of the ingress that exposes it. */
    ingressClassName: string;
    /** The chart's ingress controller type (drives passthrough annotations). */
    ingressControllerType: "ingress-nginx" | "openshift" | "other";
    /** How the endpoint gets its certificate. */
    tls: OidcTls;
    /** `https://<host>`: the JWT `iss` and the discovery document's issuer. */
    issuerUrl: string;
    /** `https://<host>/keys`: where the signing keys are published. */
    jwksUri: string;
  };
  /** Root of trust. */
  ca: CaModel;
  /** cert-manager installation. */
  certManager: { install: boolean; chartVersion: string; namespace: string };
  /** SPIRE settings with defaults applied. */
  spire: {
    chartVersion: string;
    crdsChartVersion: string;
    caKeyType: "rsa-2048" | "rsa-4096" | "ec-p256" | "ec-p384";
    caTTL: string;
    x509SvidTTL: string;
    jwtSvidTTL: string;
    replicas: number;
    datastore: DatastoreModel;
    caSubject: { country: string; organization: string; commonName: string };
  };
  /** Workloads with their SPIFFE IDs. */
  workloads: WorkloadModel[];
  /** Vault JWT auth, when configured. */
  vault?: { path: string; discoveryCaPem?: string; policies: Record<string, string> };
  /** Azure Entra ID federation, when configured. */
  azure?: { resourceGroupName: string; location: string; audience: string; subscriptionId: string };
  /** Google Cloud workload identity federation, when configured. */
  gcp?: GcpPoolSettings;
  /** OpenZiti federation, when configured. */
  openziti?: {
    controllerUrl: string;
    username: string;
    password: pulumi.Output<string>;
    controllerCaPem?: string;
    caName: string;
    x509: boolean;
    jwt: boolean;
    audience: string;
    verificationCertPem?: string;
  };
}

/** Options of {@link parseStackConfig}. */
export interface ParseOptions {
  /**
   * Keys (without namespace) that Pulumi holds as secrets. A key that carries a password must be
   * among them; when omitted, no secrecy check is made (for callers outside a Pulumi program).
   */
  secretKeys?: ReadonlySet<string>;
  /** `azure-native:subscriptionId` from the stack config (needed by the `azure` block). */
  azureSubscriptionId?: string;
}

// ---------------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") {
      out += `[${p}]`;
    } else {
      out += out === "" ? String(p) : `.${String(p)}`;
    }
  }
  return out;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") {
      return undefined;
    }
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
    return "required";
  }
  // Messages the schema spells out win; zod's own defaults ("Invalid input…") are reworded.
  if (!issue.message.startsWith("Invalid") && !issue.message.startsWith("Too ")) {
    return issue.message;
  }
  if (issue.code === "invalid_type") {
    return `must be ${issue.expected === "object" ? "an object" : `a ${issue.expected}`}`;
  }
  if (issue.code === "invalid_value" && issue.values.length > 0) {
    return `must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
  }
  if (issue.code === "too_small" && issue.origin === "string") {
    return "must not be empty";
  }
  return issue.message;
}

class Problems {
  readonly lines: string[] = [];
  add(path: readonly PropertyKey[], message: string): void {
    this.lines.push(`${CONFIG_NAMESPACE}:${formatPath(path)}: ${message}`);
  }
  addZod(prefix: readonly PropertyKey[], error: z.ZodError, input: unknown): void {
    for (const issue of error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          this.add([...prefix, ...issue.path, key], "unknown key");
        }
      } else {
        this.add([...prefix, ...issue.path], issueMessage(issue, input));
      }
    }
  }
  parse<T>(schema: z.ZodType<T>, value: unknown, path: readonly PropertyKey[]): T | undefined {
    const result = schema.safeParse(value);
    if (result.success) {
      return result.data;
    }
    this.addZod(path, result.error, value);
    return undefined;
  }
}

/**
 * Validates the raw stack config (keys without the namespace prefix, values already
 * JSON-decoded) and returns the typed model.
 * @throws ConfigError listing every problem, each with its full key path.
 */
export function parseStackConfig(
  raw: Readonly<Record<string, unknown>>,
  options: ParseOptions = {},
): StackModel {
  const problems = new Problems();
  for (const key of Object.keys(raw)) {
    if (!(key in schemas)) {
      problems.add([key], "unknown key");
    }
  }
  for (const key of REQUIRED_KEYS) {
    if (raw[key] === undefined) {
      problems.add([key], "required");
    }
  }
  const get = <T>(key: keyof typeof schemas, schema: z.ZodType<T>): T | undefined =>
    raw[key] === undefined ? undefined : problems.parse(schema, raw[key], [key]);
  const trustDomain = get("trustDomain", schemas.trustDomain);
  const clusterName = get("clusterName", schemas.clusterName);
  const oidc = get("oidc", schemas.oidc);
  const ca = get("ca", schemas.ca);
  const certManager = get("certManager", schemas.certManager) ?? {};
  const spire = raw.spire === undefined ? {} : get("spire", schemas.spire);
  const workloadList = get("workloads", schemas.workloads);

  // Cross-field rules read each field on its own, so that one bad field in a section does not
  // hide another rule's problem in the same section.
  const spireRaw = isRecord(raw.spire) ? raw.spire : {};
  const spireField = <K extends keyof typeof schemas.spire.shape>(key: K) => {
    const r = schemas.spire.shape[key].safeParse(spireRaw[key]);
    return r.success ? (r.data as z.output<(typeof schemas.spire.shape)[K]>) : undefined;
  };
  const caTTL = spireField("caTTL") ?? "24h";
  const x509SvidTTL = spireField("x509SvidTTL") ?? "4h";
  const jwtSvidTTL = spireField("jwtSvidTTL") ?? "1h";
  const datastore = spireField("datastore") ?? { type: "sqlite3" as const };
  const replicas = spireField("replicas") ?? 1;
  const vault = get("vault", schemas.vault);
  const azure = get("azure", schemas.azure);
  const gcp = get("gcp", schemas.gcp);
  const openziti = get("openziti", schemas.openziti);
  if (openziti !== undefined) {
    if (options.secretKeys !== undefined && !options.secretKeys.has("openziti")) {
      problems.add(
        ["openziti", "password"],
        "must be a secure value (pulumi config set --secret --path openziti.password …)",
      );
    }
    if (openziti.x509 === false && openziti.jwt !== true) {
      problems.add(["openziti"], "enable x509, jwt or both");
    }
    if (
      openziti.verificationCertPem !== undefined &&
      isRecord(raw.ca) &&
      raw.ca.mode === "generated"
    ) {
      problems.add(
        ["openziti", "verificationCertPem"],
        "only for ca.mode clusterIssuer: with a generated root the package signs the verification certificate itself",
      );
    }
  }
  const caKeyType = spireField("caKeyType") ?? "rsa-2048";
  const tlsKind = isRecord(raw.oidc) && isRecord(raw.oidc.tls) ? Object.keys(raw.oidc.tls) : [];
  if (raw.azure !== undefined && options.azureSubscriptionId === undefined) {
    problems.lines.push(
      "azure-native:subscriptionId: required when spire-federation:azure is set (pulumi config set azure-native:subscriptionId <id>)",
    );
  }
  if (raw.azure !== undefined && tlsKind.includes("spire")) {
    problems.add(
      ["oidc", "tls"],
      "Entra ID fetches the discovery document itself and needs a publicly trusted certificate: use acme or secretName, not spire",
    );
  }
  if (openziti?.jwt === true && tlsKind.includes("spire")) {
    problems.add(
      ["openziti", "jwt"],
      "the controller fetches the JWKS itself and needs a publicly trusted certificate: set oidc.tls to acme or secretName, or use the x509 path only",
    );
  }
  if (gcp !== undefined && (gcp.oidc ?? true) && tlsKind.includes("spire")) {
    problems.add(
      ["gcp", "oidc"],
      "Google Cloud fetches the discovery document itself and needs a publicly trusted certificate: set oidc.tls to acme or secretName, or gcp.oidc to false",
    );
  }
  if ((parseDuration(jwtSvidTTL) ?? 0) > MAX_JWT_SVID_TTL_SECONDS) {
    problems.add(
      ["spire", "jwtSvidTTL"],
      "must be at most 24h (Google Cloud rejects JWT-SVIDs that live longer)",
    );
  }
  if ((parseDuration(x509SvidTTL) ?? 0) >= (parseDuration(caTTL) ?? Infinity)) {
    problems.add(
      ["spire", "x509SvidTTL"],
      `must be shorter than spire.caTTL (${caTTL}); SPIRE cannot sign past its CA's expiry`,
    );
  }
  if (replicas > 1 && datastore.type === "sqlite3") {
    problems.add(
      ["spire", "replicas"],
      "must be 1 with the sqlite3 datastore; use postgres or mysql for more replicas",
    );
  }
  if (
    datastore.type !== "sqlite3" &&
    options.secretKeys !== undefined &&
    !options.secretKeys.has("spire")
  ) {
    problems.add(
      ["spire", "datastore", "password"],
      "must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    );
  }
  if (ca?.mode === "generated" && ca.validityHours !== undefined) {
    if (ca.validityHours * 3600 <= (parseDuration(caTTL) ?? 0)) {
      problems.add(
        ["ca", "validityHours"],
        `must be longer than spire.caTTL (${caTTL}); the root must outlive SPIRE's intermediates`,
      );
    }
  }

  // Workloads: each parsed on its own so that every bad entry is reported.
  const workloads: WorkloadModel[] = [];
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  const identityMembers = new Map<string, number[]>();
  (workloadList ?? []).forEach((entry, i) => {
    const w = problems.parse(workloadSchema, entry, ["workloads", i]);
    const name = workloadSchema.shape.name.safeParse(isRecord(entry) ? entry.name : undefined);
    if (name.success) {
      const seenName = names.get(name.data);
      if (seenName !== undefined) {
        problems.add(
          ["workloads", i, "name"],
          `duplicates workloads[${seenName}].name "${name.data}"`,
        );
      }
      names.set(name.data, seenName ?? i);
    }
    if (w === undefined) {
      return;
    }
    const path = w.spiffeIdPath ?? `/ns/${w.namespace}/sa/${w.serviceAccount}`;
    if (w.spiffeIdPath !== undefined) {
      try {
        parseSpiffePath(w.spiffeIdPath);
        if (w.spiffeIdPath === "") {
          throw new SpiffeIdError("path must not be empty");
        }
      } catch (e) {
        problems.add(["workloads", i, "spiffeIdPath"], (e as Error).message);
        return;
      }
    }
    if (trustDomain === undefined) {
      return;
    }
    let spiffeId: string;
    try {
      spiffeId = formatSpiffeId(trustDomain, path);
    } catch (e) {
      problems.add(["workloads", i, "spiffeIdPath"], (e as Error).message);
      return;
    }
    const seenId = ids.get(spiffeId);
    if (seenId !== undefined) {
      problems.add(
        ["workloads", i],
        `SPIFFE ID ${spiffeId} duplicates the one of workloads[${seenId}]`,
      );
    }
    ids.set(spiffeId, seenId ?? i);
    const at = (...rest: PropertyKey[]) => ["workloads", i, ...rest];

    if (w.vault !== undefined) {
      if (raw.vault === undefined) {
        problems.add(at("vault"), "needs the spire-federation:vault block");
      }
      w.vault.policies.forEach((policy, j) => {
        if (vault !== undefined && !(policy in vault.policies)) {
          problems.add(
            at("vault", "policies", j),
            `policy "${policy}" is not declared in spire-federation:vault.policies`,
          );
        }
      });
    }
    if (w.azure !== undefined) {
      if (raw.azure === undefined) {
        problems.add(at("azure"), "needs the spire-federation:azure block");
      }
      const nameProblem = credentialNameProblem(w.name);
      if (nameProblem !== undefined) {
        problems.add(at("name"), `${nameProblem} (it names the Entra federated credential)`);
      }
      const subjectProblem = claimProblem(spiffeId);
      if (subjectProblem !== undefined) {
        problems.add(at(), `SPIFFE ID ${subjectProblem} in a federated credential subject`);
      }
      const identity = w.azure.identity ?? w.name;
      const members = identityMembers.get(identity) ?? [];
      members.push(i);
      identityMembers.set(identity, members);
      if (members.length === ENTRA_MAX_CREDENTIALS_PER_IDENTITY + 1) {
        problems.add(
          at("azure", "identity"),
          `identity "${identity}" would have more than ${ENTRA_MAX_CREDENTIALS_PER_IDENTITY} federated credentials; Entra allows at most ${ENTRA_MAX_CREDENTIALS_PER_IDENTITY}`,
        );
      }
    }
    if (w.openziti !== undefined && raw.openziti === undefined) {
      problems.add(at("openziti"), "needs the spire-federation:openziti block");
    }
    if (w.gcp !== undefined) {
      if (raw.gcp === undefined) {
        problems.add(at("gcp"), "needs the spire-federation:gcp block");
      }
      if (spiffeId.length > GCP_MAX_SUBJECT_LENGTH) {
        problems.add(
          at(),
          `SPIFFE ID of workload "${w.name}" is ${spiffeId.length} characters; Google Cloud limits google.subject to ${GCP_MAX_SUBJECT_LENGTH}`,
        );
      }
    }

    workloads.push({
      name: w.name,
      namespace: w.namespace,
      serviceAccount: w.serviceAccount,
      spiffeId,
      podLabels: w.podLabels ?? {},
      vault: w.vault && {
        policies: w.vault.policies,
        audience: w.vault.audience ?? DEFAULT_VAULT_AUDIENCE,
        tokenTtlSeconds:
          w.vault.tokenTtl === undefined ? undefined : parseDuration(w.vault.tokenTtl),
      },
      azure: w.azure && {
        identity: w.azure.identity ?? w.name,
        roleAssignments: w.azure.roleAssignments,
      },
      openziti: w.openziti && {
        roleAttributes: w.openziti.roleAttributes,
        admin: w.openziti.admin ?? false,
      },
      gcp: w.gcp && {
        roles: w.gcp.roles.map((r) => ({ role: r.role, project: r.project ?? gcp?.project ?? "" })),
      },
    });
  });

  if (identityMembers.size > 0 && !caKeyType.startsWith("rsa-")) {
    problems.add(
      ["spire", "caKeyType"],
      `must be rsa-2048 or rsa-4096 while workloads have Azure grants: Entra ID accepts RS256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (${caKeyType})`,
    );
  }

  if (
    problems.lines.length > 0 ||
    trustDomain === undefined ||
    clusterName === undefined ||
    oidc === undefined ||
    ca === undefined ||
    spire === undefined
  ) {
    throw new ConfigError(problems.lines);
  }

  const issuerUrl = `https://${oidc.host}`;
  const tls: OidcTls = oidc.tls.acme
    ? {
        kind: "acme",
        email: oidc.tls.acme.email,
        server: oidc.tls.acme.server ?? "https://acme-v02.api.letsencrypt.org/directory",
      }
    : oidc.tls.secretName !== undefined
      ? { kind: "secret", secretName: oidc.tls.secretName }
      : { kind: "spire" };
  return {
    trustDomain,
    clusterName,
    oidc: {
      host: oidc.host,
      ingressClassName: oidc.ingressClassName,
      ingressControllerType: oidc.ingressControllerType ?? "ingress-nginx",
      tls,
      issuerUrl,
      jwksUri: `${issuerUrl}/keys`,
    },
    ca:
      ca.mode === "generated"
        ? {
            mode: "generated",
            keyAlgorithm: ca.keyAlgorithm ?? "ECDSA-P256",
            validityHours: ca.validityHours ?? 87600,
          }
        : ca,
    certManager: {
      install: certManager.install ?? true,
      chartVersion: certManager.chartVersion ?? DEFAULT_VERSIONS.certManager,
      namespace: certManager.namespace ?? "cert-manager",
    },
    spire: {
      chartVersion: spire.chartVersion ?? DEFAULT_VERSIONS.spire,
      crdsChartVersion: spire.crdsChartVersion ?? DEFAULT_VERSIONS.spireCrds,
      caKeyType: spire.caKeyType ?? "rsa-2048",
      caTTL,
      x509SvidTTL,
      jwtSvidTTL,
      replicas,
      datastore:
        datastore.type === "sqlite3"
          ? { type: "sqlite3" }
          : {
              type: datastore.type,
              host: datastore.host,
              port: datastore.port ?? (datastore.type === "postgres" ? 5432 : 3306),
              database: datastore.database,
              username: datastore.username,
              password: pulumi.secret(datastore.password),
            },
      caSubject: {
        country: spire.caSubject?.country ?? "US",
        organization: spire.caSubject?.organization ?? "SPIFFE",
        commonName: spire.caSubject?.commonName ?? trustDomain,
      },
    },
    workloads,
    vault: vault && {
      path: vault.path ?? DEFAULT_VAULT_PATH,
      discoveryCaPem: vault.discoveryCaPem,
      policies: vault.policies,
    },
    azure: azure && {
      resourceGroupName: azure.resourceGroupName,
      location: azure.location,
      audience: azure.audience ?? ENTRA_AUDIENCE,
      subscriptionId: options.azureSubscriptionId ?? "",
    },
    gcp: gcp && {
      project: gcp.project,
      projectNumber: gcp.projectNumber,
      poolId: gcp.poolId,
      oidcProviderId: gcp.oidcProviderId ?? DEFAULT_GCP_OIDC_PROVIDER_ID,
      x509ProviderId: gcp.x509ProviderId ?? DEFAULT_GCP_X509_PROVIDER_ID,
      oidc: gcp.oidc ?? true,
      x509: gcp.x509 ?? true,
    },
    openziti: openziti && {
      controllerUrl: openziti.controllerUrl.replace(/\/+$/, ""),
      username: openziti.username,
      password: pulumi.secret(openziti.password),
      controllerCaPem: openziti.controllerCaPem,
      caName: openziti.caName ?? "spire",
      x509: openziti.x509 ?? true,
      jwt: openziti.jwt ?? false,
      audience: openziti.audience ?? "openziti",
      verificationCertPem: openziti.verificationCertPem,
    },
  };
}
