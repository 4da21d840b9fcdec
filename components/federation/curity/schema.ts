/**
 * `spire-federation:curity` and `workloads[i].curity`: the schemas and Curity's cross-field
 * rules.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { acmeStagingHost, holdsStagingRoot, ruled } from "../../config-fields";
import { adminConnectionFields, type AdminLogin } from "../admin-connection";
import type { CheckContext } from "../contract";
import {
  CURITY_ADMIN_API,
  CURITY_SIGNATURE_ALGORITHMS,
  curityIdProblem,
  curityPrefixProblem,
  DEFAULT_CURITY_ID_PREFIX,
  mtlsProblem,
  scopeProblem,
  tokenEndpointProblem,
  tokenUrlProblem,
  trustStorePemProblems,
  usesJwt,
  type CurityAuth,
} from "./rules";

/** Schema of `spire-federation:curity`. */
export const curityBlockSchema = z.strictObject({
  ...adminConnectionFields(CURITY_ADMIN_API),
  profile: ruled(curityIdProblem),
  tokenEndpoint: ruled(tokenEndpointProblem),
  tokenUrl: ruled(tokenUrlProblem).optional(),
  mtlsTokenEndpoint: ruled(tokenEndpointProblem).optional(),
  mtls: ruled(mtlsProblem).optional(),
  discoveryCaPem: z
    .string()
    .superRefine((pem, ctx) => {
      for (const p of trustStorePemProblems(pem)) ctx.addIssue({ code: "custom", message: p });
    })
    .optional(),
  signatureAlgorithms: z
    .array(
      z.enum(CURITY_SIGNATURE_ALGORITHMS, {
        error: `must be one of ${CURITY_SIGNATURE_ALGORITHMS.join(", ")}`,
      }),
    )
    .min(1, { error: "must name at least one algorithm" })
    .optional(),
  idPrefix: ruled(curityPrefixProblem).optional(),
});

/** Schema of `workloads[i].curity`. */
export const curityGrantSchema = z.strictObject({
  scopes: z.array(ruled(scopeProblem)).min(1, { error: "must name at least one scope" }),
  auth: z.enum(["jwt", "x509", "both"], { error: 'must be "jwt", "x509" or "both"' }).optional(),
});

/** The parsed `spire-federation:curity` block. */
export type CurityBlockInput = z.output<typeof curityBlockSchema>;
/** A parsed `workloads[i].curity` grant. */
export type CurityGrantInput = z.output<typeof curityGrantSchema>;

/** Curity federation settings, with defaults applied. */
export interface CurityBlock extends AdminLogin {
  /** Admin service origin, e.g. `https://curity-admin.example.com:6749`. */
  adminUrl: string;
  /** Token profile id (an `oauth-service` profile). */
  profile: string;
  /** The token endpoint as Curity publishes it (base URL + path): the audience of JWT-SVIDs. */
  tokenEndpoint: string;
  /** The URL workloads post JWT-SVIDs to (e.g. http inside a mesh). Default: `tokenEndpoint`. */
  tokenUrl: string;
  /** The URL workloads call with their X509-SVID (direct mutual TLS). Default: `tokenEndpoint`. */
  mtlsTokenEndpoint: string;
  /** CA bundle of the admin service's certificate, when not publicly trusted. */
  adminCaPem?: string;
  /** CA of the discovery endpoint's certificate, when not publicly trusted (server trust store). */
  discoveryCaPem?: string;
  /** The algorithms the token profile allows for client assertions, when declared. */
  signatureAlgorithms?: string[];
  /** Prefix of the ids of Curity entities. Default: `spiffe-`. */
  idPrefix: string;
}

/** One workload's Curity grant, with defaults applied. */
export interface CurityGrant {
  /** Scopes of its client (sorted). */
  scopes: string[];
  /** How it authenticates. Default: `jwt`. */
  auth: CurityAuth;
}

/** Curity's cross-field rules (the password's secrecy is checked by the core, per value). */
export function checkCurity(ctx: CheckContext<CurityBlockInput, CurityGrantInput>): void {
  const b = ctx.block;
  for (const { index, grant } of ctx.grants) {
    const seen = new Set<string>();
    grant.scopes.forEach((s, j) => {
      if (seen.has(s)) ctx.report(["workloads", index, "curity", "scopes", j], `repeats "${s}"`);
      seen.add(s);
    });
  }
  if (b === undefined) return;
  const jwt = ctx.grants.filter((g) => usesJwt(g.grant.auth ?? "jwt"));
  if (jwt.length === 0) return;
  const first = `workloads[${jwt[0].index}]`;
  const tls = ctx.core.oidcTls;
  const stagingHost = tls?.kind === "acme" ? acmeStagingHost(tls.server) : undefined;
  if (tls?.kind === "spire" && b.discoveryCaPem === undefined) {
    ctx.report(
      ["oidc", "tls"],
      `Curity fetches SPIRE's JWKS itself for JWT grants (${first}) and cannot trust SPIRE's own in-cluster certificate: use acme or secretName (with curity.discoveryCaPem for a private CA), or give these workloads curity.auth x509`,
    );
  } else if (stagingHost !== undefined && !holdsStagingRoot(b.discoveryCaPem ?? "")) {
    ctx.report(
      ["oidc", "tls", "acme", "server"],
      `is the staging ACME server ${stagingHost}, whose certificates no client trusts; Curity fetches SPIRE's JWKS itself for JWT grants (${first}): set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or curity.discoveryCaPem to the staging root (a CA whose subject says STAGING or TEST)`,
    );
  }
}

/** The block with defaults. */
export function curityModel(b: CurityBlockInput): CurityBlock {
  return {
    adminUrl: b.adminUrl.replace(/\/+$/, ""),
    username: b.username,
    password: pulumi.secret(b.password),
    profile: b.profile,
    tokenEndpoint: b.tokenEndpoint,
    tokenUrl: b.tokenUrl ?? b.tokenEndpoint,
    mtlsTokenEndpoint: b.mtlsTokenEndpoint ?? b.tokenEndpoint,
    adminCaPem: b.adminCaPem,
    discoveryCaPem: b.discoveryCaPem,
    signatureAlgorithms: b.signatureAlgorithms,
    idPrefix: b.idPrefix ?? DEFAULT_CURITY_ID_PREFIX,
  };
}

/** A grant with defaults. */
export function curityGrant(g: CurityGrantInput): CurityGrant {
  return { scopes: [...g.scopes].sort(), auth: g.auth ?? "jwt" };
}
