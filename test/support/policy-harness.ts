/** Calls the package's CrossGuard rules directly, on hand-built resources and stacks. */
import type {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { expect, it } from "vitest";
import { policies } from "../../components/policies";
import { effectiveConfig } from "../../tools/policy-runner";
import { relyingParties } from "../../components/federation/registry";
import { nodesPolicies } from "../../components/nodes/policies";
import { anchorPolicies } from "../../components/anchor-policies";
import { platformPolicies } from "../../components/platform/policies";
import { spireFederationPolicies } from "../../components/spire-federation/policies";

/** The rules this test file has called (each test file loads its own copy of this module). */
const tested = new Set<string>();

/** The rule named `name`, marked as tested by this file. */
export function policy(name: string) {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new Error(`no policy ${name}`);
  tested.add(name);
  return p;
}

/** Calls a resource policy on one resource; returns the messages it reported. */
export async function violations(
  name: string,
  type: string,
  props: Record<string, unknown>,
  config: Record<string, unknown> = {},
) {
  const p = policy(name) as ResourceValidationPolicy;
  const messages: string[] = [];
  const { props: cfg } = effectiveConfig(p, { [name]: config });
  const args = {
    type,
    props,
    urn: `urn:pulumi:test::spire-federation::${type}::r`,
    name: "r",
    opts: {},
    stackTags: new Map(),
    getConfig: () => cfg,
    notApplicable: () => {
      throw new Error("not applicable");
    },
    isType: () => false,
    asType: () => undefined,
  };
  for (const v of [p.validateResource!].flat()) await v(args as any, (m) => messages.push(m));
  return messages;
}

/** A resource as a stack policy sees it, with the names of those it depends on. */
export type R = { type: string; name: string; props: Record<string, unknown>; deps?: string[] };

/** Calls a stack policy on hand-built resources; returns the messages. */
export async function stackViolations(name: string, rs: R[], config: Record<string, unknown> = {}) {
  const p = policy(name) as StackValidationPolicy;
  const { props: cfg } = effectiveConfig(p, { [name]: config });
  const resources = new Map<string, PolicyResource>();
  for (const r of rs) {
    resources.set(r.name, {
      type: r.type,
      name: r.name,
      urn: `urn:${r.name}`,
      props: r.props,
      dependencies: [],
      propertyDependencies: {},
      opts: {},
    } as any);
  }
  for (const r of rs)
    resources.get(r.name)!.dependencies = (r.deps ?? []).map((d) => resources.get(d)!);
  const messages: string[] = [];
  await p.validateStack(
    {
      resources: [...resources.values()],
      stackTags: new Map(),
      getConfig: () => cfg as any,
      notApplicable: () => {
        throw new Error("n/a");
      },
    },
    (m) => messages.push(m),
  );
  return messages;
}

/** The issuer of the good SPIRE values. */
export const ISSUER = "https://oidc.prod.example.com";
/** A SPIFFE ID in the good values' trust domain. */
export const SPIFFE = "spiffe://prod.example.com/ns/a/sa/b";
/** SPIRE chart values every SPIRE rule accepts. */
export const goodValues = () => ({
  global: {
    spire: {
      trustDomain: "prod.example.com",
      jwtIssuer: ISSUER,
      recommendations: { enabled: true },
    },
  },
  "spire-server": {
    replicaCount: 1,
    caKeyType: "rsa-2048",
    defaultJwtSvidTTL: "1h",
    dataStore: { sql: { databaseType: "sqlite3" } },
  },
  "spiffe-oidc-discovery-provider": {
    tls: { spire: { enabled: false }, certManager: { enabled: true } },
  },
});
/** A SPIRE Helm release's props with these values. */
export const release = (values: unknown) => ({ chart: "spire", values });

/**
 * Who owns which rules: each relying party its own; the nodes, SPIRE-to-SPIRE federation, team
 * stacks (platform) and the anchors (upgrades) theirs; the core the rest. The owner is the folder
 * under test/ whose policies.test.ts tests them.
 */
const FOLDER_RULES: Readonly<Record<string, readonly { name: string }[]>> = {
  nodes: nodesPolicies,
  "federation-spire": spireFederationPolicies,
  platform: platformPolicies,
  upgrades: anchorPolicies,
};

/** Every owner of rules (a folder under test/). */
export const RULE_OWNERS = [
  "core",
  ...Object.keys(FOLDER_RULES),
  ...relyingParties.map((p) => p.key),
];

/** The names of the rules `owner` (a folder under test/) owns. */
export function rulesOf(owner: string): string[] {
  const party = relyingParties.find((p) => p.key === owner);
  if (party) return party.policies.map((p) => p.name);
  const own = FOLDER_RULES[owner];
  if (own) return own.map((p) => p.name);
  if (owner !== "core") throw new Error(`no rules owned by ${owner}`);
  const others = new Set(
    [...relyingParties.flatMap((p) => p.policies), ...Object.values(FOLDER_RULES).flat()].map(
      (p) => p.name,
    ),
  );
  return policies.map((p) => p.name).filter((n) => !others.has(n));
}

/** A test, last in the file, that every rule `owner` owns was called by a test above it. */
export function everyRuleTested(owner: string): void {
  it(`every ${owner} rule has a test above`, () => {
    expect([...tested].sort()).toEqual(expect.arrayContaining(rulesOf(owner)));
  });
}
