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
  issuer?: { subject: string; privateKey: CryptoKey };
}): Promise<{ pem: string; keys: CryptoKeyPair }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
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
