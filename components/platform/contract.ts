/**
 * The platform output contract: what a platform stack of this package exports for the team
 * stacks built on it (`spire-federation:platform: org/project/stack`), in one place. The platform
 * side types its outputs with {@link PlatformOutputs} (program.ts exports every name in
 * {@link PLATFORM_OUTPUT_NAMES}); the team side reads exactly those names through a
 * `pulumi.StackReference` and validates them with {@link platformOutputsSchema}. A name added here
 * must be added on both sides, or the contract test fails.
 */
import { z } from "zod";

/** The shared relying-party setup a team's grants attach to (present when the platform has it). */
export interface PlatformShared {
  /** Vault JWT auth: the backend team roles are written under, and the address workloads use. */
  vault?: {
    /** Mount path of the platform's JWT auth backend. */
    path: string;
    /** `vault:address` of the platform, when set. */
    address?: string;
  };
  /** Google workload identity federation: the pool team IAM bindings name. */
  gcp?: {
    /** Project that holds the pool. */
    project: string;
    /** Its project number (IAM principals use it). */
    projectNumber: string;
    /** Workload identity pool ID. */
    poolId: string;
  };
  /** OpenZiti: the controller and the CA whose certificates authenticate team identities. */
  openziti?: {
    /** Edge management API base URL. */
    controllerUrl: string;
    /** Name of the platform's CA. */
    caName: string;
  };
}

/** What one team stack may use, by its stack name (`teamStacks` on the platform). */
export interface TeamGrant {
  /** The Kubernetes namespaces whose pods the team stack may give IDs. */
  namespaces: string[];
}

/** The platform stack's outputs that team stacks read. */
export interface PlatformOutputs {
  /** SPIFFE trust domain, e.g. `prod.spiffe.example.com`. */
  trustDomain: string;
  /** OIDC issuer (JWT `iss`), `https://<oidc host>`. */
  issuerUrl: string;
  /** Where the JWT signing keys are published. */
  jwksUri: string;
  /** PEM of the root CA certificate (trust anchor). */
  rootCaPem: string;
  /** Class of SPIRE's controller manager: every ClusterSPIFFEID must carry it. */
  controllerClassName: string;
  /** Name of the platform's Kubernetes cluster (the team stack's provider must reach it). */
  clusterName: string;
  /** Which namespaces each team stack may use, by team stack name. */
  teamStacks: Record<string, TeamGrant>;
  /** Namespaces no team may use: SPIRE's, cert-manager's and the platform's own workloads'. */
  reservedNamespaces: string[];
  /** SPIFFE ID paths no team may claim: the platform's workloads' and SPIRE's (`/spire`). */
  reservedSpiffeIdPaths: string[];
  /** The shared relying-party setup. */
  shared: PlatformShared;
}

/** Every name of the contract, in the order the platform exports them. */
export const PLATFORM_OUTPUT_NAMES = [
  "trustDomain",
  "issuerUrl",
  "jwksUri",
  "rootCaPem",
  "controllerClassName",
  "clusterName",
  "teamStacks",
  "reservedNamespaces",
  "reservedSpiffeIdPaths",
  "shared",
] as const satisfies readonly (keyof PlatformOutputs)[];

/** A name of the contract. */
export type PlatformOutputName = (typeof PLATFORM_OUTPUT_NAMES)[number];

// Every key of PlatformOutputs is in the list (a compile error names the one left out).
type Missing = Exclude<keyof PlatformOutputs, PlatformOutputName>;
const everyName: Missing extends never ? true : Missing = true;
void everyName;

/** The contract's outputs as the platform hands them to Pulumi (each may be an Output). */
export type PlatformOutputInputs = {
  [K in PlatformOutputName]: import("@pulumi/pulumi").Input<PlatformOutputs[K]>;
};

const text = z.string().min(1, { error: "must be a non-empty string" });

/** Validates the outputs a team stack read from its platform (each name at its own path). */
export const platformOutputsSchema = z.object({
  trustDomain: text,
  issuerUrl: text,
  jwksUri: text,
  rootCaPem: text,
  controllerClassName: text,
  clusterName: text,
  teamStacks: z.record(text, z.object({ namespaces: z.array(text) })),
  reservedNamespaces: z.array(text),
  reservedSpiffeIdPaths: z.array(text),
  shared: z.object({
    vault: z.object({ path: text, address: text.optional() }).optional(),
    gcp: z.object({ project: text, projectNumber: text, poolId: text }).optional(),
    openziti: z.object({ controllerUrl: text, caName: text }).optional(),
  }),
}) satisfies z.ZodType<PlatformOutputs>;
