/**
 * What the Curity Identity Server accepts, written once: used by the config schema, the
 * component, the provider and the policies.
 */
import type { JwksCaching } from "../rotation";
import { X509Certificate } from "node:crypto";
import type { AdminApi } from "../admin-connection";
import { audienceProblem } from "../../config-fields";

/** Where RESTCONF lives below the admin base URL. */
export const CURITY_RESTCONF_PATH = "/admin/api/restconf/data";
/** The media type of every RESTCONF request and answer (RFC 8040). */
export const YANG_JSON = "application/yang-data+json";
/** Curity's admin connection: RESTCONF below the admin service's origin. */
export const CURITY_ADMIN_API = {
  key: "curity",
  apiPath: CURITY_RESTCONF_PATH,
  urlKey: "adminUrl",
  caKey: "adminCaPem",
} as const satisfies AdminApi & { urlKey: string; caKey: string };
/** Default prefix of every id this package gives a Curity entity. */
export const DEFAULT_CURITY_ID_PREFIX = "spiffe-";
/** Longest id (client, trust store entry, HTTP client) this package makes. */
export const CURITY_MAX_ID_LENGTH = 128;
/**
 * Asymmetric JWS algorithms Curity lists for `asymmetrically-signed-jwt/signature-algorithm`
 * (the enumeration was not retrieved in full; these are the JOSE names Curity documents).
 */
export const CURITY_SIGNATURE_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

/** How a workload authenticates to Curity: a JWT-SVID assertion, its X509-SVID, or either. */
export type CurityAuth = "jwt" | "x509" | "both";

/** Whether the workload sends JWT-SVIDs as client assertions. */
export const usesJwt = (auth: CurityAuth): boolean => auth !== "x509";
/** Whether the workload presents its X509-SVID. */
export const usesX509 = (auth: CurityAuth): boolean => auth !== "jwt";

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why a Curity id (profile, client, trust store entry) is unusable, or `undefined`. */
export function curityIdProblem(id: string): string | undefined {
  return id.length <= CURITY_MAX_ID_LENGTH && ID.test(id)
    ? undefined
    : `must be 1–${CURITY_MAX_ID_LENGTH} characters of letters, digits and . _ -, starting with a letter or digit`;
}

/** Why an id prefix is unusable, or `undefined`. */
export function curityPrefixProblem(prefix: string): string | undefined {
  return prefix.length <= 32 && ID.test(prefix)
    ? undefined
    : "must be 1–32 characters of letters, digits and . _ -, starting with a letter or digit";
}

function parseUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/**
 * Why `curity.mtls` is unusable, or `undefined`. Only `direct` works: behind a proxy Curity sees
 * the leaf alone (the proxy forwards no chain), so it would need SPIRE's current intermediate in
 * its client trust store, which rotates every `spire.caTTL`; Curity's own SPIFFE setup re-pushes
 * it from a sidecar on every rotation, which a deployment cannot do.
 */
export function mtlsProblem(value: string): string | undefined {
  if (value === "direct") return undefined;
  if (value === "proxy") {
    return `"proxy" is not supported; a proxy forwards the workload's leaf certificate only, so Curity would need SPIRE's current intermediate CA in its client trust store, which rotates every spire.caTTL (Curity's own setup re-pushes it from a sidecar on each rotation, which a deployment cannot do): use "direct" (the workload presents its whole X509-SVID chain to Curity), or workloads[].curity.auth jwt`;
  }
  return 'must be "direct"';
}

/**
 * Why a token endpoint URL is unusable, or `undefined`. JWT-SVIDs carry it as their audience
 * and Curity compares it with its own endpoint's URL, so it must be written exactly as Curity
 * serves it: https, a path, no query, no fragment, no trailing slash.
 */
