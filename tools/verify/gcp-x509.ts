/**
 * Google's X.509 (mTLS) workload identity federation exchange with `--svid-dir`, by
 * google-auth-library's own IdentityPoolClient on the deployed X.509 credential configuration
 * (`credential_source.certificate`, supported since google-auth-library 10.2: its
 * CertificateSubjectTokenSupplier reads Google's certificate configuration, sends the leaf and
 * the trust chain as the subject token — a JSON array of base64 DER certificates, leaf first —
 * with `subject_token_type` `urn:ietf:params:oauth:token-type:mtls`, and presents the certificate
 * and key on the TLS connection to the STS, `https://sts.mtls.googleapis.com/v1/token`).
 * The configuration's paths name the pod's files; verify points them at `--svid-dir`
 * (`svid.pem`, `svid_key.pem`) through a scratch copy of the certificate configuration, and
 * `GOOGLE_STS_MTLS_TOKEN_URL` moves the STS (tests). Every request the SDK makes goes through the
 * hardened client, which presents the certificate of the SDK's own mTLS agent.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { SVID_CERT_FILE, SVID_KEY_FILE } from "../../components/federation/paths";
import { isRecord, shown } from "./http";
import { hardenedFetch, optionalSdk } from "./sdk-transport";
import type { CheckResult, VerifyContext } from "./types";
import { svidValidityProblem, x509Subject, type X509Svid } from "./x509-svid";

type GoogleAuthLib = typeof import("google-auth-library");
const base = { check: "gcp", party: "gcp", name: "sts exchange x509" } as const;

/** Why the STS refused the X509-SVID. */
export function x509StsCause(message: string, svid: X509Svid, trustDomain: string): string {
  const validity = svidValidityProblem(svid);
  if (validity) return validity;
  if (/invalid_target|disabled or deleted/i.test(message)) {
    return "the STS finds no active X.509 provider for the audience: the pool or provider is deleted, disabled or missing (see their state above)";
  }
  if (/attribute condition/i.test(message)) {
    return `the provider's attributeCondition refuses the URI SAN ${shown(svid.spiffeId)}: it must start with "spiffe://${trustDomain}/" (compare attributeCondition above)`;
  }
  if (/trust|chain|certificate/i.test(message)) {
    return "the X509-SVID does not chain to the provider's trust store (x509.trustStore: SPIRE's upstream root as trust anchor): compare it with the stack's rootCaPem; pulumi up restores it";
  }
  return "see Google's message";
}

/** The real STS exchange with the workload's X509-SVID (no SVID in `--svid-dir`: nothing). */
export async function x509Exchange(ctx: VerifyContext): Promise<CheckResult[]> {
  if (ctx.model.gcp?.x509 !== true) return []; // no X.509 provider in this stack
  const subject = x509Subject(ctx, { party: "gcp", name: base.name });
  if (Array.isArray(subject) || ctx.svidDir === undefined) {
    return Array.isArray(subject) ? subject : [];
  }
  const { svid, workload: w, login } = subject;
  const r = { ...base, workload: w.name };
  const configs = isRecord(login.credentialConfigs) ? login.credentialConfigs : {};
  if (typeof configs.x509 !== "string") return []; // no X.509 provider in this stack
  const lib = await optionalSdk<GoogleAuthLib>("google-auth-library");
  if (lib === undefined) {
    return [
      {
        ...r,
        status: "SKIP",
        reason: "google-auth-library is not installed",
        fix: "npm install google-auth-library (the SDK the workload uses)",
      },
    ];
  }
  const config = JSON.parse(configs.x509) as Record<string, unknown>;
  const scratch = mkdtempSync(path.join(tmpdir(), "verify-gcp-x509-"));
  try {
    const certConfig = path.join(scratch, "certificate_config.json");
    writeFileSync(
      certConfig,
      JSON.stringify({
        cert_configs: {
          workload: {
            cert_path: path.join(ctx.svidDir, SVID_CERT_FILE),
            key_path: path.join(ctx.svidDir, SVID_KEY_FILE),
          },
        },
      }),
    );
    const client = new lib.IdentityPoolClient({
      ...(config as { audience: string; subject_token_type: string }),
      token_url: ctx.env.GOOGLE_STS_MTLS_TOKEN_URL ?? String(config.token_url),
      credential_source: {
        certificate: {
          certificate_config_location: certConfig,
          trust_chain_path: path.join(ctx.svidDir, SVID_CERT_FILE),
        },
      },
      transporterOptions: { fetchImplementation: hardenedFetch(ctx) },
    });
    // google-auth-library 10.9.1 (identitypoolclient.js retrieveSubjectToken) makes a new STS
    // client with a bare `new Gaxios({ agent })` for the certificate source, leaving the
    // transporter the hardened fetch was given; after it ran, give the STS client the client's
    // own transporter (the same agent, and the hardened fetch, which presents its certificate).
    const c = client as unknown as {
      retrieveSubjectToken(): Promise<string>;
      stsCredential?: { transporter?: unknown };
    };
    const retrieve = c.retrieveSubjectToken.bind(client);
    c.retrieveSubjectToken = async () => {
      const token = await retrieve();
      if (c.stsCredential) c.stsCredential.transporter = client.transporter;
      return token;
    };
    ctx.progress(`gcp: STS mTLS exchange for ${w.name}`);
    const got = await client.getAccessToken();
    if (got.token) ctx.secrets.push(got.token);
    return [
      {
        ...r,
        status: "PASS",
        reason: `the STS issued a federated access token for ${shown(svid.spiffeId)} (X509-SVID over mTLS)`,
      },
    ];
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 300);
    return [
      {
        ...r,
        status: "FAIL",
        reason: `the STS refused the X509-SVID: ${message}`,
        fix: x509StsCause(message, svid, ctx.model.trustDomain),
      },
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
