/**
 * SPIRE-to-SPIRE federation: the pure rules shared by the config (which reports them against
 * their key paths), the component (which refuses them before registering anything) and the policy
 * rules. Each rule is written once, here.
 *
 * Sources:
 * - the spire chart 0.30.0 (`charts/spire-server/values.yaml`, `templates/configmap.yaml`):
 *   `federation.bundleEndpoint.port` 8443, `refreshHint` 5m, "CA TTL must be 3-5x the duration
 *   of this value to ensure public keys are loaded on federated servers prior to private key
 *   rotation on remote server"; `tls.spire.enabled` serves `https_spiffe`, cert-manager or an
 *   external secret serve `https_web`;
 * - spire-controller-manager `api/v1alpha1/clusterfederatedtrustdomain_webhook.go`
 *   (`ParseClusterFederatedTrustDomainSpec`): `endpointSPIFFEID` is required for `https_spiffe`
 *   and refused for `https_web`; `trustDomainBundle` is read with go-spiffe's `spiffebundle.Read`
 *   (SPIFFE bundle JSON, not PEM);
 * - the SPIFFE Trust Domain and Bundle specification §4: a bundle is a JWK Set whose
 *   `x509-svid` keys carry exactly one certificate in `x5c`, and whose `jwt-svid` keys carry `kid`.
 */
import { X509Certificate } from "node:crypto";
import { parseDuration } from "../duration";
import { parseSpiffeId, SpiffeIdError, trustDomainProblem } from "../spiffe-id";

/** The bundle endpoint profiles SPIRE knows. */
export type BundleEndpointProfile = "https_spiffe" | "https_web";

/** The bundle endpoint profiles, in the order messages list them. */
export const BUNDLE_ENDPOINT_PROFILES: readonly BundleEndpointProfile[] = [
  "https_spiffe",
  "https_web",
];

/** The SPIRE server's bundle endpoint port (the chart's `federation.bundleEndpoint.port`). */
export const DEFAULT_BUNDLE_ENDPOINT_PORT = 8443;
/** How often peers are told to refresh our bundle (the chart's default). */
export const DEFAULT_REFRESH_HINT = "5m";
/** The profile of our bundle endpoint and of a peer's when unset. */
export const DEFAULT_PROFILE: BundleEndpointProfile = "https_spiffe";
/** The chart: "CA TTL must be 3-5x the duration of this value". */
export const MIN_CA_TTL_PER_REFRESH_HINT = 3;
/** The chart's own words on the refresh hint (quoted in messages). */
export const REFRESH_HINT_RULE =
  "the chart: CA TTL must be 3-5x the refresh hint, so that peers load new public keys before the CA rotates";

/** The SPIFFE ID a SPIRE server serves its bundle endpoint with (`https_spiffe`). */
export function serverSpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}/spire/server`;
}

/** `https://<host>`: where peers fetch this trust domain's bundle (through the ingress, port 443). */
export function bundleEndpointUrl(host: string): string {
  return `https://${host}`;
}

/** Name of a peer's ClusterFederatedTrustDomain (cluster-scoped; a trust domain is a DNS-ish name). */
export function peerResourceName(trustDomain: string): string {
  return trustDomain.replace(/_/g, "-");
}

/** Why `td` cannot be a peer of `own`, or undefined. */
export function peerTrustDomainProblem(td: string, own: string | undefined): string | undefined {
  const p = trustDomainProblem(td);
  if (p !== undefined) return p;
  if (td === own) {
    return "is this stack's own trust domain; a trust domain does not federate with itself";
  }
  return undefined;
}

/**
 * Why a peer's bundle endpoint URL is refused, or undefined: the controller manager accepts only
 * an https URL with a host and no user info (spireapi.ValidateBundleEndpointURL).
 */
export function bundleEndpointUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "must be an https:// URL";
  }
  if (u.protocol !== "https:") return "must be an https:// URL";
  if (u.username !== "" || u.password !== "") return "must not contain user info";
  if (u.hostname === "") return "must name a host";
  return undefined;
}

/**
 * Why an endpoint SPIFFE ID does not fit a peer, or undefined: it must parse and lie in the
 * peer's trust domain (the peer's server serves its own trust domain's SVID).
 */
export function endpointSpiffeIdProblem(id: string, peer: string): string | undefined {
  try {
    const parsed = parseSpiffeId(id);
    if (parsed.trustDomain !== peer) {
      return `must lie in the peer's trust domain ${peer} (it is in ${parsed.trustDomain}): the peer's server authenticates with an SVID of its own trust domain, default ${serverSpiffeId(peer)}`;
    }
    return undefined;
  } catch (e) {
    if (e instanceof SpiffeIdError) return `must be a SPIFFE ID: ${e.message}`;
    throw e;
  }
}

/** A fully qualified stack name, `org/project/stack`, as a StackReference takes it. */
const STACK_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Why a `fromStack` value is not a stack name, or undefined. */
export function stackNameProblem(name: string): string | undefined {
  return STACK_NAME.test(name)
    ? undefined
    : "must be a fully qualified stack name org/project/stack";
}

/** Why the refresh hint does not fit the CA TTL, or undefined (both as durations). */
export function refreshHintProblem(refreshHint: string, caTTL: string): string | undefined {
  const hint = parseDuration(refreshHint);
  const ttl = parseDuration(caTTL);
  if (hint === undefined || ttl === undefined || hint <= 0) return undefined;
  if (ttl < MIN_CA_TTL_PER_REFRESH_HINT * hint) {
    return `must be at most a third of spire.caTTL (${caTTL}); ${REFRESH_HINT_RULE}: lower the hint or raise caTTL`;
  }
  return undefined;
}

