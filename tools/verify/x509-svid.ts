/**
 * The workload's X509-SVID as spiffe-helper writes it into `--svid-dir` (`svid.pem`: the leaf
 * followed by SPIRE's intermediates; `svid_key.pem`: its key), for the exchanges that present it
 * over mutual TLS (OpenZiti's `method=cert`, Curity's mutual TLS token endpoint, Google's STS).
 * The key joins the run's secrets; the certificates are public.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { SVID_CERT_FILE, SVID_KEY_FILE } from "../../components/federation/paths";
import { grantedWorkload, type GrantedWorkload } from "./fields";
import { shown } from "./http";
import type { CheckResult, VerifyContext } from "./types";

/** The X509-SVID files, parsed. */
export interface X509Svid {
  /** `svid.pem` as written: the leaf, then the intermediates (what the workload presents). */
  certPem: string;
  /** `svid_key.pem`. */
  keyPem: string;
  /** The leaf, then each intermediate. */
  chain: X509Certificate[];
  /** The leaf's `spiffe://` URI SAN, when it has one. */
  spiffeId?: string;
}

/** The PEM certificates of a bundle, in order. */
export function pemCertificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

/** The `spiffe://` URI SAN of a certificate, if any. */
export function spiffeIdOf(cert: X509Certificate): string | undefined {
  return /URI:(spiffe:\/\/[^,\s]+)/.exec(cert.subjectAltName ?? "")?.[1];
}

/** Reads the X509-SVID from `--svid-dir`; undefined when the directory has none. */
export function readX509Svid(ctx: VerifyContext): X509Svid | undefined {
  if (ctx.svidDir === undefined) return undefined;
  const certFile = path.join(ctx.svidDir, SVID_CERT_FILE);
  const keyFile = path.join(ctx.svidDir, SVID_KEY_FILE);
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  const certPem = readFileSync(certFile, "utf8");
  const keyPem = readFileSync(keyFile, "utf8");
  ctx.secrets.push(keyPem.trim());
  const chain = pemCertificates(certPem);
  return { certPem, keyPem, chain, spiffeId: chain[0] && spiffeIdOf(chain[0]) };
}

/** Why the leaf cannot authenticate now (expired or not yet valid), or undefined. */
export function svidValidityProblem(svid: X509Svid, now = Date.now()): string | undefined {
  const leaf = svid.chain[0];
  if (leaf === undefined) return `${SVID_CERT_FILE} holds no certificate`;
  if (now > Date.parse(leaf.validTo)) {
    return `the X509-SVID expired at ${new Date(leaf.validTo).toISOString()}: check that spiffe-helper renews ${SVID_CERT_FILE}`;
  }
  if (now < Date.parse(leaf.validFrom)) {
    return `the X509-SVID is valid only from ${new Date(leaf.validFrom).toISOString()}: check the clocks`;
  }
  return undefined;
}

/** The X509-SVID and the workload it names, or the verdicts that stop the exchange. */
export function x509Subject(
  ctx: VerifyContext,
  o: { party: string; name: string },
): ({ svid: X509Svid } & GrantedWorkload) | CheckResult[] {
  const svid = readX509Svid(ctx);
  if (svid === undefined) return [];
  const granted = grantedWorkload(ctx, o, svid.spiffeId, "the X509-SVID's URI SAN");
  if (Array.isArray(granted)) return granted;
  return { svid, ...granted };
}

/** Whether `chain` leads to `anchor` (each certificate signed by the next, the last by it). */
export function chainsTo(chain: X509Certificate[], anchor: X509Certificate): boolean {
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i];
    if (c.checkIssued(anchor) && c.verify(anchor.publicKey)) return true;
    const next = chain[i + 1];
    if (next === undefined || !c.checkIssued(next) || !c.verify(next.publicKey)) return false;
  }
  return false;
}

/** A certificate's subject and SHA-256 fingerprint, for messages. */
export function certName(cert: X509Certificate): string {
  return `${shown(cert.subject.replace(/\n/g, ", "))} (SHA-256 ${cert.fingerprint256.slice(0, 23)}…)`;
}
