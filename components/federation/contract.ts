/**
 * The contract every relying party implements. A relying party is one folder under
 * `components/federation/<key>/` whose `index.ts` exports one {@link RelyingParty} made with
 * {@link defineRelyingParty}; `registry.ts` lists them in deployment order. The config parser,
 * the stack and the policy pack iterate that list and never name a relying party.
 *
 * Data flows one way: raw config → `parse` (block, grants) → `check` (cross-field rules) →
 * model → `build` (the component) → logins (per-workload outputs) → `workloadFiles` (what
 * each workload's pods need on disk and in their environment to use the logins).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { CaKeyType, CoreModel, CoreWorkload, OidcTls } from "../model";
import type { Policy } from "../policy-types";
import type { AnchoredValues } from "../anchor-guard";
import type { WorkloadPaths } from "./paths";
import type { JwksCaching } from "./rotation";

/**
 * A CrossGuard rule (resource or stack): `@pulumi/policy`'s types where `spire-federation/policies`
 * is loaded, a named rule elsewhere (see `policy-types.ts`).
 */
export type { Policy } from "../policy-types";

/** A key path below the `spire-federation:` namespace, e.g. `["workloads", 2, "vault"]`. */
export type KeyPath = readonly PropertyKey[];

/** One workload that carries this relying party's grant, as the checks see it. */
export interface GrantEntry<G> {
  /** Index in `workloads`, for key paths. */
  index: number;
  /** The workload's core (its SPIFFE ID is already validated). */
  workload: CoreWorkload;
  /** The parsed grant (`workloads[index].<key>`). */
  grant: G;
}

/** What the core knows when a relying party's cross-field rules run. */
export interface CheckContext<B, G> {
  /** The raw stack config (keys without namespace), for rules that read another block. */
  raw: Readonly<Record<string, unknown>>;
  /** The parsed block, or undefined when the key is unset or invalid. */
  block: B | undefined;
  /** The parsed core fields that are valid (each undefined when not). */
  core: {
    trustDomain?: string;
    caMode?: "generated" | "clusterIssuer";
    caKeyType: CaKeyType;
    oidcTls?: OidcTls;
  };
  /** The workloads that carry a valid grant of this relying party. */
  grants: GrantEntry<G>[];
  /** Config values of other namespaces the block depends on (e.g. `azure-native:subscriptionId`). */
  providerConfig: Readonly<Record<string, string | undefined>>;
  /** Reports a problem at a key path below `spire-federation:`. */
  report(path: KeyPath, message: string): void;
  /** Reports a problem with a key of another namespace (`<namespace>:<key>: <message>`). */
  reportOther(fullKey: string, message: string): void;
}

/**
 * Why this relying party needs a publicly trusted discovery endpoint (it fetches the discovery
 * document or the JWKS itself), and the key the user changes to avoid the need.
 */
export interface PublicIssuerNeed {
  /** Who fetches, as the sentence's subject: "Entra ID fetches the discovery document itself". */
  reason: string;
  /** Key path the problem is reported at. */
  path: KeyPath;
  /** The way out besides a trusted certificate, e.g. "or set gcp.oidc to false". */
  alternative?: string;
}

/** The JWT algorithms this relying party verifies, when it verifies JWT-SVIDs at all. */
export interface JwtAlgorithmNeed {
  /** JWS algorithms it accepts, e.g. `["RS256"]`. */
  algorithms: readonly string[];
  /** Why, as the user reads it: "Entra ID accepts RS256 tokens only". */
  reason: string;
  /** When it applies, as the user reads it: "while workloads have Azure grants". */
  when: string;
}

/** What the stack hands a relying party's component. */
export interface BuildContext<B, G> {
  /** The validated core model. */
  core: CoreModel;
  /** This relying party's block, with defaults applied. */
  block: B;
  /** The workloads with this relying party's grant, in config order. */
  grants: { workload: CoreWorkload; grant: G }[];
  /** The root of trust and what in the cluster must exist first. */
  trust: {
    /** PEM of the stable root (trust anchor). */
    rootCertificatePem: pulumi.Output<string>;
    /** The root's private key, when Pulumi generated it (a secret). */
    rootPrivateKeyPem?: pulumi.Output<string>;
    /** The SPIRE release: whatever fetches the discovery endpoint waits on it. */
    spireRelease: pulumi.Resource;
    /** Class of SPIRE's controller manager: a ClusterSPIFFEID a relying party creates carries it. */
    controllerClassName: string;
  };
}

/** What a relying party's build returns. */
export interface Built<L> {
  /** The component. */
  component: pulumi.ComponentResource;
  /** Per workload name: what the workload needs to use its grants. */
  logins: Record<string, L>;
  /** Extra stack outputs (e.g. a value the operator must act on). */
  outputs?: Record<string, pulumi.Input<unknown>>;
}

/** A JWT-SVID the workload's spiffe-helper fetches and keeps fresh. */
export interface WorkloadJwtSvid {
  /** The audience: exactly the string the relying party checks. */
  audience: string;
  /** File name in the helper's `cert_dir` (`WorkloadPaths.certDir`), e.g. `vault.token`. */
  fileName: string;
}

/** A configuration file the workload's ConfigMap provides. */
export interface WorkloadConfigFile {
  /** The content: configuration known at plan time, never a secret. */
  content: string;
  /**
   * Absolute path in the workload container, when an output already names another place (e.g.
   * a file inside `cert_dir`). Default: `<WorkloadPaths.configDir>/<ConfigMap key>`.
   */
  path?: string;
}

/**
 * What one relying party needs in a workload's pods to use its grant. Every path in it, and in
 * the login it is made from, must be one the helper writes or the ConfigMap provides; every
 * audience must be exactly the one the relying party checks (a test holds both).
 */
