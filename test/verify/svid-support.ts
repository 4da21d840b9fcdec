/**
 * Real X509-SVIDs for the verify exchange tests, shaped like SPIRE's: a root (the stable upstream
 * CA), an intermediate under it (SPIRE's signing CA), and leaves with no CN, the SPIFFE ID as the
 * only URI SAN and `clientAuth`, written into an `--svid-dir` as spiffe-helper does (`svid.pem`:
 * leaf then intermediate; `svid_key.pem`).
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as x509 from "@peculiar/x509";
import { makeCertificate, pkcs8Pem } from "../fixtures";

x509.cryptoProvider.set(webcrypto);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** A CA: its PEM, subject and keys. */
export interface TestCa {
  /** PEM of its certificate. */
  pem: string;
  /** Its subject. */
  subject: string;
  /** Its keys. */
  keys: webcrypto.CryptoKeyPair;
}

/** An X509-SVID as spiffe-helper writes it. */
export interface TestSvid {
  /** `svid.pem`: the leaf, then the intermediate. */
  certPem: string;
  /** `svid_key.pem` (PKCS#8). */
  keyPem: string;
}

/** A SPIRE-like PKI: the root, an intermediate, and a way to mint leaves. */
export interface TestPki {
  /** The upstream root (what the relying parties trust). */
  root: TestCa;
  /** SPIRE's intermediate. */
  intermediate: TestCa;
  /** A leaf for `spiffeId`, valid from `notBefore` to `notAfter` (default: now ±1 h). */
  svid(spiffeId: string, o?: { notBefore?: Date; notAfter?: Date }): Promise<TestSvid>;
  /** A certificate with `CN=<cn>` signed directly by the root (OpenZiti's CA verification). */
  signedByRoot(cn: string): Promise<string>;
}

/** Makes a SPIRE-like PKI under a root named `rootName`. */
export async function makePki(rootName = "CN=spire upstream root"): Promise<TestPki> {
  const rootCert = await makeCertificate({ subject: rootName, ca: true });
  const root: TestCa = { pem: rootCert.pem, subject: rootName, keys: rootCert.keys };
  const ikeys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const isubject = "O=SPIFFE, CN=spire intermediate";
  const icert = await x509.X509CertificateGenerator.create({
    serialNumber: "02" + Math.floor(Math.random() * 1e12).toString(16),
    subject: isubject,
    issuer: rootName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    signingAlgorithm: ALG,
    publicKey: ikeys.publicKey,
    signingKey: root.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  const intermediate: TestCa = { pem: icert.toString("pem"), subject: isubject, keys: ikeys };
  return {
    root,
    intermediate,
    async svid(spiffeId, o = {}) {
      const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: "03" + Math.floor(Math.random() * 1e12).toString(16),
        subject: "O=SPIRE",
        issuer: isubject,
        notBefore: o.notBefore ?? new Date(Date.now() - 60_000),
        notAfter: o.notAfter ?? new Date(Date.now() + 3600_000),
        signingAlgorithm: ALG,
        publicKey: keys.publicKey,
        signingKey: ikeys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
            true,
          ),
          new x509.ExtendedKeyUsageExtension([
            x509.ExtendedKeyUsage.serverAuth,
            x509.ExtendedKeyUsage.clientAuth,
          ]),
          new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }]),
        ],
      });
      return {
        certPem: leaf.toString("pem") + "\n" + intermediate.pem,
        keyPem: await pkcs8Pem(keys.privateKey),
      };
    },
    async signedByRoot(cn) {
      const c = await makeCertificate({
        subject: `CN=${cn}`,
        ca: false,
        issuer: { subject: rootName, privateKey: root.keys.privateKey },
      });
      return c.pem;
    },
  };
}

/** A fresh `--svid-dir` with the X509-SVID and any JWT-SVID files (`name` → token). */
export function svidDir(svid?: TestSvid, tokens: Record<string, string> = {}): string {
  const d = mkdtempSync(path.join(tmpdir(), "svid-"));
  if (svid) {
    writeFileSync(path.join(d, "svid.pem"), svid.certPem);
    writeFileSync(path.join(d, "svid_key.pem"), svid.keyPem);
  }
  for (const [name, token] of Object.entries(tokens)) writeFileSync(path.join(d, name), token);
  return d;
}

/**
 * A server certificate for 127.0.0.1 under a CA named `caName` (a name other than the shared
 * loopback CA's, so that one `--ca-file` can hold both: OpenSSL picks issuers by name).
 */
export async function makeServerCredentials(
  caName: string,
): Promise<{ caPem: string; keyPem: string; certPem: string }> {
  const ca = await makeCertificate({ subject: caName, ca: true });
  const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: "04" + Math.floor(Math.random() * 1e12).toString(16),
    subject: "CN=127.0.0.1",
    issuer: caName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3600_000),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "ip", value: "127.0.0.1" }])],
  });
  return { caPem: ca.pem, keyPem: await pkcs8Pem(keys.privateKey), certPem: leaf.toString("pem") };
}
