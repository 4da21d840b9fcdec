/**
 * `federation`: SPIRE-to-SPIRE federation health, live and read-only. Per peer in
 * `federation.trustDomains`, the peer's bundle endpoint fetched as SPIRE 1.15.2 fetches it
 * (`pkg/server/bundle/client/client.go`, SPIFFE Federation §5.2, spiffe/spiffe
 * `standards/SPIFFE_Federation.md`):
 * - `https_spiffe`: TLS whose chain verifies against the peer's bundle (the bootstrap bundle from
 *   config, or the peer stack's `trustBundle` output; SPIRE uses it for the first fetch and the
 *   last fetched bundle after that, `updater.go`), no host name check, the leaf an X509-SVID with
 *   exactly the `endpointSPIFFEID` (go-spiffe `tlsconfig.AuthorizeID`); `https_web`: web PKI
 *   (public roots, or `--ca-file`);
 * - GET the URL (SPIRE's bundle server answers GET `/`, `pkg/server/endpoints/bundle/server.go`),
 *   JSON of at most {@link BUNDLE_MAX_BYTES}, a bundle SPIRE accepts (spiffe-bundle.ts), with
 *   X.509 authorities, that is the peer's (it authenticates the endpoint's own SVID, which SPIRE's
 *   next refresh needs, and shares a root with the peer's bundle as known here), and a sane
 *   `spiffe_refresh_hint` (SPIRE: `pkg/common/bundleutil/refreshhint.go`).
 * This stack's own endpoint (the `bundleEndpoint` output), fetched the same way, must serve this
 * trust domain's current root (the `trustBundle` output): it is what the peers pull. With
 * `--svid-dir`, federated-files.ts checks that the workload holds each peer's current bundle.
 */
import type { X509Certificate } from "node:crypto";
import { X509Certificate as Cert } from "node:crypto";
import { httpRequest, HttpError, parseJson, redact } from "../../components/http/client";
import { parseDuration } from "../../components/config";
import { formatSeconds } from "../../components/federation/rotation";
import {
  type BundleEndpointProfile,
  parsePeerOutput,
  serverSpiffeId,
} from "../../components/spire-federation/rules";
import type { PeerModel } from "../../components/spire-federation/schema";
import { federatedFileResults } from "./federated-files";
import { isRecord } from "./http";
import {
  bundleAuthorities,
  describeBundle,
  pemOf,
  readServedBundle,
  type ServedBundle,
  shareOne,
} from "./spiffe-bundle";
import { chainsTo, judgeSvid, probeTls, uriSans, type SvidFinding } from "./tls-probe";
import type { Check, CheckResult, VerifyContext } from "./types";

/** The largest bundle read, bytes (a bundle of dozens of keys is tens of KiB). */
export const BUNDLE_MAX_BYTES = 512 * 1024;

/** One bundle endpoint, and what is known of its trust domain here. */
export interface Endpoint {
  /** The trust domain it serves. */
  trustDomain: string;
  /** Whether it is this stack's own endpoint. */
  own: boolean;
  /** Its URL. */
  url: string;
  /** Its profile. */
  profile: BundleEndpointProfile;
  /** `https_spiffe`: the server's SPIFFE ID. */
  endpointSpiffeId: string;
  /** The trust domain's X.509 authorities as known here (bootstrap, or `trustBundle`). */
  known?: X509Certificate[];
  /** Where `known` comes from, in words. */
  knownSource?: string;
  /** The refresh hint the stack publishes, a duration such as 5m. */
  refreshHint?: string;
}

type R = Omit<CheckResult, "check" | "party">;
const result = (r: R): CheckResult => ({ check: "federation", party: "federation", ...r });

/** Why the endpoint's TLS is refused, and what to do, per cause. */
function tlsFix(ep: Endpoint, f: SvidFinding): string {
  const key = ep.own ? "federation.bundleEndpoint" : "federation.trustDomains[].";
  switch (f.cause) {
    case "expired":
      return `the server SVID of ${ep.trustDomain} is out of its validity: its SPIRE server cannot rotate it (its upstream authority), or a clock is wrong`;
    case "not an X509-SVID":
      return `something terminates TLS before the SPIRE server: https_spiffe needs TLS passed through to port 8443 (${ep.own ? "the bundle endpoint's ingress" : "the peer's ingress"}), or the endpoint is https_web: set ${ep.own ? `${key}.profile` : `${key}profile`} accordingly`;
    case "wrong SPIFFE ID":
      return ep.own
        ? "the URL reaches another SPIRE server: point the bundle endpoint's host at this stack's ingress"
        : `set ${key}endpointSpiffeId to the peer server's SPIFFE ID, or fix the URL if it reaches another server`;
    default:
      return ep.own
        ? "the trustBundle output is not the root this server chains to: run pulumi up (peers read that output) and check SPIRE's upstream authority"
        : `the peer's bundle as known here (${ep.knownSource}) is stale: SPIRE's first fetch (a new peer, a fresh server) fails with it; refresh ${key}bundle, or the peer stack's outputs file (pulumi stack output --json --show-secrets --stack <peer>)`;
  }
}

