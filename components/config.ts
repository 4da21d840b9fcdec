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
  acmeStagingHost,
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
  pulumiConfigPath,
  secureString,
} from "./config-fields";
import { JWT_ALGORITHM } from "./core-policies";
import { parseDuration } from "./duration";
import type { AnyRelyingParty, GrantEntry, KeyPath } from "./federation/contract";
import {
  relyingParties,
  type RelyingPartyBlocks,
  type RelyingPartyGrants,
} from "./federation/registry";
import type { CaKeyType, CoreModel, CoreWorkload, OidcTls } from "./model";
import {
  formatSpiffeId,
  parseSpiffePath,
  SPIFFE_SCHEME_PREFIX,
  SpiffeIdError,
  trustDomainProblem,
} from "./spiffe-id";
import { defaultSpiffeIdPath, selectorsOverlap, SPIRE_SERVER_NAMESPACE } from "./spire-rules";

export type { CaModel, DatastoreModel, OidcTls } from "./model";

/** The Pulumi config namespace of this package (the project name). */
export const CONFIG_NAMESPACE = "spire-federation";

/** Pinned chart versions; `spire.chartVersion` and friends override them. */
export const DEFAULT_VERSIONS = {
  certManager: "v1.19.1",
  spire: "0.30.0",
  spireCrds: "0.6.0",
} as const;

export { JWT_ALGORITHM, parseDuration };

/**
 * Longest JWT-SVID lifetime the package allows. A JWT-SVID is a bearer token: whoever holds one
 * can use it until it expires, and SPIRE mints a fresh one on request, so a day is plenty.
 * (Google Cloud's STS itself accepts tokens with exp − iat up to 48h.)
 */
export const MAX_JWT_SVID_TTL_SECONDS = 24 * 3600;

/** How many problems the message of a {@link ConfigError} lists; `problems` holds them all. */
export const MAX_LISTED_PROBLEMS = 100;

/** Thrown when the stack config is invalid; `problems` holds one line per problem. */
export class ConfigError extends Error {
  /** Each problem as `<namespace>:<key path>: <what is wrong>` (all of them). */
  readonly problems: string[];
  constructor(problems: string[]) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    const more = problems.length - listed.length;
    super(
      `invalid stack config:\n  ${listed.join("\n  ")}` +
        (more > 0 ? `\n  … and ${more} more` : ""),
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

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
  }),
  workloads: z.array(z.unknown(), { error: "must be a list of workloads" }),
} as const;

