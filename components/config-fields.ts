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