/** The identity check of `https_spiffe` (in place of the host name check). */
function spiffeIdentity(expected: string) {
  return (_host: string, peer: { raw: Buffer }): Error | undefined => {
    const ids = uriSans(new Cert(peer.raw));
    return ids.length === 1 && ids[0] === expected
      ? undefined
      : new Error(`the server is ${ids.join(", ") || "no SPIFFE ID"}, not ${expected}`);
  };
}

/** The endpoint's TLS as SPIRE authenticates it; the presented chain, or the verdicts that stop. */
async function authenticate(
  ctx: VerifyContext,
  ep: Endpoint,
  at: string,
): Promise<{ chain: X509Certificate[]; results: CheckResult[] } | CheckResult[]> {
  if (ep.known === undefined || ep.known.length === 0) {
    return [
      result({
        name: `${at} bootstrap`,
        status: "FAIL",
        reason: `https_spiffe needs ${ep.trustDomain}'s bundle to authenticate the endpoint, and none is known here`,
        fix: ep.own
          ? "pass the deployed stack's outputs (trustBundle)"
          : "set federation.trustDomains[].bundle, or fromStack with the peer's outputs file (--stack-outputs)",
      }),
    ];
  }
  const url = new URL(ep.url);
  ctx.progress(`federation: TLS handshake with ${url.host} (https_spiffe)`);
  const probe = await probeTls({
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || 443),
    trustPem: pemOf(ep.known),
    deadlineMs: ctx.deadlineMs,
  });
  if (!probe.ok) {
    return [
      result({
        name: `${at} endpoint`,
        status: "FAIL",
        reason: `${probe.kind === "unreachable" ? "unreachable" : "TLS refused"}: ${probe.message}`,
        fix: ep.own
          ? "the bundle endpoint's ingress (federation.bundleEndpoint.host) must route to spire-server port 8443 with TLS passed through"
          : `check the URL (${ep.url}), its DNS and the peer's ingress; SPIRE keeps the last bundle it fetched until the endpoint answers again`,
      }),
    ];
  }
  const findings = judgeSvid(probe, ep.endpointSpiffeId, ep.knownSource ?? "the bundle");
  const results = findings.map((f) =>
    result({
      name: `${at} ${f.name}`,
      status: f.ok ? "PASS" : "FAIL",
      reason: f.ok ? f.reason : `${f.cause}: ${f.reason}`,
      ...(f.ok ? {} : { fix: tlsFix(ep, f) }),
    }),
  );
  return findings.every((f) => f.ok) ? { chain: probe.chain, results } : results;
}

/** GET the bundle, authenticated as the profile says. */
async function fetchBundle(
  ctx: VerifyContext,
  ep: Endpoint,
): Promise<{ ok: true; json: unknown } | { ok: false; why: string }> {
  ctx.progress(`federation: GET ${ep.url}`);
  const spiffe = ep.profile === "https_spiffe";
  try {
    const res = await httpRequest({
      method: "GET",
      url: ep.url,
      caPem: spiffe ? pemOf(ep.known ?? []) : ctx.caPem,
      ...(spiffe ? { serverIdentity: spiffeIdentity(ep.endpointSpiffeId) } : {}),
      maxBytes: BUNDLE_MAX_BYTES,
      deadlineMs: ctx.deadlineMs,
      attemptTimeoutMs: Math.min(15_000, ctx.deadlineMs),
      secrets: ctx.secrets,
    });
    return { ok: true, json: parseJson(res, "bundle endpoint") };
  } catch (e) {
    const message = redact(e instanceof Error ? e.message : String(e), ctx.secrets);
    const tls =
      e instanceof HttpError && e.kind === "network" && /certificate|CERT_/i.test(message);
    return { ok: false, why: tls ? `the TLS certificate is not trusted (${message})` : message };
  }
}