export interface WorkloadContribution {
  /** JWT-SVIDs the helper fetches, one per audience. */
  jwtSvids?: WorkloadJwtSvid[];
  /**
   * Configuration files by ConfigMap key (`[-._a-zA-Z0-9]+`, starting with the party's key so
   * that keys of different parties never clash).
   */
  files?: Record<string, WorkloadConfigFile>;
  /**
   * Environment the party's SDK reads. A plain string (known at plan time) goes into the pod
   * patch as is; an Output (a value that exists only after deploy, e.g. Azure's client ID) goes
   * into the workload's env ConfigMap, which the patch references. Never a secret.
   */
  env?: Record<string, pulumi.Input<string>>;
}

/** What the stack hands a relying party's `workloadFiles`: one workload with its grant. */
export interface WorkloadFilesContext<B, G, L> {
  /** The validated core model. */
  core: CoreModel;
  /** This relying party's block, with defaults applied. */
  block: B;
  /** The workload. */
  workload: CoreWorkload;
  /** Its grant, with defaults applied. */
  grant: G;
  /** Its login, as `build` returned it. */
  login: L;
  /** Where the helper writes and where the ConfigMap is mounted. */
  paths: WorkloadPaths;
}

/** A relying party's JWKS cache and when it verifies JWT-SVIDs (see `rotation.ts`). */
export interface JwksVerifier<BIn, GIn> {
  /** How it keeps the issuer's JWKS, with the source of the fact. */
  caching: JwksCaching;
  /** Whether it verifies JWT-SVIDs in this stack's config. */
  verifies(block: BIn, grants: readonly GrantEntry<GIn>[]): boolean;
  /** Whether a planned resource makes it verify JWT-SVIDs (for the policy pack). */
  planned(type: string, props: Readonly<Record<string, unknown>>): boolean;
}

/**
 * One relying party. `BIn`/`GIn` are what its schemas parse, `B`/`G` the model with defaults,
 * `L` the per-workload login output.
 */
export interface RelyingParty<K extends string, BIn, B, GIn, G, L> {
  /** Config key, folder name and policy-name prefix, e.g. `vault`. */
  key: K;
  /** Product name as users know it, e.g. "HashiCorp Vault". */
  product: string;
  /** Schema of `spire-federation:<key>`. */
  blockSchema: z.ZodType<BIn>;
  /** Schema of `workloads[i].<key>`. */
  grantSchema: z.ZodType<GIn>;
  /** Cross-field rules (block against core, grants against block). */
  check?(ctx: CheckContext<BIn, GIn>): void;
  /** Needs a publicly trusted discovery endpoint (checked once by the core). */
  publicIssuer?(block: BIn): PublicIssuerNeed | undefined;
  /** Verifies JWT-SVIDs with these algorithms (checked once by the core against caKeyType). */
  jwtAlgorithms?(block: BIn, grants: readonly GrantEntry<GIn>[]): JwtAlgorithmNeed | undefined;
  /**
   * How it keeps the issuer's JWKS (its `<RP>_JWKS_CACHING` in rules.ts) and when it verifies
   * JWT-SVIDs: the core's rotation rule (config and policy) compares SPIRE's key lead with it.
   */
  jwks?: JwksVerifier<BIn, GIn>;
  /** The block with defaults applied. */
  model(block: BIn, ctx: { providerConfig: Readonly<Record<string, string | undefined>> }): B;
  /** One workload's grant with defaults applied. */
  grant(grant: GIn, workload: CoreWorkload, block: B): G;
  /**
   * This party's anchored values for the guard (e.g. the Vault path, the pool ID), from the
   * same context `build` gets. A list-valued one (identity names) is comma-joined and sorted.
   */
  anchoredValues?(ctx: BuildContext<B, G>): AnchoredValues;
  /** Builds the component and the per-workload logins. */
  build(name: string, ctx: BuildContext<B, G>, opts: pulumi.ComponentResourceOptions): Built<L>;
  /**
   * What a workload with this party's grant needs in its pods (JWT-SVIDs, configuration files,
   * environment), derived from its login. Runs for each workload whose files are on.
   */
  workloadFiles?(ctx: WorkloadFilesContext<B, G, L>): WorkloadContribution;
  /**
   * For the core's `public-oidc-tls` rule: whether a planned resource of this relying party
   * fetches the discovery document or the JWKS itself (so it needs a publicly trusted endpoint).
   */
  fetchesIssuer?(type: string, props: Readonly<Record<string, unknown>>): boolean;
  /** This relying party's CrossGuard rules; names start with `<key>-`. */
  policies: readonly Policy[];
}

/** Any relying party, for code that iterates the registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRelyingParty = RelyingParty<string, any, any, any, any, any>;

/** Identity function that lets TypeScript infer a relying party's type parameters. */
export function defineRelyingParty<const K extends string, BIn, B, GIn, G, L>(
  rp: RelyingParty<K, BIn, B, GIn, G, L>,
): RelyingParty<K, BIn, B, GIn, G, L> {
  return rp;
}

/** The block model of a relying party. */
export type BlockModelOf<R> =
  R extends RelyingParty<string, infer _BIn, infer B, infer _GIn, infer _G, infer _L> ? B : never;
/** The grant model of a relying party. */
export type GrantModelOf<R> =
  R extends RelyingParty<string, infer _BIn, infer _B, infer _GIn, infer G, infer _L> ? G : never;
/** The login output of a relying party. */
export type LoginOf<R> =
  R extends RelyingParty<string, infer _BIn, infer _B, infer _GIn, infer _G, infer L> ? L : never;
