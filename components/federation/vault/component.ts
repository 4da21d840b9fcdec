/**
 * HashiCorp Vault JWT auth federated with the trust domain's OIDC issuer.
 *
 * What Vault enforces, and how this component meets it:
 * - writing `auth/<path>/config` with `oidc_discovery_url` fetches the discovery document at
 *   write time: the backend waits on a readiness gate that polls it and checks `issuer`;
 * - `bound_issuer` must equal the token's `iss` exactly: both are the issuer URL from config;
 * - `role_type` must be `jwt` (empty means oidc, which needs a browser flow);
 * - a token with `aud` is rejected unless the role has `bound_audiences`;
 * - `bound_claims: { sub: <SPIFFE ID> }` with `bound_claims_type: string` pins the workload.
 */
import { anchorOptions } from "../../anchors";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { oidcReadinessGate } from "./gate";
import { rejectProblems } from "../args";
import { vaultNameProblem, vaultPathProblem } from "./rules";

/** One workload's JWT role. */
export interface VaultRoleArgs {
  /** Role name (the workload name). */
  name: string;
  /** The SPIFFE ID bound as `sub`. */
  spiffeId: string;
  /** The audience the workload requests in its JWT-SVID. */
  audience: string;
  /** Vault policies attached to tokens this role issues; each must be declared in `policies`. */
  policies: string[];
  /** Token TTL in seconds (Vault's default when omitted). */
  tokenTtlSeconds?: number;
}

/** Arguments of {@link VaultFederation}. */
export interface VaultFederationArgs {
  /**
   * Protect this component's anchors (the JWT auth backend) so that the engine refuses to delete or replace
   * them (`anchors.protect`). Default: true.
   */
  protectAnchors?: boolean;
  /** The OIDC issuer URL: discovery URL and bound issuer. */
  issuerUrl: string;
  /** Mount path of the JWT auth backend. */
  path: string;
  /** CA that signs the discovery endpoint's certificate, when not publicly trusted. */
  discoveryCaPem?: string;
  /** Policies to create: name → HCL. */
  policies: Record<string, string>;
  /** One role per workload with Vault grants. */
  roles: VaultRoleArgs[];
  /** What serves the discovery document (the SPIRE release): the gate waits on it. */
  waitFor: pulumi.Input<pulumi.Resource>[];
  /** Readiness gate tuning. */
  gate?: { attempts?: number; intervalSeconds?: number };
}

/** Per-workload outputs. */
export interface VaultLogin {
  /** The role to log in with. */
  role: string;
  /** The login endpoint: `auth/<path>/login`. */
  loginPath: string;
  /** The audience to request in the JWT-SVID. */
  audience: string;
}

/**
 * One workload's JWT role: `role_type: jwt`, `user_claim: sub`, its audience bound, and its
 * SPIFFE ID bound exactly as `sub` (`bound_claims_type: string`). Team stacks write theirs with it
 * on the platform's backend.
 */
export function vaultJwtRole(
  name: string,
  backend: pulumi.Input<string>,
  role: VaultRoleArgs,
  tokenPolicies: pulumi.Input<string>[],
  opts: pulumi.CustomResourceOptions,
): vault.jwt.AuthBackendRole {
  return new vault.jwt.AuthBackendRole(
    name,
    {
      backend,
      roleName: role.name,
      roleType: "jwt",
      userClaim: "sub",
      boundAudiences: [role.audience],
      boundClaimsType: "string",
      boundClaims: { sub: role.spiffeId },
      tokenPolicies,
      tokenTtl: role.tokenTtlSeconds,
    },
    opts,
  );
}

/** What a workload needs to log in with `role` on the backend at `path`. */
export function vaultLogin(path: string, role: VaultRoleArgs): VaultLogin {
  return { role: role.name, loginPath: `auth/${path}/login`, audience: role.audience };
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function vaultArgsProblems(args: VaultFederationArgs): string[] {
  const problems: string[] = [];
  const pathProblem = vaultPathProblem(args.path);
  if (pathProblem) problems.push(`path ${JSON.stringify(args.path)} ${pathProblem}`);
  for (const name of Object.keys(args.policies)) {
    const p = vaultNameProblem(name);
    if (p) problems.push(`policy name ${JSON.stringify(name)} ${p}`);
  }
  for (const role of args.roles) {
    if (role.audience === "") problems.push(`role ${role.name}: audience must not be empty`);
    for (const policy of role.policies) {
      if (!(policy in args.policies)) {
        problems.push(`role ${role.name}: policy ${JSON.stringify(policy)} is not declared`);
      }
    }
  }
  return problems;
}

/** The JWT auth backend, its readiness gate, policies and one role per workload. */
export class VaultFederation extends pulumi.ComponentResource {
  /** The command that waits for the discovery document. */
  readonly gate: pulumi.Resource;
  /** The JWT auth backend. */
  readonly backend: vault.jwt.AuthBackend;
  /** Policies by name. */
  readonly policies: Record<string, vault.Policy>;
  /** Roles by workload name. */
  readonly roles: Record<string, vault.jwt.AuthBackendRole>;
  /** Login details by workload name. */
  readonly logins: Record<string, VaultLogin>;

  constructor(name: string, args: VaultFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("VaultFederation", name, vaultArgsProblems(args));
    super("spire-federation:federation:Vault", name, {}, opts);

    this.gate = oidcReadinessGate(
      `${name}-oidc-ready`,
      {
        issuerUrl: args.issuerUrl,
        caPem: args.discoveryCaPem,
        attempts: args.gate?.attempts,
        intervalSeconds: args.gate?.intervalSeconds,
        waitFor: args.waitFor,
      },
      { parent: this },
    );

    this.backend = new vault.jwt.AuthBackend(
      `${name}-jwt`,
      {
        path: args.path,
        type: "jwt",
        description: `JWT-SVIDs of ${args.issuerUrl}`,
        oidcDiscoveryUrl: args.issuerUrl,
        oidcDiscoveryCaPem: args.discoveryCaPem,
        boundIssuer: args.issuerUrl,
      },
      anchorOptions(this, args.protectAnchors, { dependsOn: [this.gate] }),
    );

    this.policies = {};
    for (const [policyName, hcl] of Object.entries(args.policies)) {
      this.policies[policyName] = new vault.Policy(
        `${name}-policy-${policyName}`,
        { name: policyName, policy: hcl },
        { parent: this },
      );
    }

    // The mount path as an output of the backend: roles are written only once it exists.
    const backendPath = this.backend.path.apply((p) => p ?? args.path);
    this.roles = {};
    this.logins = {};
    for (const role of args.roles) {
      const policies = role.policies.map((p) => this.policies[p].name);
      this.roles[role.name] = vaultJwtRole(
        `${name}-role-${role.name}`,
        backendPath,
        role,
        policies,
        {
          parent: this,
        },
      );
      this.logins[role.name] = vaultLogin(args.path, role);
    }
    this.registerOutputs({ logins: this.logins });
  }
}