export function tokenEndpointProblem(s: string): string | undefined {
  const a = audienceProblem(s);
  if (a !== undefined) return a;
  const u = parseUrl(s);
  if (u === undefined || u.protocol !== "https:") return "must be an https:// URL";
  if (u.username || u.password || u.search || u.hash) {
    return "must have no credentials, query or fragment";
  }
  if (u.pathname === "/" || u.pathname === "") {
    return "must be the token endpoint itself, such as https://login.example.com/oauth/v2/oauth-token, not the server's origin";
  }
  if (s.endsWith("/")) {
    return "must not end with a slash: it is the audience of JWT-SVIDs and Curity compares it exactly";
  }
  return undefined;
}

/**
 * Why `curity.tokenUrl` is unusable, or `undefined`: the URL a workload posts its JWT-SVID to,
 * which may differ from the token endpoint Curity publishes (e.g. plain http to the service
 * inside a mesh whose sidecars encrypt), so http is allowed; a path, no credentials, query or
 * fragment.
 */
export function tokenUrlProblem(s: string): string | undefined {
  const u = parseUrl(s);
  if (u === undefined || (u.protocol !== "https:" && u.protocol !== "http:")) {
    return "must be an http:// or https:// URL";
  }
  if (u.username || u.password || u.search || u.hash) {
    return "must have no credentials, query or fragment";
  }
  if (u.pathname === "/" || u.pathname === "") {
    return "must be the token endpoint's URL, such as http://curity-runtime.curity:8443/oauth/v2/oauth-token, not a server's origin";
  }
  return undefined;
}

/** Why an OAuth scope is unusable, or `undefined` (RFC 6749 §3.3 scope-token). */
export function scopeProblem(scope: string): string | undefined {
  // NQCHAR: %x21 / %x23-5B / %x5D-7E (no space, no double quote, no backslash)
  return /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)
    ? undefined
    : "must be a scope token: printable ASCII without spaces, double quotes or backslashes";
}

/** The PEM certificates in a bundle, in order. */
export function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Why a PEM is no good as a Curity trust store entry, or `[]`. An entry holds one certificate,
 * and Curity validates chains up to it, so it must be a CA certificate (a leaf, such as an
 * X509-SVID or the discovery endpoint's serving certificate, anchors nothing) and valid now.
 * Curity takes any certificate and reveals these mistakes only when a token is requested.
 */
export function trustStorePemProblems(pem: string, now: Date = new Date()): string[] {
  const blocks = pemBlocks(pem);
  if (blocks.length === 0) return ["is not a PEM certificate"];
  if (blocks.length > 1) {
    return [
      `holds ${blocks.length} certificates: a trust store entry holds one (the root that anchors the chain)`,
    ];
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]);
  } catch {
    return ["is not a PEM certificate"];
  }
  const problems: string[] = [];
  if (!cert.ca) {
    problems.push(
      `is a leaf certificate (${cert.subject.replace(/\n/g, ", ") || "no subject"}), not a CA: chains cannot be anchored to it`,
    );
  }
  if (new Date(cert.validTo).getTime() < now.getTime()) {
    problems.push(`expired on ${cert.validTo}`);
  }
  return problems;
}

/** The ids this package gives Curity entities. */
export const curityIds = {
  /** The OAuth client of a workload. */
  client: (prefix: string, workload: string) => `${prefix}${workload}`,
  /** The client trust store entry holding the stable root. */
  rootTrustStore: (prefix: string) => `${prefix}root-ca`,
  /** The server trust store entry holding the discovery endpoint's CA. */
  discoveryTrustStore: (prefix: string) => `${prefix}discovery-ca`,
  /** The HTTP client that fetches SPIRE's JWKS with the server trust store. */
  jwksHttpClient: (prefix: string) => `${prefix}jwks`,
} as const;

/** The `description` that marks a client as this package's (checked before adopting one). */
export const clientMarker = (spiffeId: string) => `spire-federation: ${spiffeId}`;

/**
 * How Curity keeps a client's `jwks-uri` keys: Curity's documentation states no cache time for
 * client JWKS (checked: curity.io docs on client authentication with jwks-uri). Nothing to
 * compare the rotation lead with.
 */
export const CURITY_JWKS_CACHING: JwksCaching = {
  refreshOnUnknownKid: false,
  source: "not published by Curity (curity.io client authentication docs)",
};