/** One key of a SPIFFE bundle (a JWK with `use`). */
export interface SpiffeBundleKey {
  /** `x509-svid` or `jwt-svid`. */
  use: string;
  /** The key's other JWK members. */
  [member: string]: unknown;
}

/** A SPIFFE bundle (a JWK Set with SPIFFE's members). */
export interface SpiffeBundle {
  /** The keys. */
  keys: SpiffeBundleKey[];
  /** Seconds a peer should wait before fetching again. */
  spiffe_refresh_hint?: number;
  /** A sequence number that grows with each change. */
  spiffe_sequence?: number;
}

/** One certificate as an `x509-svid` key: its public key as a JWK plus the certificate in `x5c`. */
function x509Key(cert: X509Certificate): SpiffeBundleKey {
  const jwk = cert.publicKey.export({ format: "jwk" }) as Record<string, unknown>;
  return { ...jwk, use: "x509-svid", x5c: [cert.raw.toString("base64")] };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * A PEM bundle of CA certificates as a SPIFFE bundle (JSON text), or a one-line reason. go-spiffe
 * reads `trustDomainBundle` as SPIFFE bundle JSON only, so PEM is converted here.
 */
export function pemToSpiffeBundle(pem: string): { bundle: string } | { problem: string } {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return { problem: "holds no PEM certificate" };
  const keys: SpiffeBundleKey[] = [];
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      return { problem: `certificate ${i + 1} does not parse` };
    }
    if (!cert.ca) {
      return { problem: `certificate ${i + 1} is not a CA certificate (basicConstraints CA:TRUE)` };
    }
    keys.push(x509Key(cert));
  }
  return { bundle: JSON.stringify({ keys }) };
}

/** Why a SPIFFE bundle JSON is refused (spec §4), or undefined. */
function spiffeBundleProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "must be a JSON object with keys";
  }
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return "must have a keys list (a JWK Set)";
  let x509 = 0;
  for (const [i, key] of keys.entries()) {
    const k = (typeof key === "object" && key !== null ? key : {}) as Record<string, unknown>;
    if (k.use === "x509-svid") {
      const x5c = k.x5c;
      if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== "string") {
        return `keys[${i}]: an x509-svid key must carry exactly one certificate in x5c`;
      }
      try {
        new X509Certificate(Buffer.from(x5c[0], "base64"));
      } catch {
        return `keys[${i}]: its x5c certificate does not parse`;
      }
      x509++;
    } else if (k.use === "jwt-svid") {
      if (typeof k.kid !== "string" || k.kid === "") {
        return `keys[${i}]: a jwt-svid key must have a kid`;
      }
    } else {
      return `keys[${i}]: use must be x509-svid or jwt-svid`;
    }
  }
  if (x509 === 0) {
    return "has no x509-svid key: SPIRE could not authenticate the peer's endpoint or its SVIDs";
  }
  return undefined;
}

/**
 * A bootstrap bundle as given in config (SPIFFE bundle JSON or PEM), as the SPIFFE bundle JSON
 * the controller manager reads, or a one-line reason.
 */
export function bootstrapBundle(text: string): { bundle: string } | { problem: string } {
  const t = text.trim();
  if (t.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      return {
        problem: "must be SPIFFE bundle JSON or PEM certificates (the JSON does not parse)",
      };
    }
    const problem = spiffeBundleProblem(value);
    return problem === undefined ? { bundle: t } : { problem };
  }
  if (t.includes("-----BEGIN")) return pemToSpiffeBundle(t);
  return { problem: "must be SPIFFE bundle JSON or PEM certificates" };
}

/** The `bundleEndpoint` output a stack publishes for its peers (its `fromStack` readers). */
export interface BundleEndpointOutput {
  /** The trust domain the endpoint serves. */
  trustDomain: string;
  /** `https://<host>`. */
  url: string;
  /** The endpoint's profile. */
  profile: BundleEndpointProfile;
  /** The server's SPIFFE ID (`https_spiffe` only). */
  endpointSpiffeId?: string;
  /** How often peers are told to refresh (a duration such as 5m). */
  refreshHint: string;
}

/**
 * A peer stack's `bundleEndpoint` and `trustBundle` outputs checked against the trust domain this
 * stack names: the endpoint and the bundle (SPIFFE bundle JSON), or a one-line reason.
 */
export function parsePeerOutput(
  endpoint: unknown,
  trustBundle: unknown,
  trustDomain: string,
): { endpoint: BundleEndpointOutput; bundle: string } | { problem: string } {
  if (typeof endpoint !== "object" || endpoint === null) {
    return {
      problem:
        "has no bundleEndpoint output: set federation.bundleEndpoint in that stack, or bundleEndpointUrl and profile here",
    };
  }
  const v = endpoint as Partial<BundleEndpointOutput>;
  if (v.trustDomain !== trustDomain) {
    return {
      problem: `publishes trust domain ${String(v.trustDomain)}, not ${trustDomain}: name the peer's stack or its trust domain correctly`,
    };
  }
  if (typeof v.url !== "string" || bundleEndpointUrlProblem(v.url) !== undefined) {
    return { problem: "publishes a bundleEndpoint without an https url" };
  }
  if (!BUNDLE_ENDPOINT_PROFILES.includes(v.profile as BundleEndpointProfile)) {
    return { problem: `publishes an unknown bundle endpoint profile ${String(v.profile)}` };
  }
  if (typeof trustBundle !== "string") {
    return { problem: "has no trustBundle output (the peer's SPIFFE bundle)" };
  }
  const b = bootstrapBundle(trustBundle);
  if ("problem" in b) return { problem: `publishes a trustBundle that is refused: ${b.problem}` };
  return { endpoint: v as BundleEndpointOutput, bundle: b.bundle };
}
