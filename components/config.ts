/**
 * The stack-config schema: raw values from the `spire-federation:` config namespace in, a validated
 * and typed {@link StackModel} out. Every problem is reported at once, each prefixed with its full
 * key path (`spire-federation:workloads[2].namespace: must be a DNS-1123 label`), before any
 * resource is registered. Nothing here reads Pulumi config itself: the program hands in the raw
 * values and the set of keys Pulumi holds as secrets.
 *
 * This module holds the core (trust domain, OIDC, CA, cert-manager, SPIRE, workloads) and the
 * composition; each relying party's block, grants and cross-field rules live in its folder and
 * are reached through the registry.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  chartVersion,
  dnsLabel,
  DNS_SUBDOMAIN,
  dnsSubdomain,
  duration,
  EMAIL,
  hostName,
  httpsUrl,
  labelMap,
  pemCertificate,
  ruled,
  secureString,
} from "./config-fields";
import { checkComposition } from "./core/rules/composition";
import { providerConfigProblems, REPUBLISHED_PROVIDER_KEYS } from "./core/rules/provider-config";
import { secrecyProblems, secureTexts } from "./core/rules/secrecy";
import { checkCaValidity, checkSpireTtls } from "./core/rules/spire-ttls";
import { checkWorkloads, type ParsedWorkload } from "./core/rules/workloads";
import { ConfigError, fieldOf, isRecord, Problems } from "./core/problems";
import { JWT_ALGORITHM } from "./core-policies";
import { parseDuration } from "./duration";
import type { AnyRelyingParty } from "./federation/contract";
import {
  relyingParties,
  type RelyingPartyBlocks,
  type RelyingPartyGrants,
} from "./federation/registry";
import type { CoreModel, CoreWorkload, OidcTls } from "./model";
import {
  checkNodes,
  exposureModel,
  nodeSchema,
  nodesSchema,
  nodeWorkloadShape,
  parseNodes,
  spireServerSchema,
  type NodesContext,
} from "./nodes/schema";
import { SPIFFE_SCHEME_PREFIX, trustDomainProblem } from "./spiffe-id";
import { SPIRE_SERVER_NAMESPACE } from "./spire-rules";
import {
  certDirProblem,
  DEFAULT_CERT_DIR,
  DEFAULT_HELPER_IMAGE,
  helperImageProblem,
} from "./workload/rules";

export type { CaModel, DatastoreModel, OidcTls } from "./model";
export { CONFIG_NAMESPACE, ConfigError, MAX_LISTED_PROBLEMS } from "./core/problems";
export { MAX_JWT_SVID_TTL_SECONDS } from "./core/rules/spire-ttls";

/** Pinned chart versions; `spire.chartVersion` and friends override them. */
export const DEFAULT_VERSIONS = {
  certManager: "v1.19.1",
  spire: "0.30.0",
  spireCrds: "0.6.0",
} as const;

export { JWT_ALGORITHM, parseDuration };

// ---------------------------------------------------------------------------------------------
// The core schema, one entry per top-level config key.

const oidcTlsSchema = z
  .strictObject({
    acme: z
      .strictObject({
        email: z.string().regex(EMAIL, { error: "must be an email address" }),
        server: httpsUrl.optional(),
      })
      .optional(),
    secretName: z
      .string()
      .refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), {
        error: `must be the name of a TLS Secret (a DNS-1123 subdomain) in the discovery provider's namespace, ${SPIRE_SERVER_NAMESPACE}`,
      })
      .optional(),
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