const workloadCoreShape = {
  name: dnsLabel,
  namespace: dnsLabel,
  serviceAccount: dnsSubdomain,
  spiffeIdPath: z.string().optional(),
  podLabels: labelMap.optional(),
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
  if (issue.code === "invalid_key" && issue.issues.length > 0) {
    // A record key that breaks its rule: the rule's own message.
    return issueMessage(issue.issues[0], undefined);
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

// ---------------------------------------------------------------------------------------------
// Secrecy, value by value.

/** The schema of a top-level key, for the secrecy walk (workloads with their grants). */
function topLevelSchema(key: string): z.ZodType | undefined {
  if (key === "workloads") return z.array(workloadSchema);
  if (key in coreSchemas) return coreSchemas[key as keyof typeof coreSchemas];
  return relyingParties.find((p) => p.key === key)?.blockSchema;
}

/**
 * Whether the schema expects a secure value at `path`: true for a {@link secureString}, false for
 * any other known field, undefined for a path the schema does not know (reported as unknown).
 */
function expectsSecret(schema: z.ZodType, path: readonly PropertyKey[]): boolean | undefined {
  let options: z.ZodType[] = [schema];
  for (let i = 0; ; i++) {
    // Unwrap optionals and pipes; fan out over union options.
    const flat: z.ZodType[] = [];
    const todo = [...options];
    while (todo.length > 0) {
      const s = todo.pop() as z.ZodType;
      if (s instanceof z.ZodOptional) todo.push(s.unwrap() as z.ZodType);
      else if (s instanceof z.ZodPipe) todo.push(s.in as z.ZodType);
      else if (s instanceof z.ZodUnion) todo.push(...(s.options as z.ZodType[]));
      else flat.push(s);
    }
    if (i === path.length) {
      return flat.length === 0 ? undefined : flat.some((s) => s === secureString);
    }
    const seg = path[i];
    options = [];
    for (const s of flat) {
      if (s instanceof z.ZodObject && typeof seg === "string" && seg in s.shape) {
        options.push(s.shape[seg] as z.ZodType);
      } else if (s instanceof z.ZodArray && typeof seg === "number") {
        options.push(s.element as z.ZodType);
      } else if (s instanceof z.ZodRecord && typeof seg === "string") {
        options.push(s.valueType as z.ZodType);
      }
    }
    if (options.length === 0) return undefined;
  }
}

/** Every scalar in a config value, with its path below the value. */
function leaves(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (isRecord(value)) return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}

/**
 * Secure values where the package needs them, and nowhere else. A password must be a secure value
 * (a {@link secureString} field); every other value is used in clear — in resource inputs, URLs,
 * outputs — so a secure one there would be shown to anyone who reads the plan, and is refused.
 *
 * With `secretPaths` (the stack file's `secure:` leaves) each value is checked on its own. Without
 * them only what the engine tells the program is known: which top-level keys hold any secure
 * value. A secure block that has no password field then holds a secure value where none belongs;
 * a secure block with a password field passes (the password may be the secure one).
 */
export function secrecyProblems(
  raw: Readonly<Record<string, unknown>>,
  secretKeys: ReadonlySet<string>,
  secretPaths?: ReadonlySet<string>,
): [KeyPath, string][] {
  const out: [KeyPath, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    const schema = topLevelSchema(key);
    if (schema === undefined) continue;
    const fields = leaves(value)
      .map((path) => ({ path, secret: expectsSecret(schema, path) }))
      .filter((f): f is { path: PropertyKey[]; secret: boolean } => f.secret !== undefined);
    const isScalar = !Array.isArray(value) && !isRecord(value);
    const perLeaf =
      !secretKeys.has(key) ||
      isScalar ||
      [...(secretPaths ?? [])].some(
        (p) => p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[`),
      );
    if (!perLeaf) {
      if (!fields.some((f) => f.secret)) {
        out.push([
          [key],
          "holds a secure value, but none of its values may be secret; the package uses them in clear (resource inputs, outputs): set them without --secret",
        ]);
      }
      continue;
    }
    for (const { path, secret } of fields) {
      const full = [key, ...path];
      const isSecure =
        secretKeys.has(key) && (isScalar || (secretPaths?.has(pulumiConfigPath(full)) ?? false));
      if (secret && !isSecure) {
        out.push([
          full,
          `must be a secure value (pulumi config set --secret --path ${pulumiConfigPath(full)} …)`,
        ]);
      } else if (!secret && isSecure) {
        out.push([
          full,
          "must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
        ]);
      }
    }
  }
  return out;
}

/** The message for a relying party that needs a publicly trusted discovery endpoint. */
function publicIssuerProblem(need: { reason: string; alternative?: string }): string {
  const fix =
    need.alternative === undefined
      ? "use acme or secretName, not spire"
      : `set oidc.tls to acme or secretName, ${need.alternative}`;
  return `${need.reason} and needs a publicly trusted certificate: ${fix}`;
}

/** The message for a relying party that needs a public certificate while ACME is on staging. */
function stagingServerProblem(
  host: string,
  need: { reason: string; alternative?: string },
): string {
  const fix =
    "set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default)";
  return (
    `is the staging ACME server ${host}, whose certificates no client trusts; ` +
    `${need.reason} and needs a publicly trusted certificate: ${fix}` +
    (need.alternative === undefined ? "" : `, ${need.alternative}`)
  );
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

  // Cross-field rules read each field on its own, so that one bad field in a section does not
  // hide another rule's problem in the same section.
  const spireRaw = isRecord(raw.spire) ? raw.spire : {};
  const spireField = <K extends keyof typeof coreSchemas.spire.shape>(key: K) => {
    const r = coreSchemas.spire.shape[key].safeParse(spireRaw[key]);
    return r.success ? (r.data as z.output<(typeof coreSchemas.spire.shape)[K]>) : undefined;
  };
  const caTTL = spireField("caTTL") ?? "24h";
  const x509SvidTTL = spireField("x509SvidTTL") ?? "4h";
  const jwtSvidTTL = spireField("jwtSvidTTL") ?? "1h";
  const datastore = spireField("datastore") ?? { type: "sqlite3" as const };
  const replicas = spireField("replicas") ?? 1;
  const caKeyType = spireField("caKeyType") ?? "rsa-2048";
  const blocks = new Map<string, unknown>();
  for (const p of parties) {
    blocks.set(p.key, get(p.key, p.blockSchema));
  }
  const tlsKind = isRecord(raw.oidc) && isRecord(raw.oidc.tls) ? Object.keys(raw.oidc.tls) : [];
  if ((parseDuration(jwtSvidTTL) ?? 0) > MAX_JWT_SVID_TTL_SECONDS) {
    problems.add(
      ["spire", "jwtSvidTTL"],
      "must be at most 24h; a JWT-SVID is a bearer token, usable by whoever holds it until it expires",
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
  if (options.secretKeys !== undefined) {
    for (const [path, message] of secrecyProblems(raw, options.secretKeys, options.secretPaths)) {
      problems.add(path, message);
    }
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
  const workloads: CoreWorkload[] = [];
  const grants = new Map<string, GrantEntry<unknown>[]>(parties.map((p) => [p.key, []]));
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  // Workloads with a custom SPIFFE ID path get their own ClusterSPIFFEID (see components/spire.ts).
  const customIds: {
    index: number;
    name: string;
    namespace: string;
    podLabels: Record<string, string>;
  }[] = [];
  (workloadList ?? []).forEach((entry, i) => {
    const w = problems.parse(workloadSchema, entry, ["workloads", i]) as
      (z.output<z.ZodObject<typeof workloadCoreShape>> & Record<string, unknown>) | undefined;
    const name = workloadCoreShape.name.safeParse(isRecord(entry) ? entry.name : undefined);
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
    const defaultPath = defaultSpiffeIdPath(w.namespace, w.serviceAccount);
    const path = w.spiffeIdPath ?? defaultPath;
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
    if (path !== defaultPath) {
      const podLabels = w.podLabels ?? {};
      if (Object.keys(podLabels).length === 0) {
        problems.add(
          ["workloads", i, "podLabels"],
          `required with a custom spiffeIdPath; a ClusterSPIFFEID selects pods by labels, and without them it would select every pod in namespace "${w.namespace}" and replace their default IDs: set labels that only this workload's pods carry`,
        );
      } else {
        const other = customIds.find((c) =>
          selectorsOverlap(c, { namespace: w.namespace, podLabels }),
        );
        if (other !== undefined) {
          problems.add(
            ["workloads", i, "podLabels"],
            `overlaps workloads[${other.index}].podLabels ("${other.name}") in namespace "${w.namespace}"; a pod that matches both would be registered under both custom SPIFFE IDs: give one of them a label value the other does not match`,
          );
        }
        customIds.push({ index: i, name: w.name, namespace: w.namespace, podLabels });
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
    const workload: CoreWorkload = {
      name: w.name,
      namespace: w.namespace,
      serviceAccount: w.serviceAccount,
      spiffeId,
      podLabels: w.podLabels ?? {},
    };
    workloads.push(workload);
    for (const p of parties) {
      if (w[p.key] === undefined) continue;
      if (raw[p.key] === undefined) {
        problems.add(["workloads", i, p.key], `needs the ${CONFIG_NAMESPACE}:${p.key} block`);
      }
      grants.get(p.key)?.push({ index: i, workload, grant: w[p.key] });
    }
  });

  // Each relying party's own rules, then the needs the core checks once for all of them.
  const oidcTls = oidc === undefined ? undefined : oidcTlsModel(oidc.tls);
  for (const p of parties) {
    const block = blocks.get(p.key);
    const partyGrants = grants.get(p.key) ?? [];
    p.check?.({
      raw,
      block,
      core: { trustDomain, caMode: ca?.mode, caKeyType, oidcTls },
      grants: partyGrants,
      secretKeys: options.secretKeys,
      providerConfig: { "azure-native:subscriptionId": options.azureSubscriptionId },
      report: (path, message) => problems.add(path, message),
      reportOther: (fullKey, message) => problems.lines.push(`${fullKey}: ${message}`),
    });
    if (block === undefined) continue;
    const publicNeed = p.publicIssuer?.(block);
    if (publicNeed !== undefined && tlsKind.includes("spire")) {
      problems.add(publicNeed.path, publicIssuerProblem(publicNeed));
    }
    const stagingHost = oidcTls?.kind === "acme" ? acmeStagingHost(oidcTls.server) : undefined;
    if (publicNeed !== undefined && stagingHost !== undefined) {
      problems.add(
        ["oidc", "tls", "acme", "server"],
        stagingServerProblem(stagingHost, publicNeed),
      );
    }
    const jwtNeed = p.jwtAlgorithms?.(block, partyGrants);
    if (jwtNeed !== undefined && !jwtNeed.algorithms.includes(JWT_ALGORITHM[caKeyType])) {
      const allowed = (Object.keys(JWT_ALGORITHM) as CaKeyType[]).filter((k) =>
        jwtNeed.algorithms.includes(JWT_ALGORITHM[k]),
      );
      problems.add(
        ["spire", "caKeyType"],
        `must be ${joinOr(allowed)} ${jwtNeed.when}: ${jwtNeed.reason}, and SPIRE signs JWT-SVIDs with its CA key (${caKeyType})`,
      );
    }
  }

  if (
    problems.lines.length > 0 ||
    trustDomain === undefined ||
    clusterName === undefined ||
    oidc === undefined ||
    oidcTls === undefined ||
    ca === undefined ||
    spire === undefined
  ) {
    throw new ConfigError(problems.lines);
  }

  const issuerUrl = `https://${oidc.host}`;
  const providerConfig = { "azure-native:subscriptionId": options.azureSubscriptionId };
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

function joinOr(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
