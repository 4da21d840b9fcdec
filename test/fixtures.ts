/** Shared test fixtures: a valid raw config, real CA certificates. */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto);

/** A valid raw stack config (keys without namespace), deep-copied on each call. */
export function baseConfig(): Record<string, unknown> {
  return structuredClone({
    trustDomain: "test.example.com",
    clusterName: "test-cluster",
    oidc: {
      host: "oidc.test.example.com",
      ingressClassName: "nginx",
      tls: { acme: { email: "ops@example.com" } },
    },
    ca: { mode: "generated" },
    workloads: [
      { name: "api", namespace: "shop", serviceAccount: "api" },
      { name: "worker", namespace: "shop", serviceAccount: "worker", podLabels: { app: "worker" } },
    ],
  });
}

/** A CA (or leaf) certificate made with WebCrypto, returned as PEM with its keys. */
export async function makeCertificate(opts: {
  subject: string;
  ca: boolean;
  notAfter?: Date;
  notBefore?: Date;
  issuer?: { subject: string; privateKey: webcrypto.CryptoKey };
}): Promise<{ pem: string; keys: webcrypto.CryptoKeyPair }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: "01" + Math.floor(Math.random() * 1e12).toString(16),
    subject: opts.subject,
    issuer: opts.issuer?.subject ?? opts.subject,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: opts.issuer?.privateKey ?? keys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(opts.ca, undefined, true)],
  });
  return { pem: cert.toString("pem"), keys };
}

/** PKCS#8 PEM of a WebCrypto private key. */
export async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----\n`;
}

/** A test CA and a server certificate for 127.0.0.1 signed by it: for HTTPS servers on loopback. */
export async function makeLoopbackServerCredentials(): Promise<{
  caPem: string;
  keyPem: string;
  certPem: string;
}> {
  const ca = await makeCertificate({ subject: "CN=loopback test CA", ca: true });
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: "0a" + Math.floor(Math.random() * 1e9).toString(16),
    subject: "CN=127.0.0.1",
    issuer: "CN=loopback test CA",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3600_000),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "ip", value: "127.0.0.1" }])],
  });
  return { caPem: ca.pem, keyPem: await pkcs8Pem(keys.privateKey), certPem: leaf.toString("pem") };
}
