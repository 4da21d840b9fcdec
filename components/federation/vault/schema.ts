/**
 * `spire-federation:vault` and `workloads[i].vault`: the schemas and Vault's cross-field rules.
 */
import { z } from "zod";
import { duration, pemCertificate, ruled } from "../../config-fields";
import { parseDuration } from "../../duration";
import type { CheckContext } from "../contract";
import {
  DEFAULT_VAULT_AUDIENCE,
  DEFAULT_VAULT_PATH,
  vaultNameProblem,
  vaultPathProblem,
} from "./rules";

/** Schema of `spire-federation:vault`. */
export const vaultBlockSchema = z.strictObject({
  path: ruled(vaultPathProblem).optional(),
  discoveryCaPem: pemCertificate.optional(),
  policies: z.record(
    ruled(vaultNameProblem),
    z.string().min(1, { error: "must be a policy in HCL" }),
  ),
});

/** Schema of `workloads[i].vault`. */
export const vaultGrantSchema = z.strictObject({
  policies: z.array(z.string()).min(1, { error: "must name at least one policy" }),
  audience: z.string().min(1, { error: "must not be empty" }).optional(),
  tokenTtl: duration.optional(),
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

/** The block with defaults. */
export function vaultModel(b: VaultBlockInput): VaultBlock {
  return {
    path: b.path ?? DEFAULT_VAULT_PATH,
    discoveryCaPem: b.discoveryCaPem,
    policies: b.policies,
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