/** Whether the served bundle is the trust domain's, and its refresh hint. */
function bundleVerdicts(
  ep: Endpoint,
  at: string,
  b: ServedBundle,
  chain: X509Certificate[] | undefined,
): CheckResult[] {
  const results: CheckResult[] = [];
  const td = ep.trustDomain;
  const authenticates = chain === undefined ? undefined : chainsTo(chain, b.x509);
  const shares = ep.known === undefined ? undefined : shareOne(b.x509, ep.known);
  const current =
    ep.own && ep.known !== undefined
      ? ep.known.every((k) => b.x509.some((x) => x.fingerprint256 === k.fingerprint256))
      : undefined;
  const name = `${at} trust domain`;
  if (authenticates === false) {
    results.push(
      result({
        name,
        status: "FAIL",
        reason: `the bundle served does not authenticate the endpoint's own SVID (${ep.endpointSpiffeId}): it is not ${td}'s bundle, or it lacks the root the server chains to; SPIRE authenticates its next refresh with this bundle, which would then fail`,
        fix: ep.own
          ? "check SPIRE's upstream authority (spire-server bundle show) and the bundle endpoint's ingress"
          : `check that ${ep.url} is ${td}'s endpoint (its operators)`,
      }),
    );
  } else if (current === false || shares === false) {
    results.push(
      result({
        name,
        status: "FAIL",
        reason: ep.own
          ? `the bundle served lacks this trust domain's current root (the trustBundle output): peers that pull it will not trust SVIDs under that root`
          : `none of the bundle's X.509 authorities is in ${td}'s bundle as known here (${ep.knownSource}): the endpoint serves another trust domain's bundle, or ${td}'s root changed`,
        fix: ep.own
          ? "run pulumi up (the output follows the root) and check SPIRE's upstream authority"
          : `check that ${ep.url} is ${td}'s endpoint, and refresh the peer's bundle here`,
      }),
    );
  } else if (authenticates === undefined && shares === undefined) {
    results.push(
      result({
        name,
        status: "SKIP",
        reason: `nothing known here tells ${td}'s bundle from another's (https_web, no bundle of ${td} given)`,
        fix: `give ${td}'s bundle (federation.trustDomains[].bundle or fromStack) to compare`,
      }),
    );
  } else {
    const how = [
      authenticates ? "it authenticates the endpoint's own SVID" : "",
      current
        ? "it holds the current root (trustBundle)"
        : shares
          ? `it shares a root with ${ep.knownSource}`
          : "",
    ].filter((s) => s !== "");
    results.push(result({ name, status: "PASS", reason: `${td}'s bundle: ${how.join("; ")}` }));
  }
  results.push(refreshHintVerdict(ep, at, b));
  return results;
}

/** The refresh hint against SPIRE's rules and what the stack publishes. */
function refreshHintVerdict(ep: Endpoint, at: string, b: ServedBundle): CheckResult {
  const name = `${at} refresh hint`;
  if (b.refreshHint === undefined || b.refreshHint <= 0) {
    const life = Math.min(...b.x509.map((c) => Date.parse(c.validTo) - Date.parse(c.validFrom)));
    const every = formatSeconds(Math.max(60, life / 10 / 1000));
    return result({
      name,
      status: "FAIL",
      reason: `no spiffe_refresh_hint: SPIRE then refreshes every tenth of the shortest X.509 authority's lifetime (${every}, pkg/common/bundleutil/refreshhint.go), and misses the JWT key rotations in between`,
      fix: ep.own
        ? "set federation.bundleEndpoint.refreshHint (the chart's federation.bundleEndpoint.refreshHint)"
        : "the peer's SPIRE must set bundle_endpoint refresh_hint (its operators)",
    });
  }
  const published = ep.refreshHint === undefined ? undefined : parseDuration(ep.refreshHint);
  if (published !== undefined && Math.round(published) !== b.refreshHint) {
    return result({
      name,
      status: "FAIL",
      reason: `the endpoint serves ${b.refreshHint} s, ${ep.own ? "the stack configures" : "the peer stack publishes"} ${ep.refreshHint}`,
      fix: ep.own
        ? "run pulumi up (the chart's refreshHint)"
        : "the peer's stack is not deployed as its outputs say: its operators",
    });
  }
  const floor = b.refreshHint < 60 ? " (SPIRE refreshes at most once a minute)" : "";
  return result({ name, status: "PASS", reason: `${b.refreshHint} s${floor}` });
}

/** Fetches one endpoint and judges it; returns the verdicts and the bundle when read. */
export async function endpointResults(
  ctx: VerifyContext,
  ep: Endpoint,
): Promise<{ results: CheckResult[]; bundle?: ServedBundle }> {
  const at = ep.own ? `${ep.trustDomain} (this stack)` : ep.trustDomain;
  let chain: X509Certificate[] | undefined;
  const results: CheckResult[] = [];
  if (ep.profile === "https_spiffe") {
    const auth = await authenticate(ctx, ep, at);
    if (Array.isArray(auth)) return { results: auth };
    chain = auth.chain;
    results.push(...auth.results);
  }
  const got = await fetchBundle(ctx, ep);
  const read = got.ok ? readServedBundle(got.json) : { problem: got.why };
  if ("problem" in read) {
    results.push(
      result({
        name: `${at} bundle`,
        status: "FAIL",
        reason: read.problem,
        fix: got.ok
          ? "SPIRE 1.15.2 refuses this bundle (pkg/common/bundleutil/unmarshal.go): the endpoint must serve a SPIFFE bundle"
          : /not trusted/.test(read.problem)
            ? "https_web needs a publicly trusted certificate (or --ca-file with its CA)"
            : `the URL does not answer with a bundle: check ${ep.url} (SPIRE serves the bundle at / of its bundle endpoint)`,
      }),
    );
    return { results };
  }
  results.push(
    result({ name: `${at} bundle`, status: "PASS", reason: describeBundle(read.bundle) }),
  );
  results.push(...bundleVerdicts(ep, at, read.bundle, chain));
  return { results, bundle: read.bundle };
}