const coreSchemas = {
  trustDomain: z.string().superRefine((td, ctx) => {
    const problem = trustDomainProblem(td);
    if (td.toLowerCase().startsWith(SPIFFE_SCHEME_PREFIX)) {
      const bare = td.slice(SPIFFE_SCHEME_PREFIX.length).replace(/\/+$/, "");
      ctx.addIssue({
        code: "custom",
        message: `must be given without the spiffe:// scheme: use ${trustDomainProblem(bare) === undefined ? bare : "e.g. prod.example.org"}`,
      });
    } else if (problem !== undefined) {
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
    chartVersion: chartVersion(DEFAULT_VERSIONS.certManager).optional(),
    namespace: dnsLabel.optional(),
  }),
  spire: z.strictObject({
    chartVersion: chartVersion(DEFAULT_VERSIONS.spire).optional(),
    crdsChartVersion: chartVersion(DEFAULT_VERSIONS.spireCrds).optional(),
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
    server: spireServerSchema.optional(),
  }),
  nodes: nodesSchema,
  workloads: z.array(z.unknown(), { error: "must be a list of workloads" }),
  workloadFiles: z.strictObject({
    enabled: z.boolean({ error: "must be true or false" }).optional(),
    helperImage: ruled(helperImageProblem).optional(),
    certDir: ruled(certDirProblem).optional(),
  }),
} as const;

const workloadCoreShape = {
  name: dnsLabel,
  namespace: dnsLabel.optional(),
  serviceAccount: dnsSubdomain.optional(),
  spiffeIdPath: z.string().optional(),
  podLabels: labelMap.optional(),
  files: z.boolean({ error: "must be true or false" }).optional(),
  ...nodeWorkloadShape,
};

/** A workload's schema: the core fields plus one optional grant per relying party. */
const workloadSchema = z.strictObject({
  ...workloadCoreShape,
  ...Object.fromEntries(relyingParties.map((p) => [p.key, p.grantSchema.optional()])),
});

const REQUIRED_KEYS = ["trustDomain", "clusterName", "oidc", "ca", "workloads"] as const;

// ---------------------------------------------------------------------------------------------
// The model the components consume.

/** One workload: its SPIFFE ID and its grants in each relying party. */
export type WorkloadModel = CoreWorkload & RelyingPartyGrants;

/** The validated stack config: the core plus each configured relying party's block. */
export type StackModel = Omit<CoreModel, "workloads"> &
  RelyingPartyBlocks & {
    /** Workloads with their SPIFFE IDs and grants. */
    workloads: WorkloadModel[];
  };

/** Options of {@link parseStackConfig}. */
export interface ParseOptions {
  /**
   * Keys (without namespace) that Pulumi holds as secrets. A key that carries a password must be
   * among them; when omitted, no secrecy check is made (for callers outside a Pulumi program).
   */
  secretKeys?: ReadonlySet<string>;
  /**
   * Key paths (without namespace, in the syntax of `pulumi config set --path`, e.g.
   * `spire.datastore.password`) of the values the stack file holds as `secure:`. The engine only
   * tells a program which top-level keys hold a secret; with these paths each value is checked
   * on its own (see {@link secrecyProblems}). Paths under a key not in `secretKeys` are ignored.
   */
  secretPaths?: ReadonlySet<string>;
  /** `azure-native:subscriptionId` from the stack config (needed by the `azure` block). */
  azureSubscriptionId?: string;
  /** Other config values of other namespaces that blocks read, e.g. `vault:address`. */
  providerConfig?: Readonly<Record<string, string | undefined>>;
  /**
   * Every config value outside the namespace (`vault:address` → value) and which of them are
   * secure: checked by {@link providerConfigProblems}; the keys the blocks read come from here.
   */
  otherConfig?: {
    values: Readonly<Record<string, string>>;
    secretKeys: ReadonlySet<string>;
  };
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
  const report = problems.report;
  const parties: readonly AnyRelyingParty[] = relyingParties;
  const known = new Set<string>([...Object.keys(coreSchemas), ...parties.map((p) => p.key)]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      problems.add([key], "unknown key");
    }
  }
  for (const key of REQUIRED_KEYS) {
    if (raw[key] === undefined) {
      problems.add([key], "required");
    }
  }
  const get = <T>(key: string, schema: z.ZodType<T>): T | undefined =>
    raw[key] === undefined ? undefined : problems.parse(schema, raw[key], [key]);
  const trustDomain = get("trustDomain", coreSchemas.trustDomain);
  const clusterName = get("clusterName", coreSchemas.clusterName);
  const oidc = get("oidc", coreSchemas.oidc);
  const ca = get("ca", coreSchemas.ca);
  const certManager = get("certManager", coreSchemas.certManager) ?? {};
  const spire = raw.spire === undefined ? {} : get("spire", coreSchemas.spire);
  const workloadList = get("workloads", coreSchemas.workloads);
  const workloadFiles = get("workloadFiles", coreSchemas.workloadFiles) ?? {};
  const nodesCtx: NodesContext = {
    report,
    parse: (schema, value, path) => problems.parse(schema, value, path),
  };
  const { nodes, names: nodeNames } = parseNodes(raw.nodes, nodesCtx);

  // Cross-field rules read each field on its own, so that one bad field in a section does not
  // hide another rule's problem in the same section; a rule whose field is invalid skips.
  const spireRaw = isRecord(raw.spire) ? raw.spire : {};
  type SpireShape = typeof coreSchemas.spire.shape;
  const spireField = <K extends keyof SpireShape>(key: K) =>
    fieldOf(coreSchemas.spire.shape[key], spireRaw[key]) as {
      valid: boolean;
      value: z.output<SpireShape[K]> | undefined;
    };
  const caTTL = spireField("caTTL");
  const x509SvidTTL = spireField("x509SvidTTL");
  const jwtSvidTTL = spireField("jwtSvidTTL");
  const datastoreField = spireField("datastore");
  const replicas = spireField("replicas");
  const caKeyType = spireField("caKeyType");
  const valid = <T>(f: { valid: boolean; value: T | undefined }, fallback: T): T | undefined =>
    f.valid ? (f.value ?? fallback) : undefined;
  const ttls = {
    caTTL: valid(caTTL, "24h"),
    x509SvidTTL: valid(x509SvidTTL, "4h"),
    jwtSvidTTL: valid(jwtSvidTTL, "1h"),
    replicas: valid(replicas, 1),
    datastoreType: valid(datastoreField, { type: "sqlite3" as const })?.type,
    caValidityHours: caValidityHours(raw.ca),
  };
  const blocks = new Map<string, unknown>();
  for (const p of parties) {
    blocks.set(p.key, get(p.key, p.blockSchema));
  }
  checkSpireTtls(ttls, report);
  if (options.secretKeys !== undefined) {
    const problemsOfSecrecy = secrecyProblems(
      raw,
      topLevelSchema,
      options.secretKeys,
      options.secretPaths,
    );
    for (const [path, message] of problemsOfSecrecy) problems.addUnquoted(path, message);
  }
  checkCaValidity(ttls, report);

  const filesEnabled = fieldOf(coreSchemas.workloadFiles.shape.enabled, workloadFilesRaw(raw));
  const { workloads, grants, nodeWorkloads } = checkWorkloads(
    {
      entries: workloadList ?? [],
      trustDomain,
      filesEnabled: filesEnabled.value ?? true,
      nodeNames,
      parties,
      hasKey: (key) => raw[key] !== undefined,
      parse: (entry, i) => parseWorkload(problems, entry, i),
    },
    report,
  );

  const oidcRaw = isRecord(raw.oidc) ? raw.oidc : {};
  checkNodes(
    {
      nodes,
      server: spireRaw.server,
      oidc: {
        host: typeof oidcRaw.host === "string" ? oidcRaw.host : undefined,
        ingressControllerType:
          typeof oidcRaw.ingressControllerType === "string"
            ? oidcRaw.ingressControllerType
            : undefined,
      },
      nodeWorkloads,
    },
    nodesCtx,
  );

  // Each relying party's own rules, then the needs the core checks once for all of them.
  const other = options.otherConfig;
  const providerConfig: Record<string, string | undefined> = {
    ...options.providerConfig,
    ...(other === undefined
      ? {}
      : Object.fromEntries(
          Object.keys(REPUBLISHED_PROVIDER_KEYS).map((k) => [k, other.values[k]]),
        )),
  };
  providerConfig["azure-native:subscriptionId"] ??= options.azureSubscriptionId;
  if (other !== undefined) {
    problems.lines.push(
      ...providerConfigProblems(other.values, (key) => other.secretKeys.has(key)),
    );
  }
  const tls = fieldOf(coreSchemas.oidc.shape.tls, oidcRaw.tls).value;
  const oidcTls = tls === undefined ? undefined : oidcTlsModel(tls);
  checkComposition(
    {
      raw,
      parties,
      blocks,
      grants,
      core: { trustDomain, caMode: ca?.mode, caKeyType: caKeyType.value ?? "rsa-2048", oidcTls },
      caKeyTypeValid: caKeyType.valid,
      caTTL: ttls.caTTL,
      tlsKind: isRecord(oidcRaw.tls) ? Object.keys(oidcRaw.tls) : [],
      providerConfig,
      reportOther: (fullKey, message) => problems.lines.push(`${fullKey}: ${message}`),
    },
    report,
  );

  if (
    problems.lines.length > 0 ||
    trustDomain === undefined ||
    clusterName === undefined ||
    oidc === undefined ||
    oidcTls === undefined ||
    ca === undefined ||
    spire === undefined
  ) {
    const texts = [
      ...(options.secretKeys === undefined
        ? []
        : secureTexts(raw, topLevelSchema, options.secretKeys, options.secretPaths)),
      ...[...(other?.secretKeys ?? [])].flatMap((k) => other?.values[k] ?? []),
    ];
    throw new ConfigError(problems.redacted(texts));
  }

  const issuerUrl = `https://${oidc.host}`;
  const datastore = spire.datastore ?? { type: "sqlite3" as const };
  const model: StackModel = {
    trustDomain,
    clusterName,
    oidc: {
      host: oidc.host,
      ingressClassName: oidc.ingressClassName,
      ingressControllerType: oidc.ingressControllerType ?? "ingress-nginx",
      tls: oidcTls,
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
      caTTL: spire.caTTL ?? "24h",
      x509SvidTTL: spire.x509SvidTTL ?? "4h",
      jwtSvidTTL: spire.jwtSvidTTL ?? "1h",
      replicas: spire.replicas ?? 1,
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
      server: { exposure: exposureModel(spire.server?.exposure) },
    },
    workloadFiles: {
      enabled: workloadFiles.enabled ?? true,
      helperImage: workloadFiles.helperImage ?? DEFAULT_HELPER_IMAGE,
      certDir: workloadFiles.certDir ?? DEFAULT_CERT_DIR,
    },
    nodes,
    workloads,
  };
  // Each configured relying party's block, and each workload's grants, with defaults.
  const blockModels = model as Record<string, unknown>;
  for (const p of parties) {
    const block = blocks.get(p.key);
    if (block === undefined) continue;
    const blockModel: unknown = p.model(block, { providerConfig });
    blockModels[p.key] = blockModel;
    for (const { workload, grant } of grants.get(p.key) ?? []) {
      (workload as unknown as Record<string, unknown>)[p.key] = p.grant(
        grant,
        workload,
        blockModel,
      );
    }
  }
  return model;
}

