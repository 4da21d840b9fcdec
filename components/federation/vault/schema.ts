/**
 * `spire-federation:vault` and `workloads[i].vault`: the schemas and Vault's cross-field rules.
 */
import { z } from "zod";
import {
  acmeStagingHost,
  audience,
  duration,
  holdsStagingRoot,
  pemCertificate,
  ruled,
} from "../../config-fields";
import { parseDuration } from "../../duration";
import type { CheckContext } from "../contract";
import {
  DEFAULT_VAULT_AUDIENCE,
  DEFAULT_VAULT_PATH,
  vaultPathProblem,
  vaultPolicyNameProblem,
  vaultTokenTtlProblem,
} from "./rules";

/** Schema of `spire-federation:vault`. */
export const vaultBlockSchema = z.strictObject({
  path: ruled(vaultPathProblem).optional(),
  discoveryCaPem: pemCertificate.optional(),
  policies: z
    .record(ruled(vaultPolicyNameProblem), z.string().min(1, { error: "must be a policy in HCL" }))
    .superRefine((policies, ctx) => {
      // Vault lowercases policy names: two that differ only in case are one policy.
      const seen = new Map<string, string>();
      for (const name of Object.keys(policies)) {
        const first = seen.get(name.toLowerCase());
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `equals policy "${first}" but for case; Vault stores policy names in lowercase: rename one`,
          });
        } else {
          seen.set(name.toLowerCase(), name);
        }
      }
    }),
});

/** Schema of `workloads[i].vault`. */
export const vaultGrantSchema = z.strictObject({
  policies: z.array(z.string()).min(1, { error: "must name at least one policy" }),
  audience: audience.optional(),
  tokenTtl: duration
    .superRefine((d, ctx) => {
      const seconds = parseDuration(d);
      const problem = seconds === undefined ? undefined : vaultTokenTtlProblem(seconds);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
});

/** The parsed `spire-federation:vault` block. */
export type VaultBlockInput = z.output<typeof vaultBlockSchema>;
/** A parsed `workloads[i].vault` grant. */
export type VaultGrantInput = z.output<typeof vaultGrantSchema>;

/** Vault JWT auth settings, with defaults applied. */
export interface VaultBlock {
  /** Mount path of the JWT auth backend. Default: `spire-jwt`. */
  path: string;
  /** CA of the discovery endpoint's certificate, when it is not publicly trusted. */
  discoveryCaPem?: string;
  /** Policies to create: name → HCL. */
  policies: Record<string, string>;
  /** `vault:address`, when set: workloads get it as `VAULT_ADDR`. */
  address?: string;
}

/** One workload's Vault grant, with defaults applied. */
export interface VaultGrant {
  /** Policies attached to the workload's tokens. */
  policies: string[];
  /** The audience its JWT-SVID carries. Default: `vault`. */
  audience: string;
  /** Token TTL in seconds (Vault's default when undefined). */
  tokenTtlSeconds?: number;
}

/** Vault's cross-field rules. */
export function checkVault(ctx: CheckContext<VaultBlockInput, VaultGrantInput>): void {
  const tls = ctx.core.oidcTls;
  const stagingHost = tls?.kind === "acme" ? acmeStagingHost(tls.server) : undefined;
  if (
    ctx.block !== undefined &&
    stagingHost !== undefined &&
    !holdsStagingRoot(ctx.block.discoveryCaPem ?? "")
  ) {
    ctx.report(
      ["oidc", "tls", "acme", "server"],
      `is the staging ACME server ${stagingHost}, whose certificates no client trusts; Vault and its readiness gate fetch the discovery document: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or vault.discoveryCaPem to the staging root (a CA whose subject says STAGING or TEST, e.g. Let's Encrypt's "(STAGING) Pretend Pear X1")`,
    );
  }
  for (const { index, grant } of ctx.grants) {
    grant.policies.forEach((policy, j) => {
      if (ctx.block !== undefined && !(policy in ctx.block.policies)) {
        ctx.report(
          ["workloads", index, "vault", "policies", j],
          `policy "${policy}" is not declared in spire-federation:vault.policies`,
        );
      }
    });
  }
}

/** The provider config key whose value workloads get as `VAULT_ADDR`. */
export const VAULT_ADDRESS_KEY = "vault:address";

/** The block with defaults. */
export function vaultModel(
  b: VaultBlockInput,
  ctx: { providerConfig: Readonly<Record<string, string | undefined>> } = { providerConfig: {} },
): VaultBlock {
  return {
    path: b.path ?? DEFAULT_VAULT_PATH,
    discoveryCaPem: b.discoveryCaPem,
    policies: b.policies,
    address: ctx.providerConfig[VAULT_ADDRESS_KEY],
  };
}

/** A grant with defaults. */
export function vaultGrant(g: VaultGrantInput): VaultGrant {
  return {
    policies: g.policies,
    audience: g.audience ?? DEFAULT_VAULT_AUDIENCE,
    tokenTtlSeconds: g.tokenTtl === undefined ? undefined : parseDuration(g.tokenTtl),
  };
}
