/**
 * `spire-federation:federation` and `workloads[i].federatesWith`: the schemas, the model and the
 * cross-field rules. `config.ts` calls {@link checkFederation} once; every problem is reported
 * with its key path, none stops the others from being found.
 */
import { z } from "zod";
import { acmeSchema, dnsSubdomain, duration, hostName, ruled } from "../config-fields";
import { trustDomainProblem } from "../spiffe-id";
import {
  BUNDLE_ENDPOINT_PROFILES,
  type BundleEndpointProfile,
  bootstrapBundle,
  bundleEndpointUrl,
  bundleEndpointUrlProblem,
  DEFAULT_BUNDLE_ENDPOINT_PORT,
  DEFAULT_PROFILE,
  DEFAULT_REFRESH_HINT,
  endpointSpiffeIdProblem,
  peerResourceName,
  peerTrustDomainProblem,
  refreshHintProblem,
  serverSpiffeId,
  stackNameProblem,
} from "./rules";

/** A key path below `spire-federation:`. */
type KeyPath = readonly PropertyKey[];

const profile = z.enum(["https_spiffe", "https_web"], {
  error: `must be ${BUNDLE_ENDPOINT_PROFILES.join(" or ")}`,
});

/** Schema of `federation.bundleEndpoint`: how this trust domain publishes its bundle. */
export const bundleEndpointSchema = z.strictObject({
  host: hostName,
  ingressClassName: dnsSubdomain.optional(),
  profile: profile.optional(),
  refreshHint: duration.optional(),
  tls: z
    .strictObject({
      acme: acmeSchema.optional(),
      secretName: dnsSubdomain.optional(),
    })
    .refine((t) => (t.acme === undefined) !== (t.secretName === undefined), {
      error: "must set exactly one of acme: { email, server? } or secretName",
    })
    .optional(),
});

/** Schema of `spire-federation:federation` (each peer is parsed on its own, see {@link peerSchema}). */
export const federationSchema = z.strictObject({
  // Parsed on its own (checkFederation), so that a bad endpoint does not hide a bad peer.
  bundleEndpoint: z.unknown().optional(),
  trustDomains: z.array(z.unknown(), { error: "must be a list of peer trust domains" }),
});

/** Schema of one entry of `federation.trustDomains`. */
export const peerSchema = z.strictObject({
  trustDomain: ruled(trustDomainProblem),
  bundleEndpointUrl: ruled(bundleEndpointUrlProblem).optional(),
  profile: profile.optional(),
  endpointSpiffeId: z.string().optional(),
  bundle: z.string().optional(),
  fromStack: ruled(stackNameProblem).optional(),
});

/** Schema of `workloads[i].federatesWith`: the peers whose SVIDs the workload trusts. */
export const federatesWithSchema = z.array(ruled(trustDomainProblem), {
  error: "must be a list of peer trust domains",
});

/** How this trust domain's bundle endpoint gets a publicly trusted certificate (`https_web`). */
export type BundleEndpointTls =
  { kind: "acme"; email: string; server: string } | { kind: "secret"; secretName: string };

/** This trust domain's bundle endpoint, defaults applied. */
export interface BundleEndpointModel {
  /** Public host of the endpoint (an ingress that passes TLS through to the SPIRE server). */
  host: string;
  /** Ingress class. Default: `oidc.ingressClassName`. */
  ingressClassName: string;
  /** Profile. Default: https_spiffe. */
  profile: BundleEndpointProfile;
  /** The SPIRE server's bundle endpoint port behind the ingress. */
  port: number;
  /** How often peers are told to refresh. Default: 5m. */
  refreshHint: string;
  /** `https_web` only: where the server's public certificate comes from. */
  tls?: BundleEndpointTls;
  /** `https://<host>`. */
  url: string;
  /** `https_spiffe` only: the server's SPIFFE ID. */
  endpointSpiffeId?: string;
}

/** A peer trust domain, as the component registers it. */
export interface PeerModel {
  /** The peer's trust domain. */
  trustDomain: string;
  /** Its ClusterFederatedTrustDomain's name. */
  resourceName: string;
  /** Its bundle endpoint URL (from config; else from `fromStack`'s `bundleEndpoint` output). */
  bundleEndpointUrl?: string;
  /** Its endpoint's profile (from config; else from the peer's output). */
  profile?: BundleEndpointProfile;
  /** `https_spiffe`: the peer server's SPIFFE ID (from config, the peer's output or the default). */
  endpointSpiffeId?: string;
  /** The bootstrap bundle as SPIFFE bundle JSON (from config). */
  bundle?: string;
  /** The peer's stack (`org/project/stack`): its `trustBundle` and `bundleEndpoint` outputs. */
  fromStack?: string;
}

/** `federation`, validated, with defaults. */
export interface FederationModel {
  /** This trust domain's bundle endpoint, when it publishes one. */
  bundleEndpoint?: BundleEndpointModel;
  /** The peers. */
  trustDomains: PeerModel[];
}

