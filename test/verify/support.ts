/**
 * What the verify tests share: a stack file in a scratch folder, an OIDC issuer on 127.0.0.1
 * over HTTPS with a test CA and real keys, real JWT-SVIDs signed by those keys, and a run of the
 * command with its stdout, stderr and exit code captured.
 */
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { jwtClaims } from "../../tools/verify/fields";
import { main } from "../../tools/verify/main";
import { makeLoopbackServerCredentials } from "../fixtures";
import { startFaultServer, type FaultServer, type Handler } from "../support/fault-server";

/** A signing key as SPIRE holds it: private key, public JWK, algorithm. */
export interface SigningKey {
  /** The kid. */
  kid: string;
  /** JWS algorithm. */
  alg: "RS256" | "ES256" | "ES384";
  /** The private key. */
  privateKey: KeyObject;
  /** The public JWK as the discovery provider publishes it (with use: sig). */
  jwk: Record<string, unknown>;
}

/** A fresh key pair of the algorithm's type. */
export function makeKey(kid: string, alg: SigningKey["alg"] = "RS256"): SigningKey {
  const pair =
    alg === "RS256"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: alg === "ES256" ? "P-256" : "P-384" });
  const jwk = { ...pair.publicKey.export({ format: "jwk" }), kid, use: "sig" };
  return {
    kid,
    alg,
    privateKey: createPrivateKey(pair.privateKey.export({ format: "pem", type: "pkcs8" })),
    jwk,
  };
}

/** A JWT-SVID signed with `key` (real crypto). `claims` overrides the defaults. */
export function signJwt(key: SigningKey, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: "JWT" })).toString(
    "base64url",
  );
  const body = Buffer.from(JSON.stringify({ iat: now, exp: now + 300, ...claims })).toString(
    "base64url",
  );
  const input = `${header}.${body}`;
  const sig =
    key.alg === "RS256"
      ? sign("sha256", Buffer.from(input), key.privateKey)
      : sign(key.alg === "ES256" ? "sha256" : "sha384", Buffer.from(input), {
          key: key.privateKey,
          dsaEncoding: "ieee-p1363",
        });
  return `${input}.${sig.toString("base64url")}`;
}

/**
 * The claims of a compact JWT, unverified, or `{}`: what a double reads from a token it is sent
 * (the verify tool's own reader, so that the doubles and the messages agree on a token's claims).
 */
export const claimsOf = jwtClaims;

/** A folder holding the files spiffe-helper would write (`--svid-dir`), e.g. `gcp-jwt-svid.token`. */
export function svidFiles(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(tmpdir(), "svid-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
}

/** What the issuer serves; each field may be changed between runs. */
export interface IssuerState {
  /** The `issuer` of the discovery document; default: the server's URL. */
  issuer?: string;
  /** The `jwks_uri`; default: `<url>/keys`. */
  jwksUri?: string;
  /** The JWKS `keys`. */
  keys: Record<string, unknown>[];
}

/** A running issuer. */
export interface Issuer {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** The test CA (for --ca-file). */
  caPem: string;
  /** What it serves. */
  state: IssuerState;
  /** The server (requests, faults). */
  server: FaultServer;
  /** Its TLS credentials (another loopback server may serve them, under the same CA). */
  tls: { caPem: string; keyPem: string; certPem: string };
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts an HTTPS issuer on 127.0.0.1 serving discovery and JWKS from `state`. */
export async function startIssuer(state: IssuerState, extra?: Handler): Promise<Issuer> {
  let url = "";
  const handler: Handler = async (req) => {
    if (req.method === "GET" && req.path === "/.well-known/openid-configuration") {
      return {
        status: 200,
        body: JSON.stringify({
          issuer: state.issuer ?? url,
          jwks_uri: state.jwksUri ?? `${url}/keys`,
          authorization_endpoint: "",
          response_types_supported: ["id_token"],
          subject_types_supported: [],
          id_token_signing_alg_values_supported: ["RS256", "ES256", "ES384"],
        }),
      };
    }
    if (req.method === "GET" && req.path === "/keys") {
      return { status: 200, body: JSON.stringify({ keys: state.keys }) };
    }
    return extra ? extra(req) : { status: 404, body: '{"error":"not found"}' };
  };
  const tls = await makeLoopbackServerCredentials();
  const server = await startFaultServer({ tls, handler });
  url = server.url;
  return { url, caPem: tls.caPem, tls, state, server, close: () => server.close() };
}

/** A scratch folder with `stacks/Pulumi.<stack>.yaml` holding `config`. */
export function writeStack(stack: string, config: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "verify-"));
  mkdirSync(path.join(dir, "stacks"));
  writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), stringify({ config }));
  return dir;
}

/** A config with Vault and one workload, as a stack file's `config:`. */
export function vaultStackConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "vault:address": "https://vault.test.example.com:8200",
    "spire-federation:trustDomain": "test.example.com",
    "spire-federation:clusterName": "test",
    "spire-federation:oidc": {
      host: "oidc.test.example.com",
      ingressClassName: "nginx",
      tls: { acme: { email: "ops@example.com" } },
    },
    "spire-federation:ca": { mode: "generated" },
    "spire-federation:spire": { caKeyType: "rsa-2048", caTTL: "24h" },
    "spire-federation:vault": { path: "spire-jwt", policies: { "payments-read": 'path "x" {}' } },
    "spire-federation:workloads": [
      {
        name: "payments-api",
        namespace: "payments",
        serviceAccount: "payments-api",
        vault: { policies: ["payments-read"] },
      },
    ],
    ...extra,
  };
}

/** The SPIFFE ID the config above gives payments-api. */
export const PAYMENTS_ID = "spiffe://test.example.com/ns/payments/sa/payments-api";

/** The outputs a deploy of {@link vaultStackConfig} leaves, with the issuer at `issuerUrl`. */
export function vaultOutputs(issuerUrl: string): Record<string, unknown> {
  return {
    trustDomain: "test.example.com",
    issuerUrl,
    jwksUri: `${issuerUrl}/keys`,
    rootCaPem: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
    workloads: { "payments-api": PAYMENTS_ID },
    federation: {
      "payments-api": {
        vault: { role: "payments-api", loginPath: "auth/spire-jwt/login", audience: "vault" },
      },
    },
  };
}

/** One run of the command. */
export interface Run {
  /** Exit code. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr. */
  stderr: string;
}

/**
 * Runs `verify` in `dir` (where `stacks/` is) with `outputs` written to a file and `--ca-file`
 * written from `caPem`; `argv` adds flags. Returns what it printed.
 */
export async function runVerify(
  dir: string,
  stack: string,
  outputs: Record<string, unknown>,
  argv: string[],
  opts: { caPem?: string; env?: Record<string, string>; deadlineMs?: number } = {},
): Promise<Run> {
  const outFile = path.join(dir, "outputs.json");
  writeFileSync(outFile, JSON.stringify(outputs));
  const args = ["--stack", stack, "--outputs", outFile, "--stacks-dir", path.join(dir, "stacks")];
  if (opts.caPem) {
    writeFileSync(path.join(dir, "ca.pem"), opts.caPem);
    args.push("--ca-file", path.join(dir, "ca.pem"));
  }
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, ...argv], {
    env: opts.env ?? {},
    deadlineMs: opts.deadlineMs,
    out: (s) => out.push(s),
    err: (s) => err.push(s),
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}
