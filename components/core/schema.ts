/**
 * The core's config schema: one zod schema per top-level key of the core (trust domain, OIDC, CA,
 * cert-manager, SPIRE, nodes, workloads, workload files), the workload entry with one optional
 * grant per relying party, and the readers the composition in `../config.ts` uses to parse each
 * field on its own.
 */
import { z } from "zod";
import {
  acmeSchema,
  chartVersion,
  dnsLabel,
  DNS_SUBDOMAIN,
  dnsSubdomain,
  duration,
  hostName,
  labelMap,
  pemCertificate,
  ruled,
  secureString,
} from "../config-fields";
import { relyingParties } from "../federation/registry";
import type { OidcTls } from "../model";
import { nodeSchema, nodesSchema, nodeWorkloadShape, spireServerSchema } from "../nodes/schema";
import { platformCoreSchemas } from "../platform/schema";
import { SPIFFE_SCHEME_PREFIX, trustDomainProblem } from "../spiffe-id";
import { federatesWithSchema, federationSchema } from "../spire-federation/schema";
import { SPIRE_SERVER_NAMESPACE } from "../spire-rules";
import { certDirProblem, helperImageProblem } from "../workload/rules";
import { anchorsSchema } from "./anchors";
import { fieldOf, isRecord, type Problems } from "./problems";
import type { ParsedWorkload } from "./rules/workloads";

/** Pinned chart versions; `spire.chartVersion` and friends override them. */
export const DEFAULT_VERSIONS = {
  certManager: "v1.19.1",
  spire: "0.30.0",
  spireCrds: "0.6.0",
} as const;

/** `oidc.tls`: exactly one of ACME, an existing Secret, or SPIRE's own certificate. */
export const oidcTlsSchema = z
  .strictObject({
    acme: acmeSchema.optional(),
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

/** The core's top-level keys, each with its schema. */
export const coreSchemas = {
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
  anchors: anchorsSchema,
  nodes: nodesSchema,
  workloads: z.array(z.unknown(), { error: "must be a list of workloads" }),
  workloadFiles: z.strictObject({
    enabled: z.boolean({ error: "must be true or false" }).optional(),
    helperImage: ruled(helperImageProblem).optional(),
    certDir: ruled(certDirProblem).optional(),
  }),
  federation: federationSchema,
  // Team stacks on a platform stack (components/platform/): `platform`, `teamStacks`.
  ...platformCoreSchemas,
} as const;

const workloadCoreShape = {
  name: dnsLabel,
  namespace: dnsLabel.optional(),
  serviceAccount: dnsSubdomain.optional(),
  spiffeIdPath: z.string().optional(),
  podLabels: labelMap.optional(),
  files: z.boolean({ error: "must be true or false" }).optional(),
  federatesWith: federatesWithSchema.optional(),
  ...nodeWorkloadShape,
};

/** A workload's schema: the core fields plus one optional grant per relying party. */
export const workloadSchema = z.strictObject({
  ...workloadCoreShape,
  ...Object.fromEntries(relyingParties.map((p) => [p.key, p.grantSchema.optional()])),
});

/** The core keys every stack must set. */
export const REQUIRED_KEYS = ["trustDomain", "clusterName", "oidc", "ca", "workloads"] as const;

/** The model of a valid `oidc.tls`, with the ACME server defaulted. */
export function oidcTlsModel(tls: z.output<typeof oidcTlsSchema>): OidcTls {
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
export function topLevelSchema(key: string): z.ZodType | undefined {
  if (key === "workloads") return z.array(workloadSchema);
  if (key === "nodes") return z.array(nodeSchema);
  if (key in coreSchemas) return coreSchemas[key as keyof typeof coreSchemas];
  return relyingParties.find((p) => p.key === key)?.blockSchema;
}

/** `ca.validityHours` when the CA is generated and the field is valid (or undefined). */
export function caValidityHours(ca: unknown): number | undefined {
  if (!isRecord(ca) || ca.mode !== "generated") return undefined;
  return fieldOf(coreSchemas.ca.options[0].shape.validityHours, ca.validityHours).value;
}

/** The raw `workloadFiles.enabled`, for the workload rules to read on its own. */
export function workloadFilesRaw(raw: Readonly<Record<string, unknown>>): unknown {
  return isRecord(raw.workloadFiles) ? raw.workloadFiles.enabled : undefined;
}

/**
 * One workload entry: its shape problems reported as a whole, then each core field and each
 * grant read on its own, so that the rules run on whatever is valid.
 */
export function parseWorkload(problems: Problems, entry: unknown, i: number): ParsedWorkload {
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