/** A peer's endpoint, from config and (fromStack) the peer's outputs; or the verdict that stops. */
export function peerEndpoint(ctx: VerifyContext, peer: PeerModel): Endpoint | CheckResult {
  const td = peer.trustDomain;
  let published: ReturnType<typeof parsePeerOutput> | undefined;
  if (peer.fromStack !== undefined) {
    try {
      const out = ctx.stackOutputs?.(peer.fromStack) ?? {};
      published = parsePeerOutput(out.bundleEndpoint, out.trustBundle, td);
    } catch (e) {
      published = { problem: (e as Error).message };
    }
    if ("problem" in published) {
      return result({
        name: `${td} peer outputs`,
        status: "FAIL",
        reason: `stack ${peer.fromStack}: ${published.problem}`,
        fix: `give the peer's current outputs: --stack-outputs ${peer.fromStack}=FILE (pulumi stack output --json --show-secrets --stack ${peer.fromStack})`,
      });
    }
  }
  const p = published !== undefined && "endpoint" in published ? published : undefined;
  const bundle = peer.bundle ?? p?.bundle;
  return {
    trustDomain: td,
    own: false,
    url: peer.bundleEndpointUrl ?? p?.endpoint.url ?? "",
    profile: peer.profile ?? p?.endpoint.profile ?? "https_spiffe",
    endpointSpiffeId: peer.endpointSpiffeId ?? p?.endpoint.endpointSpiffeId ?? serverSpiffeId(td),
    known: bundle === undefined ? undefined : bundleAuthorities(bundle),
    knownSource:
      peer.bundle !== undefined
        ? "its bootstrap bundle (federation.trustDomains[].bundle)"
        : `the trustBundle output of ${peer.fromStack}`,
    refreshHint: p?.endpoint.refreshHint,
  };
}

/** This stack's own endpoint, from its outputs (what the peers read). */
function ownEndpoint(ctx: VerifyContext): Endpoint | CheckResult | undefined {
  const configured = ctx.model.federation?.bundleEndpoint;
  if (configured === undefined) return undefined;
  const td = ctx.model.trustDomain;
  const published = parsePeerOutput(ctx.outputs.bundleEndpoint, ctx.outputs.trustBundle, td);
  if ("problem" in published) {
    return result({
      name: `${td} (this stack) outputs`,
      status: "FAIL",
      reason: `the outputs carry no usable bundleEndpoint and trustBundle, which peers with fromStack read${published.problem.startsWith("has no bundleEndpoint") ? "" : ` (the stack ${published.problem})`}`,
      fix: "pass the deployed stack's outputs (pulumi stack output --json --show-secrets); peers with fromStack read the same",
    });
  }
  return {
    trustDomain: td,
    own: true,
    url: published.endpoint.url,
    profile: published.endpoint.profile,
    endpointSpiffeId: published.endpoint.endpointSpiffeId ?? serverSpiffeId(td),
    known: bundleAuthorities(published.bundle),
    knownSource: "the trustBundle output",
    refreshHint: configured.refreshHint,
  };
}

/** The check. */
export const federationCheck: Check = {
  name: "federation",
  applies: (ctx) => ctx.model.federation !== undefined,
  async run(ctx) {
    const results: CheckResult[] = [];
    const own = ownEndpoint(ctx);
    if (own !== undefined && !isEndpoint(own)) results.push(own);
    else if (own !== undefined) results.push(...(await endpointResults(ctx, own)).results);
    for (const peer of ctx.model.federation?.trustDomains ?? []) {
      const ep = peerEndpoint(ctx, peer);
      if (!isEndpoint(ep)) {
        results.push(ep);
        continue;
      }
      const got = await endpointResults(ctx, ep);
      results.push(...got.results);
      if (got.bundle !== undefined) results.push(...federatedFileResults(ctx, ep, got.bundle));
    }
    return results;
  },
};

function isEndpoint(v: Endpoint | CheckResult): v is Endpoint {
  return isRecord(v) && "url" in v;
}