function oidcTlsModel(tls: z.output<typeof oidcTlsSchema>): OidcTls {
  return tls.acme
    ? {
        kind: "acme",
        email: tls.acme.email,
        server: tls.acme.server ?? "https://acme-v02.api.letsencrypt.org/directory",
      }
    : tls.secretName !== undefined
      ? { kind: "secret", secretName: tls.secretName }
      : { kind: "spire" };
}

/** The schema of a top-level key, for the secrecy walk (workloads with their grants). */
function topLevelSchema(key: string): z.ZodType | undefined {
  if (key === "workloads") return z.array(workloadSchema);
  if (key === "nodes") return z.array(nodeSchema);
  if (key in coreSchemas) return coreSchemas[key as keyof typeof coreSchemas];
  return relyingParties.find((p) => p.key === key)?.blockSchema;
}

/** `ca.validityHours` when the CA is generated and the field is valid (or undefined). */
function caValidityHours(ca: unknown): number | undefined {
  if (!isRecord(ca) || ca.mode !== "generated") return undefined;
  return fieldOf(coreSchemas.ca.options[0].shape.validityHours, ca.validityHours).value;
}

function workloadFilesRaw(raw: Readonly<Record<string, unknown>>): unknown {
  return isRecord(raw.workloadFiles) ? raw.workloadFiles.enabled : undefined;
}

/**
 * One workload entry: its shape problems reported as a whole, then each core field and each
 * grant read on its own, so that the rules run on whatever is valid.
 */
function parseWorkload(problems: Problems, entry: unknown, i: number): ParsedWorkload {
  const whole = problems.parse(workloadSchema, entry, ["workloads", i]) as
    Record<string, unknown> | undefined;
  const rec = isRecord(entry) ? entry : {};
  const fields: Record<string, unknown> = {};
  const invalid = new Set<string>();
  for (const [key, schema] of Object.entries(workloadCoreShape)) {
    const f = whole === undefined ? fieldOf(schema, rec[key]) : { valid: true, value: whole[key] };
    if (!f.valid) invalid.add(key);
    else if (f.value !== undefined) fields[key] = f.value;
  }
  const grants = new Map<string, unknown>();
  const grantKeys: string[] = [];
  for (const p of relyingParties) {
    if (rec[p.key] === undefined) continue;
    grantKeys.push(p.key);
    const f = whole === undefined ? fieldOf(p.grantSchema, rec[p.key]) : { value: whole[p.key] };
    if (f.value !== undefined) grants.set(p.key, f.value);
  }
  return { fields: fields, invalid, grants, grantKeys };
}
