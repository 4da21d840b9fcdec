/**
 * Anchors: the resources and values a running trust domain cannot lose. Replace one and every
 * workload, or every relying party, breaks at once; some cannot even be put back (a deleted
 * Google pool's ID stays reserved for 30 days, a new Entra identity has a new client ID).
 *
 * - {@link ANCHORS} names them by type token (and name suffix where a type is also used for
 *   something else). The policy pack, the offline diff and the preview check read this one table.
 * - {@link anchorOptions} is how a component registers one: `protect` unless the stack turned
 *   `anchors.protect` off, so the engine refuses to delete or replace it.
 * - {@link ANCHORED_VALUES} are the values a deployed stack must keep (trust domain, issuer,
 *   root, cluster name, Vault path, pool ID, identity names): the guard (`anchor-guard.ts`)
 *   records them and refuses a change unless `anchors.allowMigration` lists it.
 */
import type * as pulumi from "@pulumi/pulumi";

/** One kind of anchor resource. */
export interface AnchorKind {
  /** Type token. */
  type: string;
  /** When set, only resources whose logical name ends so (the type also serves other roles). */
  nameSuffix?: string;
  /** What it anchors, as the user reads it. */
  what: string;
  /**
   * The input paths whose change is an anchor change (the offline diff reads them); absent: all.
   * A Helm release takes routine value changes in place: only its identity counts.
   */
  inputs?: readonly string[];
}

/** Type token of the anchor guard (a dynamic resource, module `spire-federation`). */
export const ANCHOR_GUARD_TYPE = "pulumi-nodejs:dynamic/spire-federation:Anchors";

/** Every anchor resource the package registers. */
export const ANCHORS: readonly AnchorKind[] = [
  { type: ANCHOR_GUARD_TYPE, what: "the record of the stack's anchored values" },
  {
    type: "tls:index/privateKey:PrivateKey",
    nameSuffix: "-root-key",
    what: "the root key every X.509 relying party pins",
  },
  {
    type: "tls:index/selfSignedCert:SelfSignedCert",
    nameSuffix: "-root-cert",
    what: "the root certificate every X.509 relying party pins",
  },
  {
    type: "kubernetes:helm.sh/v3:Release",
    nameSuffix: "-spire-release",
    what: "the SPIRE server (its datastore holds the trust domain's keys and entries)",
    inputs: [
      "name",
      "namespace",
      "values.global.spire.trustDomain",
      "values.global.spire.clusterName",
      "values.global.spire.jwtIssuer",
    ],
  },
  {
    type: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
    what: "the Google pool (a deleted pool's ID stays reserved for 30 days)",
  },
  {
    type: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
    what: "a Google pool provider (principals name it)",
  },
  {
    type: "azure-native:managedidentity:UserAssignedIdentity",
    what: "an Entra identity (a new one has a new client ID: AZURE_CLIENT_ID goes stale)",
  },
  {
    type: "vault:jwt/authBackend:AuthBackend",
    what: "the Vault JWT auth backend (a new path drops every role)",
  },
  {
    type: "pulumi-nodejs:dynamic/openziti:Ca",
    what: "the OpenZiti CA (a new CA must be verified again)",
  },
  {
    type: "pulumi-nodejs:dynamic/curity:ClientTrustStore",
    what: "a Curity trust store entry (the root X.509 clients chain to)",
  },
  {
    type: "pulumi-nodejs:dynamic/curity:ServerTrustStore",
    what: "a Curity trust store entry (the CA of the JWKS endpoint)",
  },
];

/** The anchor kind of a resource, or undefined when it is not an anchor. */
export function anchorOf(type: string, name: string): AnchorKind | undefined {
  return ANCHORS.find(
    (a) => a.type === type && (a.nameSuffix === undefined || name.endsWith(a.nameSuffix)),
  );
}

/** The name in a URN (`urn:pulumi:stack::project::type::name`). */
export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** The (last) type in a URN (`…::parent$type::name`). */
export function urnType(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").pop() ?? "";
}

/**
 * Options of an anchor resource: `protect` unless `protect` is false (`anchors.protect`), on top
 * of the resource's other options. Default: protected.
 */
export function anchorOptions(
  parent: pulumi.Resource,
  protect: boolean | undefined,
  opts: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return { ...opts, parent, protect: protect ?? true };
}

/** The anchored values a deployed stack keeps; `anchors.allowMigration` lists these names. */
export const ANCHORED_VALUES = {
  trustDomain: "every SPIFFE ID, Vault sub, Entra subject, Google principal and peer federation",
  issuer: "every relying party that verifies JWT-SVIDs pins the issuer",
  root: "every X.509 relying party (Google, OpenZiti, Curity) pins the root",
  clusterName: "SPIRE's node attestor and every agent's SPIFFE ID name the cluster",
  vaultPath: "the JWT backend's roles live under its path",
  gcpPool: "principals name the pool; a deleted pool's ID stays reserved for 30 days",
  azureIdentities: "a new identity has a new client ID (every pod's AZURE_CLIENT_ID)",
} as const;

/** The name of one anchored value. */
export type AnchoredValue = keyof typeof ANCHORED_VALUES;

/** The anchored values' names, in a stable order. */
export const ANCHORED_VALUE_NAMES = Object.keys(ANCHORED_VALUES) as AnchoredValue[];
