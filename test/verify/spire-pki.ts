/**
 * Real certificates shaped as a SPIRE deployment of this package makes them: the stable root
 * (cert-manager's CA, self-signed), SPIRE's intermediate CA under it (URI SAN = the trust domain,
 * as SPIRE's `pkg/server/ca` signs it), and the server's X509-SVID under that
 * (`spiffe://<td>/spire/server`, digitalSignature, serverAuth + clientAuth). A TLS server on
 * 127.0.0.1 presents leaf + intermediate, as SPIRE's server does (`ca.signX509SVID` returns the
 * leaf followed by the upstream chain).
 */
import "reflect-metadata";
import { generateKeyPairSync, webcrypto, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { pkcs8Pem } from "../fixtures";

x509.cryptoProvider.set(webcrypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** A certificate with its key pair. */
export interface Issued {
  /** PEM of the certificate. */
  pem: string;
  /** Its subject (to sign under it). */
  subject: string;
  /** Its keys. */
  keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
}

/** What {@link issue} makes. */
export interface IssueOptions {
  /** Subject DN. */
  subject: string;
  /** A CA certificate. */
  ca: boolean;
  /** URI SANs (SPIFFE IDs). */
  uris?: string[];
  /** DNS SANs. */
  dns?: string[];
  /** IP SANs. */
  ips?: string[];
  /** The issuer; none: self-signed. */
  issuer?: Issued;
  /** Validity. */
  notBefore?: Date;
  /** Validity. */
  notAfter?: Date;
}

/** Issues one certificate (real ECDSA P-256 keys and signatures). */
export async function issue(o: IssueOptions): Promise<Issued> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const names = [
    ...(o.uris ?? []).map((value) => ({ type: "url" as const, value })),
    ...(o.dns ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(o.ips ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const F = x509.KeyUsageFlags;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: "01" + Math.floor(Math.random() * 1e12).toString(16),
    subject: o.subject,
    issuer: o.issuer?.subject ?? o.subject,
    notBefore: o.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: o.notAfter ?? new Date(Date.now() + 24 * 3600_000),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: o.issuer?.keys.privateKey ?? keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(o.ca, undefined, true),
      new x509.KeyUsagesExtension(
        o.ca ? F.keyCertSign | F.cRLSign : F.digitalSignature | F.keyEncipherment,
        true,
      ),
      ...(o.ca
        ? []
        : [
            new x509.ExtendedKeyUsageExtension([
              x509.ExtendedKeyUsage.serverAuth,
              x509.ExtendedKeyUsage.clientAuth,
            ]),
          ]),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return {
    pem: cert.toString("pem"),
    subject: o.subject,
    keys,
    keyPem: await pkcs8Pem(keys.privateKey),
  };
}

/** A trust domain's PKI: root, SPIRE's intermediate, and leaves under it. */
export interface TrustDomainPki {
  /** The trust domain. */
  trustDomain: string;
  /** The stable root (cert-manager's CA). */
  root: Issued;
  /** SPIRE's intermediate CA. */
  intermediate: Issued;
  /** The server's X509-SVID, `spiffe://<td>/spire/server`. */
  server: Issued;
}

/** A fresh PKI for `trustDomain`. */
export async function makeTrustDomainPki(trustDomain: string): Promise<TrustDomainPki> {
  const root = await issue({ subject: `CN=${trustDomain} root,O=cert-manager`, ca: true });
  const intermediate = await issue({
    subject: `CN=SPIRE Server CA,O=SPIFFE,C=US`,
    ca: true,
    uris: [`spiffe://${trustDomain}`],
    issuer: root,
  });
  const server = await leaf(intermediate, { uris: [`spiffe://${trustDomain}/spire/server`] });
  return { trustDomain, root, intermediate, server };
}

/** A leaf (an X509-SVID when it has one URI SAN) signed by `issuer`. */
export function leaf(
  issuer: Issued,
  o: Omit<IssueOptions, "subject" | "ca" | "issuer"> & { subject?: string } = {},
): Promise<Issued> {
  return issue({ subject: "C=US,O=SPIRE", ca: false, issuer, ...o });
}

/** The chain a SPIRE server presents: its leaf, then the intermediate. */
export function chainPem(leafCert: Issued, intermediate: Issued): string {
  return `${leafCert.pem.trim()}\n${intermediate.pem.trim()}\n`;
}

/** A SPIFFE bundle (spec §4; SPIRE's `bundleutil.Marshal`) of `roots` and fresh JWT keys. */
export function spiffeBundleJson(
  roots: Issued[],
  o: { jwtKids?: string[]; refreshHint?: number; sequence?: number } = {},
): Record<string, unknown> {
  const keys: Record<string, unknown>[] = roots.map((r) => {
    const cert = new X509Certificate(r.pem);
    const jwk = cert.publicKey.export({ format: "jwk" });
    return { use: "x509-svid", ...jwk, x5c: [cert.raw.toString("base64")] };
  });
  for (const kid of o.jwtKids ?? []) {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    keys.push({ use: "jwt-svid", ...publicKey.export({ format: "jwk" }), kid });
  }
  return {
    keys,
    ...(o.refreshHint === undefined ? {} : { spiffe_refresh_hint: o.refreshHint }),
    ...(o.sequence === undefined ? {} : { spiffe_sequence: o.sequence }),
  };
}
