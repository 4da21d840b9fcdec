/**
 * Field schemas shared by the core config and every relying party's block: DNS names, URLs,
 * durations, PEM certificates, secure strings. Each yields the message users read.
 */
import { X509Certificate } from "node:crypto";
import { z } from "zod";
import { parseDuration } from "./duration";

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A string checked by one of the relying parties' own rule functions. */
export const ruled = (problem: (s: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    const p = problem(v);
    if (p !== undefined) ctx.addIssue({ code: "custom", message: p });
  });

/**
 * Why an audience cannot be written into the helper's HCL, or `undefined`: HCL1 (the parser
 * spiffe-helper uses) reads `${` inside a string as the start of an interpolation. One rule for
 * every party's audience field, so that the schema refuses what the helper config could not hold.
 */
export function audienceProblem(audience: string): string | undefined {
  if (audience === "") return "must not be empty";
  if (audience.includes("${")) {
    return "must not contain ${ (spiffe-helper's HCL parser reads it as an interpolation)";
  }
  if (/[\u0000-\u001f\u007f]/.test(audience)) return "must not contain control characters";
  return undefined;
}

/** An audience of JWT-SVIDs (see {@link audienceProblem}). */
export const audience = ruled(audienceProblem);

export const dnsLabel = z
  .string()
  .refine((s) => s.length <= 63 && DNS_LABEL.test(s), { error: "must be a DNS-1123 label" });
export const dnsSubdomain = z.string().refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), {
  error: "must be a DNS-1123 subdomain",
});
export const hostName = z
  .string()
  .refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s) && s.includes("."), {
    error: "must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)",
  });
export const duration = z.string().refine((s) => (parseDuration(s) ?? 0) > 0, {
  error: "must be a positive duration such as 1h, 30m or 1h30m (units h, m, s)",
});
export const httpsUrl = z.string().refine(
  (s) => {
    try {
      return new URL(s).protocol === "https:";
    } catch {
      return false;
    }
  },
  { error: "must be an https:// URL" },
);
export const labelMap = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
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
/** An ACME account for a certificate the spire chart's cert-manager Issuer obtains. */
export const acmeSchema = z.strictObject({
  email: z.string().regex(EMAIL, { error: "must be an email address" }),
  server: httpsUrl.optional(),
});

/** A secure config value: a non-empty string that Pulumi holds as a secret. */
export const secureString = z.string().min(1, { error: "must not be empty" });

export const pemCertificate = z.string().superRefine((pem, ctx) => {
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

/** Each certificate of a PEM bundle, parsed; `undefined` when a block does not parse or none is there. */
export function parsePemCertificates(pem: string): X509Certificate[] | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return undefined;
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    return undefined;
  }
}

/** A PEM bundle of one or more X.509 certificates, each of which parses. */
export const pemBundle = z.string().refine((pem) => parsePemCertificates(pem) !== undefined, {
  error:
    "must be a PEM bundle of X.509 certificates (-----BEGIN CERTIFICATE----- …), each parsable",
});

/** One PEM-encoded X.509 certificate (CA or leaf) that parses. */
export const pemAnyCertificate = z
  .string()
  .refine((pem) => parsePemCertificates(pem)?.length === 1, {
    error: "must be one PEM-encoded X.509 certificate",
  });

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/**
 * A Helm chart version: SemVer 2.0 (`MAJOR.MINOR.PATCH[-pre][+build]`), with the optional leading
 * `v` Helm accepts (cert-manager's charts are published as `v1.19.1`). Ranges and partial
 * versions are refused: a stack pins exactly one chart.
 */
export const chartVersion = (example: string) =>
  z.string().refine((s) => SEMVER.test(s), {
    error: `must be an exact SemVer chart version such as ${example}`,
  });

/**
 * The host of an ACME directory that issues test certificates no client trusts, or `undefined`.
 * The rule: a DNS label of the host contains `staging` or starts with `test` — Let's Encrypt's
 * `acme-staging-v02.api.letsencrypt.org`, Google Trust Services' `dv.acme-v02.test-api.pki.goog`,
 * Buypass's `api.test4.buypass.no`; no public CA's production directory matches it.
 */
export function acmeStagingHost(server: string): string | undefined {
  let host: string;
  try {
    host = new URL(server).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  return host.split(".").some((l) => l.includes("staging") || l.startsWith("test"))
    ? host
    : undefined;
}

/** True when a certificate of the bundle names itself a staging or test root in its subject. */
export function holdsStagingRoot(pem: string): boolean {
  return (parsePemCertificates(pem) ?? []).some(
    (c) => c.ca && /\b(staging|test)\b/i.test(c.subject),
  );
}

/**
 * A key path in the syntax of `pulumi config set --path`: `spire.datastore.password`,
 * `workloads[0].podLabels["app.kubernetes.io/name"]`.
 */
export function pulumiConfigPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z0-9_:-]+$/.test(String(p))) out += out === "" ? String(p) : `.${String(p)}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}