/** What the federation rules read besides the block. */
export interface FederationContext {
  /** Reports a problem at a key path. */
  report(path: KeyPath, message: string): void;
  /** Parses a value, reporting each issue below the path; undefined when invalid. */
  parse<T>(schema: z.ZodType<T>, value: unknown, path: KeyPath): T | undefined;
  /** This stack's trust domain, when valid. */
  trustDomain?: string;
  /** `spire.caTTL` (default applied) when valid. */
  caTTL?: string;
  /** `oidc.host` and `spire.server.exposure.host`, when set: hosts the endpoint may not share. */
  otherHosts: Record<string, string | undefined>;
  /** `oidc.ingressClassName`, the default ingress class. */
  oidcIngressClassName?: string;
  /** `oidc.ingressControllerType` (default applied): whether the ingress can pass TLS through. */
  ingressControllerType?: string;
  /** The raw `workloads` entries (for `federatesWith`). */
  workloads: readonly unknown[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function checkBundleEndpoint(
  e: z.output<typeof bundleEndpointSchema>,
  ctx: FederationContext,
): BundleEndpointModel | undefined {
  const at = (key: string) => ["federation", "bundleEndpoint", key];
  const p = e.profile ?? DEFAULT_PROFILE;
  let ok = true;
  for (const [key, host] of Object.entries(ctx.otherHosts)) {
    if (host === e.host) {
      ctx.report(
        at("host"),
        `is also ${key}; each endpoint needs its own host (an ingress passes one host's TLS through to one backend)`,
      );
      ok = false;
    }
  }
  if (p === "https_spiffe" && e.tls !== undefined) {
    ctx.report(
      at("tls"),
      "applies to https_web only; with https_spiffe the SPIRE server serves its own SVID",
    );
    ok = false;
  }
  if (p === "https_web" && e.tls === undefined) {
    ctx.report(
      at("tls"),
      "required with https_web: peers check the endpoint's certificate against public roots; set acme: { email } or secretName (a TLS Secret in spire-server)",
    );
    ok = false;
  }
  if (ctx.ingressControllerType === "other") {
    ctx.report(
      at("host"),
      `needs an ingress that passes TLS through to the SPIRE server (the chart annotates ingress-nginx and openshift ingresses only); oidc.ingressControllerType is other: use ingress-nginx or openshift`,
    );
    ok = false;
  }
  const refreshHint = e.refreshHint ?? DEFAULT_REFRESH_HINT;
  if (ctx.caTTL !== undefined) {
    const problem = refreshHintProblem(refreshHint, ctx.caTTL);
    if (problem !== undefined) {
      ctx.report(at("refreshHint"), problem);
      ok = false;
    }
  }
  const ingressClassName = e.ingressClassName ?? ctx.oidcIngressClassName;
  if (!ok || ingressClassName === undefined || ctx.trustDomain === undefined) return undefined;
  const tls: BundleEndpointTls | undefined =
    e.tls?.acme !== undefined
      ? {
          kind: "acme",
          email: e.tls.acme.email,
          server: e.tls.acme.server ?? "https://acme-v02.api.letsencrypt.org/directory",
        }
      : e.tls?.secretName !== undefined
        ? { kind: "secret", secretName: e.tls.secretName }
        : undefined;
  return {
    host: e.host,
    ingressClassName,
    profile: p,
    port: DEFAULT_BUNDLE_ENDPOINT_PORT,
    refreshHint,
    ...(tls === undefined ? {} : { tls }),
    url: bundleEndpointUrl(e.host),
    ...(p === "https_spiffe" ? { endpointSpiffeId: serverSpiffeId(ctx.trustDomain) } : {}),
  };
}

function checkPeer(
  raw: unknown,
  i: number,
  ctx: FederationContext,
  seen: { trustDomains: Map<string, number>; stacks: Map<string, number> },
): PeerModel | undefined {
  const path = ["federation", "trustDomains", i];
  const at = (key: string) => [...path, key];
  const peer = ctx.parse(peerSchema, raw, path);
  if (peer === undefined) return undefined;
  let ok = true;
  const bad = (key: string, message: string) => {
    ctx.report(at(key), message);
    ok = false;
  };
  const td = peer.trustDomain;
  const tdProblem = peerTrustDomainProblem(td, ctx.trustDomain);
  if (tdProblem !== undefined) bad("trustDomain", tdProblem);
  const first = seen.trustDomains.get(td);
  if (first !== undefined) {
    bad("trustDomain", `duplicates federation.trustDomains[${first}].trustDomain "${td}"`);
  } else seen.trustDomains.set(td, i);
  if (peer.fromStack !== undefined) {
    const firstStack = seen.stacks.get(peer.fromStack);
    if (firstStack !== undefined) {
      bad(
        "fromStack",
        `duplicates federation.trustDomains[${firstStack}].fromStack; a stack publishes one trust domain`,
      );
    } else seen.stacks.set(peer.fromStack, i);
    if (peer.bundle !== undefined) {
      bad("bundle", "set either bundle or fromStack, not both (fromStack reads the bundle)");
    }
  } else if (peer.bundleEndpointUrl === undefined) {
    bad("bundleEndpointUrl", "required without fromStack (the peer's stack would publish it)");
  }
  const p = peer.profile ?? (peer.fromStack === undefined ? DEFAULT_PROFILE : undefined);
  if (p === "https_web" && peer.endpointSpiffeId !== undefined) {
    bad(
      "endpointSpiffeId",
      "applies to https_spiffe only (the controller manager refuses it for https_web)",
    );
  }
  if (peer.endpointSpiffeId !== undefined && p !== "https_web") {
    const problem = endpointSpiffeIdProblem(peer.endpointSpiffeId, td);
    if (problem !== undefined) bad("endpointSpiffeId", problem);
  }
  if (p === "https_spiffe" && peer.bundle === undefined && peer.fromStack === undefined) {
    bad(
      "bundle",
      "required with https_spiffe (or fromStack): SPIRE authenticates the peer's endpoint with the peer's bundle, so without a bootstrap bundle the first fetch fails; set the peer's SPIFFE bundle JSON or its CA certificates as PEM",
    );
  }
  let bundle: string | undefined;
  if (peer.bundle !== undefined) {
    const b = bootstrapBundle(peer.bundle);
    if ("problem" in b) bad("bundle", b.problem);
    else bundle = b.bundle;
  }
  if (!ok) return undefined;
  return {
    trustDomain: td,
    resourceName: peerResourceName(td),
    ...(peer.bundleEndpointUrl === undefined ? {} : { bundleEndpointUrl: peer.bundleEndpointUrl }),
    ...(p === undefined ? {} : { profile: p }),
    ...(p === "https_spiffe"
      ? { endpointSpiffeId: peer.endpointSpiffeId ?? serverSpiffeId(td) }
      : peer.endpointSpiffeId === undefined
        ? {}
        : { endpointSpiffeId: peer.endpointSpiffeId }),
    ...(bundle === undefined ? {} : { bundle }),
    ...(peer.fromStack === undefined ? {} : { fromStack: peer.fromStack }),
  };
}

/**
 * Reports every problem of `federation` (its parsed shape, or undefined when unset or invalid)
 * and of each workload's `federatesWith`; returns the model when all is valid.
 * @param block the block as `federationSchema` parsed it; `undefined` when unset or invalid
 * @param set whether the stack config sets the block at all
 */
export function checkFederation(
  block: z.output<typeof federationSchema> | undefined,
  set: boolean,
  ctx: FederationContext,
): FederationModel | undefined {
  const peers = new Set<string>();
  let model: FederationModel | undefined;
  if (block !== undefined) {
    const endpoint =
      block.bundleEndpoint === undefined
        ? undefined
        : ctx.parse(bundleEndpointSchema, block.bundleEndpoint, ["federation", "bundleEndpoint"]);
    const bundleEndpoint = endpoint === undefined ? undefined : checkBundleEndpoint(endpoint, ctx);
    const seen = { trustDomains: new Map<string, number>(), stacks: new Map<string, number>() };
    const trustDomains: PeerModel[] = [];
    let ok = block.bundleEndpoint === undefined || bundleEndpoint !== undefined;
    block.trustDomains.forEach((raw, i) => {
      if (isRecord(raw) && typeof raw.trustDomain === "string") peers.add(raw.trustDomain);
      const peer = checkPeer(raw, i, ctx, seen);
      if (peer === undefined) ok = false;
      else trustDomains.push(peer);
    });
    if (ok) model = { ...(bundleEndpoint === undefined ? {} : { bundleEndpoint }), trustDomains };
  }
  ctx.workloads.forEach((w, i) => {
    if (!isRecord(w) || w.federatesWith === undefined) return;
    const list = federatesWithSchema.safeParse(w.federatesWith);
    if (!list.success) return; // reported with the workload's shape
    if (!set) {
      ctx.report(["workloads", i, "federatesWith"], "needs the spire-federation:federation block");
      return;
    }
    if (w.node !== undefined) {
      ctx.report(
        ["workloads", i, "federatesWith"],
        "applies to pod workloads only (a node workload's ClusterStaticEntry is not federated yet)",
      );
      return;
    }
    const listed = new Set<string>();
    list.data.forEach((td, j) => {
      if (listed.has(td)) {
        ctx.report(["workloads", i, "federatesWith", j], `lists ${td} twice`);
      } else if (block !== undefined && !peers.has(td)) {
        ctx.report(
          ["workloads", i, "federatesWith", j],
          `names no peer: add ${td} to federation.trustDomains, or remove it here`,
        );
      }
      listed.add(td);
    });
  });
  return model;
}
