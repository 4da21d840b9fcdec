/**
 * The policy pack: every rule on a compliant and a violating resource (or stack), called directly
 * with hand-built args; the example stacks pass; the broken fixture shows every rule.
 */
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { CURITY_TYPES } from "../components/federation/curity/policies";
import { policies, TYPES } from "../components/policies";
import {
  gatewayValues as istioGatewayValues,
  istiodValues,
} from "../components/federation/istio/index";
import { type Plan } from "../tools/plan";
import { planStack } from "./compiled";
import {
  effectiveConfig,
  formatViolations,
  policyConfigProblems,
  runPolicies,
} from "../tools/policy-runner";
import { makeCertificate } from "./fixtures";
import { ROOT } from "./helpers";

const tested = new Set<string>();

function policy(name: string) {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new Error(`no policy ${name}`);
  tested.add(name);
  return p;
}

/** Calls a resource policy on one resource; returns the messages it reported. */
async function violations(
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

type R = { type: string; name: string; props: Record<string, unknown>; deps?: string[] };

/** Calls a stack policy on hand-built resources; returns the messages. */
async function stackViolations(name: string, rs: R[], config: Record<string, unknown> = {}) {
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

const ISSUER = "https://oidc.prod.example.com";
const SPIFFE = "spiffe://prod.example.com/ns/a/sa/b";
const goodValues = () => ({
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
const release = (values: unknown) => ({ chart: "spire", values });

describe("Vault rules", () => {
  const good = {
    roleType: "jwt",
    userClaim: "sub",
    boundAudiences: ["vault"],
    boundClaims: { sub: SPIFFE },
    boundClaimsType: "string",
  };
  it("vault-jwt-role", async () => {
    expect(await violations("vault-jwt-role", TYPES.vaultRole, good)).toEqual([]);
    expect(
      await violations("vault-jwt-role", TYPES.vaultRole, {
        ...good,
        boundClaims: undefined,
        boundSubject: SPIFFE,
      }),
    ).toEqual([]);
    expect(
      await violations("vault-jwt-role", TYPES.vaultRole, {
        boundAudiences: [],
        boundClaims: { sub: "*" },
      }),
    ).toEqual([
      'roleType is "": Vault treats an empty role type as oidc (a browser flow); set "jwt"',
      "boundAudiences is empty: Vault rejects every token that carries an aud claim",
      'no SPIFFE ID is bound: set boundClaims.sub (or boundSubject) to the workload\'s SPIFFE ID, not "*"',
      'userClaim is not set: set it to "sub" so that the SPIFFE ID names the entity',
    ]);
    expect(
      await violations("vault-jwt-role", TYPES.vaultRole, { ...good, boundClaims: {} }),
    ).toHaveLength(1);
    expect(await violations("vault-jwt-role", "vault:index/policy:Policy", {})).toEqual([]);
  });

  it("vault-jwt-backend-discovery", async () => {
    expect(
      await violations("vault-jwt-backend-discovery", TYPES.vaultBackend, {
        oidcDiscoveryUrl: ISSUER,
        boundIssuer: ISSUER,
      }),
    ).toEqual([]);
    expect(
      await violations("vault-jwt-backend-discovery", TYPES.vaultBackend, {
        oidcDiscoveryUrl: "http://x",
        boundIssuer: `${ISSUER}/`,
      }),
    ).toEqual([
      "oidcDiscoveryUrl http://x is not https",
      `boundIssuer "${ISSUER}/" differs from oidcDiscoveryUrl "http://x": Vault compares them exactly, trailing slash included`,
    ]);
    expect(await violations("vault-jwt-backend-discovery", TYPES.vaultBackend, {})).toEqual([
      "oidcDiscoveryUrl is not set",
    ]);
  });

  it("vault-backend-waits-on-gate", async () => {
    const gate = {
      type: TYPES.command,
      name: "gate",
      props: { environment: { GATE_ISSUER: ISSUER } },
      deps: ["release"],
    };
    const rel = { type: TYPES.helmRelease, name: "release", props: release(goodValues()) };
    const backend = (deps: string[]) => ({
      type: TYPES.vaultBackend,
      name: "backend",
      props: { oidcDiscoveryUrl: ISSUER },
      deps,
    });
    expect(
      await stackViolations("vault-backend-waits-on-gate", [rel, gate, backend(["gate"])]),
    ).toEqual([]);
    expect(
      await stackViolations("vault-backend-waits-on-gate", [rel, gate, backend(["release"])]),
    ).toEqual([
      `backend does not wait on a readiness gate for ${ISSUER}: the write fails while discovery is unreachable`,
    ]);
    // a gate for another issuer does not count
    const other = { ...gate, props: { environment: { GATE_ISSUER: "https://other.example.com" } } };
    expect(
      await stackViolations("vault-backend-waits-on-gate", [rel, other, backend(["gate"])]),
    ).toHaveLength(1);
  });
});

describe("Entra rules", () => {
  const good = {
    issuer: ISSUER,
    subject: SPIFFE,
    audiences: ["api://AzureADTokenExchange"],
    resourceGroupName: "rg",
    resourceName: "id",
  };
  it("entra-federated-credential", async () => {
    expect(await violations("entra-federated-credential", TYPES.fic, good)).toEqual([]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, {
        ...good,
        issuer: "http://x",
        subject: "spiffe://td/a/",
        audiences: ["a", "b"],
      }),
    ).toEqual([
      "issuer http://x is not https",
      "subject spiffe://td/a/ is not a SPIFFE ID: path cannot have a trailing slash",
      "audiences has 2 entries; Entra requires exactly one",
    ]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, {
        ...good,
        subject: "spiffe://td/ns/*",
      }),
    ).toEqual(["subject spiffe://td/ns/* contains a wildcard: Entra matches it literally"]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, {
        ...good,
        subject: SPIFFE + "/x".repeat(300),
      }),
    ).toEqual(["subject is 635 characters; Entra accepts at most 600"]);
    expect(
      await violations("entra-federated-credential", TYPES.fic, good, { maxClaimLength: 20 }),
    ).toHaveLength(2);
  });

  it("entra-credentials-per-identity", async () => {
    const fic = (name: string, subject: string, identity = "id") => ({
      type: TYPES.fic,
      name,
      props: { ...good, resourceName: identity, subject },
    });
    const three = [fic("a", `${SPIFFE}1`), fic("b", `${SPIFFE}2`), fic("c", `${SPIFFE}3`, "other")];
    expect(await stackViolations("entra-credentials-per-identity", three)).toEqual([]);
    expect(
      await stackViolations("entra-credentials-per-identity", three, {
        maxCredentialsPerIdentity: 1,
      }),
    ).toEqual(["identity rg/id has 2 federated credentials; Entra allows at most 1"]);
    const twentyOne = Array.from({ length: 21 }, (_, i) => fic(`f${i}`, `${SPIFFE}${i}`));
    expect(await stackViolations("entra-credentials-per-identity", twentyOne)).toEqual([
      "identity rg/id has 21 federated credentials; Entra allows at most 20",
    ]);
    expect(
      await stackViolations("entra-credentials-per-identity", [fic("a", SPIFFE), fic("b", SPIFFE)]),
    ).toEqual([`identity rg/id trusts issuer ${ISSUER} with subject ${SPIFFE} twice (also a)`]);
  });

  it("entra-needs-rsa-ca-key", async () => {
    const fic = { type: TYPES.fic, name: "fic", props: good };
    const ec = goodValues();
    ec["spire-server"].caKeyType = "ec-p256";
    expect(
      await stackViolations("entra-needs-rsa-ca-key", [
        fic,
        { type: TYPES.helmRelease, name: "spire", props: release(goodValues()) },
      ]),
    ).toEqual([]);
    expect(
      await stackViolations("entra-needs-rsa-ca-key", [
        { type: TYPES.helmRelease, name: "spire", props: release(ec) },
      ]),
    ).toEqual([]);
    expect(
      await stackViolations("entra-needs-rsa-ca-key", [
        fic,
        { type: TYPES.helmRelease, name: "spire", props: release(ec) },
      ]),
    ).toEqual([
      "SPIRE's caKeyType is ec-p256 but Entra federated credentials exist: Entra accepts RS256 tokens only",
    ]);
  });

  it("entra-jwt-svid-ttl", async () => {
    const fic = { type: TYPES.fic, name: "fic", props: good };
    const withTtl = (ttl: string | undefined) => {
      const v: any = goodValues();
      if (ttl === undefined) delete v["spire-server"].defaultJwtSvidTTL;
      else v["spire-server"].defaultJwtSvidTTL = ttl;
      return { type: TYPES.helmRelease, name: "spire", props: release(v) };
    };
    const name = "entra-jwt-svid-ttl";
    expect(await stackViolations(name, [fic, withTtl("50m")])).toEqual([]);
    expect(await stackViolations(name, [fic, withTtl(undefined)])).toEqual([]); // chart: 1h
    expect(await stackViolations(name, [withTtl("15m")])).toEqual([]); // no Entra credential
    expect(await stackViolations(name, [fic, withTtl("49m59s")])).toEqual([
      "SPIRE's defaultJwtSvidTTL is 49m59s but Entra federated credentials exist: at least 50m, or the Azure SDKs post expired assertions (AADSTS700024)",
    ]);
    expect(await stackViolations(name, [fic, withTtl("50m")], { minMinutes: 60 })).toEqual([
      "SPIRE's defaultJwtSvidTTL is 50m but Entra federated credentials exist: at least 60m, or the Azure SDKs post expired assertions (AADSTS700024)",
    ]);
  });
});

describe("Google Cloud rules", () => {
  it("gcp-provider-mapping", async () => {
    const oidc = {
      attributeMapping: { "google.subject": "assertion.sub" },
      attributeCondition: 'assertion.sub.startsWith("spiffe://td/")',
      oidc: { issuerUri: ISSUER },
    };
    const x509 = {
      attributeMapping: { "google.subject": "assertion.san.uri" },
      attributeCondition: "true",
      x509: { trustStore: {} },
    };
    expect(await violations("gcp-provider-mapping", TYPES.gcpProvider, oidc)).toEqual([]);
    expect(await violations("gcp-provider-mapping", TYPES.gcpProvider, x509)).toEqual([]);
    expect(
      await violations("gcp-provider-mapping", TYPES.gcpProvider, {
        ...oidc,
        attributeMapping: {},
        attributeCondition: " ",
      }),
    ).toEqual([
      "google.subject is not mapped: every token would be rejected",
      "no attributeCondition: any credential the provider accepts could act as this pool; limit it to the trust domain",
    ]);
    expect(
      await violations("gcp-provider-mapping", TYPES.gcpProvider, {
        ...x509,
        attributeMapping: {},
      }),
    ).toEqual([
      'X.509 provider maps google.subject to "": SPIRE\'s leaves have no CN; map it to assertion.san.uri',
    ]);
  });

  const pool =
    "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*";
  const one = `principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/${SPIFFE}`;
  it("gcp-no-pool-wide-grant", async () => {
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: one,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: `${pool.slice(0, -2)}/attribute.ns/a`,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: pool,
      }),
    ).toEqual([`roles/viewer is granted to the whole pool (${pool})`]);
    expect(
      await violations("gcp-no-pool-wide-grant", TYPES.gcpBinding, {
        role: "roles/viewer",
        members: [one, pool],
      }),
    ).toHaveLength(1);
  });

  it("gcp-no-pool-wide-privileged-grant", async () => {
    expect(
      await violations("gcp-no-pool-wide-privileged-grant", TYPES.gcpMember, {
        role: "roles/viewer",
        member: pool,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-privileged-grant", TYPES.gcpMember, {
        role: "roles/owner",
        member: one,
      }),
    ).toEqual([]);
    expect(
      await violations("gcp-no-pool-wide-privileged-grant", TYPES.gcpMember, {
        role: "roles/editor",
        member: pool,
      }),
    ).toEqual([`privileged role roles/editor is granted to every identity of the pool (${pool})`]);
    expect(
      await violations(
        "gcp-no-pool-wide-privileged-grant",
        TYPES.gcpMember,
        { role: "roles/viewer", member: pool },
        { privilegedRoles: ["roles/viewer"] },
      ),
    ).toHaveLength(1);
  });

  it("gcp-oidc-jwt-algorithm", async () => {
    const oidc = { type: TYPES.gcpProvider, name: "oidc", props: { oidc: { issuerUri: ISSUER } } };
    const x509 = { type: TYPES.gcpProvider, name: "x509", props: { x509: {} } };
    const spire = (caKeyType: string) => {
      const v = goodValues();
      v["spire-server"].caKeyType = caKeyType;
      return { type: TYPES.helmRelease, name: "spire", props: release(v) };
    };
    for (const ok of ["rsa-2048", "rsa-4096", "ec-p256"]) {
      expect(await stackViolations("gcp-oidc-jwt-algorithm", [oidc, spire(ok)])).toEqual([]);
    }
    expect(await stackViolations("gcp-oidc-jwt-algorithm", [x509, spire("ec-p384")])).toEqual([]);
    expect(await stackViolations("gcp-oidc-jwt-algorithm", [oidc, spire("ec-p384")])).toEqual([
      "SPIRE's caKeyType is ec-p384 but Google Cloud OIDC providers exist: Google Cloud's STS accepts RS256 and ES256 tokens only",
    ]);
    expect(await stackViolations("gcp-oidc-jwt-algorithm", [oidc, spire("ed25519")])).toEqual([
      "SPIRE's caKeyType is ed25519 but Google Cloud OIDC providers exist: Google Cloud's STS accepts RS256 and ES256 tokens only",
    ]);
  });

  it("public-oidc-tls", async () => {
    const onSpire = goodValues();
    onSpire["spiffe-oidc-discovery-provider"] = { tls: {} } as any; // chart default: SPIRE's own TLS
    const gcpOidc = {
      type: TYPES.gcpProvider,
      name: "oidc",
      props: { oidc: { issuerUri: ISSUER } },
    };
    const gcpX509 = { type: TYPES.gcpProvider, name: "x509", props: { x509: {} } };
    const spire = (v: unknown) => ({ type: TYPES.helmRelease, name: "spire", props: release(v) });
    expect(await stackViolations("public-oidc-tls", [gcpOidc, spire(goodValues())])).toEqual([]);
    expect(await stackViolations("public-oidc-tls", [gcpX509, spire(onSpire)])).toEqual([]);
    expect(await stackViolations("public-oidc-tls", [gcpOidc, spire(onSpire)])).toEqual([
      "the OIDC discovery provider serves SPIRE's own certificate, which oidc cannot trust; use cert-manager (ACME) or an ingress TLS secret",
    ]);
    const ingressTls = goodValues();
    ingressTls["spiffe-oidc-discovery-provider"] = {
      tls: { spire: { enabled: true } },
      ingress: { tlsSecret: "s" },
    } as any;
    expect(await stackViolations("public-oidc-tls", [gcpOidc, spire(ingressTls)])).toEqual([]);
  });
});

describe("SPIRE release rules", () => {
  const rel = (mutate: (v: ReturnType<typeof goodValues>) => void = () => undefined) => {
    const v = goodValues();
    mutate(v);
    return release(v);
  };
  it("apply only to the spire chart", async () => {
    expect(
      await violations("spire-trust-domain", TYPES.helmRelease, {
        chart: "cert-manager",
        values: {},
      }),
    ).toEqual([]);
  });
  it("spire-jwt-issuer", async () => {
    expect(await violations("spire-jwt-issuer", TYPES.helmRelease, rel())).toEqual([]);
    expect(
      await violations(
        "spire-jwt-issuer",
        TYPES.helmRelease,
        rel((v) => delete (v.global.spire as any).jwtIssuer),
      ),
    ).toEqual(["jwtIssuer is not set: JWT-SVIDs would carry no iss claim"]);
    expect(
      await violations(
        "spire-jwt-issuer",
        TYPES.helmRelease,
        rel((v) => (v.global.spire.jwtIssuer = "http://x")),
      ),
    ).toEqual(["jwtIssuer http://x is not https"]);
  });
  it("spire-trust-domain", async () => {
    expect(await violations("spire-trust-domain", TYPES.helmRelease, rel())).toEqual([]);
    expect(
      await violations(
        "spire-trust-domain",
        TYPES.helmRelease,
        rel((v) => delete (v.global.spire as any).trustDomain),
      ),
    ).toEqual(["the trust domain is the chart's example, example.org"]);
  });
  it("spire-jwt-svid-ttl", async () => {
    expect(
      await violations(
        "spire-jwt-svid-ttl",
        TYPES.helmRelease,
        rel((v) => (v["spire-server"].defaultJwtSvidTTL = "24h")),
      ),
    ).toEqual([]);
    expect(
      await violations(
        "spire-jwt-svid-ttl",
        TYPES.helmRelease,
        rel((v) => (v["spire-server"].defaultJwtSvidTTL = "24h1s")),
      ),
    ).toEqual(["defaultJwtSvidTTL 24h1s exceeds 24h"]);
    expect(
      await violations("spire-jwt-svid-ttl", TYPES.helmRelease, rel(), { maxHours: 0.5 }),
    ).toEqual(["defaultJwtSvidTTL 1h exceeds 0.5h"]);
  });
  it("spire-ha-datastore", async () => {
    expect(await violations("spire-ha-datastore", TYPES.helmRelease, rel())).toEqual([]);
    expect(
      await violations(
        "spire-ha-datastore",
        TYPES.helmRelease,
        rel((v) => {
          v["spire-server"].replicaCount = 3;
          v["spire-server"].dataStore.sql.databaseType = "postgres";
        }),
      ),
    ).toEqual([]);
    expect(
      await violations(
        "spire-ha-datastore",
        TYPES.helmRelease,
        rel((v) => (v["spire-server"].replicaCount = 3)),
      ),
    ).toEqual([
      "3 replicas share nothing on sqlite3: each server would have its own registrations",
    ]);
  });
  it("spire-production-recommendations", async () => {
    expect(await violations("spire-production-recommendations", TYPES.helmRelease, rel())).toEqual(
      [],
    );
    expect(
      await violations(
        "spire-production-recommendations",
        TYPES.helmRelease,
        rel((v) => (v.global.spire.recommendations.enabled = false)),
      ),
    ).toEqual(["global.spire.recommendations.enabled is not true"]);
  });
  it("clusterspiffeid-waits-on-spire", async () => {
    const spire = { type: TYPES.helmRelease, name: "spire", props: rel() };
    const crds = { type: TYPES.helmRelease, name: "crds", props: { chart: "spire-crds" } };
    const id = (deps: string[]) => ({ type: TYPES.clusterSpiffeId, name: "id", props: {}, deps });
    expect(
      await stackViolations("clusterspiffeid-waits-on-spire", [spire, crds, id(["spire"])]),
    ).toEqual([]);
    expect(
      await stackViolations("clusterspiffeid-waits-on-spire", [spire, crds, id(["crds"])]),
    ).toEqual(["id does not wait on the spire release"]);
  });
});

describe("rules for agents outside the cluster", () => {
  const withChallenge = (hc: Record<string, unknown>) => {
    const v = goodValues() as any;
    v["spire-server"].nodeAttestor = { httpChallenge: hc };
    return release(v);
  };
  const hardened = {
    enabled: true,
    allowedDNSPatterns: ["^edge-1\\.example\\.com$", "^edge-2\\.example\\.com$"],
    requiredPort: 80,
    allowNonRootPorts: false,
  };

  it("spire-http-challenge-hosts", async () => {
    const check = (props: Record<string, unknown>) =>
      violations("spire-http-challenge-hosts", TYPES.helmRelease, props);
    expect(await check(withChallenge(hardened))).toEqual([]);
    expect(await check(release(goodValues()))).toEqual([]);
    // Off: patterns do not matter.
    expect(await check(withChallenge({ enabled: false, allowedDNSPatterns: ["x"] }))).toEqual([]);
    expect(await check(withChallenge({ ...hardened, allowedDNSPatterns: [] }))).toEqual([
      "http_challenge is enabled with no allowedDNSPatterns: any host the server can reach may attest as an agent; list the nodes' hostnames",
    ]);
    expect(await check(withChallenge({ ...hardened, allowedDNSPatterns: undefined }))).toHaveLength(
      1,
    );
    expect(
      await check(
        withChallenge({
          ...hardened,
          allowedDNSPatterns: ["edge-1\\.example\\.com", "^edge-2\\.example\\.com", "^ok$"],
        }),
      ),
    ).toEqual([
      'allowedDNSPatterns entry "edge-1\\\\.example\\\\.com" is not anchored ^…$: SPIRE matches it anywhere in a hostname, so other hosts can attest; anchor it',
      'allowedDNSPatterns entry "^edge-2\\\\.example\\\\.com" is not anchored ^…$: SPIRE matches it anywhere in a hostname, so other hosts can attest; anchor it',
    ]);
    // An escaped dollar is a literal "$", not an anchor.
    expect(await check(withChallenge({ ...hardened, allowedDNSPatterns: ["^a\\$"] }))).toHaveLength(
      1,
    );
  });

  it("spire-http-challenge-root-port", async () => {
    const check = (props: Record<string, unknown>) =>
      violations("spire-http-challenge-root-port", TYPES.helmRelease, props);
    expect(await check(withChallenge(hardened))).toEqual([]);
    expect(await check(withChallenge({ ...hardened, requiredPort: 443 }))).toEqual([]);
    // Any privileged port, or no unprivileged one: only root answers.
    expect(
      await check(
        withChallenge({ ...hardened, requiredPort: undefined, allowNonRootPorts: false }),
      ),
    ).toEqual([]);
    expect(await check(withChallenge({ enabled: false }))).toEqual([]);
    // The chart's defaults: any port.
    expect(await check(withChallenge({ enabled: true, allowedDNSPatterns: ["^a\\.b$"] }))).toEqual([
      "http_challenge accepts unprivileged ports (requiredPort unset, allowNonRootPorts true): any local user of a listed host can answer the challenge and take the node's identity; set requiredPort 80 and allowNonRootPorts false",
    ]);
    expect(
      await check(withChallenge({ ...hardened, requiredPort: 8080, allowNonRootPorts: true })),
    ).toEqual([
      "http_challenge accepts unprivileged ports (requiredPort 8080, allowNonRootPorts true): any local user of a listed host can answer the challenge and take the node's identity; set requiredPort 80 and allowNonRootPorts false",
    ]);
  });

  it("static-entry-waits-on-spire", async () => {
    const spire = { type: TYPES.helmRelease, name: "spire", props: release(goodValues()) };
    const crds = { type: TYPES.helmRelease, name: "crds", props: { chart: "spire-crds" } };
    const entry = (deps: string[]) => ({
      type: TYPES.clusterStaticEntry,
      name: "entry",
      props: {},
      deps,
    });
    const component = {
      type: "spire-federation:index:Nodes",
      name: "nodes",
      props: {},
      deps: ["spire"],
    };
    expect(
      await stackViolations("static-entry-waits-on-spire", [spire, crds, entry(["spire"])]),
    ).toEqual([]);
    // Through another resource that waits on it.
    expect(
      await stackViolations("static-entry-waits-on-spire", [spire, component, entry(["nodes"])]),
    ).toEqual([]);
    expect(
      await stackViolations("static-entry-waits-on-spire", [spire, crds, entry(["crds"])]),
    ).toEqual(["entry does not wait on the spire release"]);
    expect(await stackViolations("static-entry-waits-on-spire", [spire, entry([])])).toEqual([
      "entry does not wait on the spire release",
    ]);
  });
});

describe("OpenZiti rules", () => {
  it("openziti-ca", async () => {
    const body = {
      name: "spire",
      isAuthEnabled: true,
      isAutoCaEnrollmentEnabled: false,
      isOttCaEnrollmentEnabled: false,
      externalIdClaim: {
        location: "SAN_URI",
        matcher: "SCHEME",
        matcherCriteria: "spiffe",
        parser: "NONE",
        parserCriteria: "",
        index: 0,
      },
    };
    expect(await violations("openziti-ca", TYPES.zitiCa, { kind: "ca", body })).toEqual([]);
    expect(
      await violations("openziti-ca", "pulumi-nodejs:dynamic/openziti:Identity", { body: {} }),
    ).toEqual([]);
    expect(
      await violations("openziti-ca", TYPES.zitiCa, {
        body: {
          ...body,
          isAuthEnabled: false,
          isAutoCaEnrollmentEnabled: true,
          isOttCaEnrollmentEnabled: true,
          externalIdClaim: { location: "COMMON_NAME", matcher: "ALL" },
        },
      }),
    ).toEqual([
      "isAuthEnabled is not true: SPIFFE certificates could not authenticate",
      "isAutoCaEnrollmentEnabled is not false: any SVID holder could enroll a new identity",
      "isOttCaEnrollmentEnabled is not false",
      'externalIdClaim {"location":"COMMON_NAME","matcher":"ALL"} does not read the spiffe:// URI SAN (location SAN_URI, matcher SCHEME, criteria "spiffe")',
    ]);
  });
});

describe("Curity rules", () => {
  const TOKEN = "https://login.example.com/oauth/v2/oauth-token";
  const assertion = { audience: TOKEN, tokenUrl: TOKEN, issuer: ISSUER, algorithm: "RS256" };
  const jwtBody = {
    "jwks-uri": { uri: `${ISSUER}/keys` },
    "assertion-jwt-validation": { issuer: ISSUER },
  };
  const client = (props: Record<string, unknown>) => ({
    type: CURITY_TYPES.client,
    name: "c",
    props,
  });
  const spire = (v = goodValues()) => ({
    type: TYPES.helmRelease,
    name: "spire",
    props: release(v),
  });

  it("curity-jwt-audience", async () => {
    const rule = "curity-jwt-audience";
    const helperConf = (audiences: string[]) => ({
      type: "kubernetes:core/v1:ConfigMap",
      name: "files-w",
      props: {
        metadata: { name: "w-spiffe", labels: { "spire-federation/workload": "w" } },
        data: {
          "helper.conf": `jwt_svids = [\n${audiences.map((a) => `  { jwt_audience = ${JSON.stringify(a)}, jwt_svid_file_name = "x.token" },`).join("\n")}\n]\n`,
        },
      },
    });
    const body = { ...jwtBody, "client-name": "w" };
    expect(
      await stackViolations(rule, [client({ body, assertion }), helperConf(["vault", TOKEN])]),
    ).toEqual([]);
    expect(await stackViolations(rule, [client({ body: {} })])).toEqual([]); // x509 only
    expect(await stackViolations(rule, [client({ body, assertion })])).toEqual([]); // no files
    expect(
      await stackViolations(rule, [
        client({ body, assertion: { ...assertion, audience: `${TOKEN}/` } }),
        helperConf([TOKEN]),
      ]),
    ).toEqual([
      `c: the audience ${TOKEN}/ must not end with a slash: it is the audience of JWT-SVIDs and Curity compares it exactly`,
      `c checks aud against ${TOKEN}/, but workload w's spiffe-helper fetches JWT-SVIDs for ${TOKEN}: Curity rejects every assertion whose aud is not its token endpoint; request a JWT-SVID for ${TOKEN}/`,
    ]);
    expect(await stackViolations(rule, [client({ body, assertion }), helperConf([])])).toEqual([
      `c checks aud against ${TOKEN}, but workload w's spiffe-helper fetches JWT-SVIDs for no audience: Curity rejects every assertion whose aud is not its token endpoint; request a JWT-SVID for ${TOKEN}`,
    ]);
  });

  it("curity-jwt-issuer", async () => {
    const rule = "curity-jwt-issuer";
    expect(await stackViolations(rule, [spire(), client({ body: jwtBody, assertion })])).toEqual(
      [],
    );
    expect(
      await stackViolations(rule, [
        spire(),
        client({
          body: { "mutual-tls": {}, "secondary-authentication-method": jwtBody },
          assertion,
        }),
      ]),
    ).toEqual([]);
    expect(
      await stackViolations(rule, [
        spire(),
        client({ body: { "jwks-uri": { uri: `${ISSUER}/keys` } }, assertion }),
      ]),
    ).toEqual([
      "c has no assertion-jwt-validation issuer: Curity then applies OpenID Connect Core rules (iss = sub = client id, jti required), which JWT-SVIDs never meet",
    ]);
    expect(
      await stackViolations(rule, [
        spire(),
        client({
          body: {
            "jwks-uri": { uri: `${ISSUER}/jwks` },
            "assertion-jwt-validation": { issuer: `${ISSUER}/` },
          },
          assertion,
        }),
      ]),
    ).toEqual([
      `c accepts assertions from issuer ${ISSUER}/, but SPIRE mints JWT-SVIDs with iss ${ISSUER}: Curity compares them exactly`,
      `c accepts issuer ${ISSUER}/, not SPIRE's ${ISSUER}`,
      `c fetches keys from ${ISSUER}/jwks, not from SPIRE's JWKS ${ISSUER}//keys: signatures of JWT-SVIDs will not verify`,
    ]);
    expect(await stackViolations(rule, [client({ body: {}, assertion })])).toEqual([
      "c expects JWT-SVIDs but has no jwks-uri verifier",
    ]);
  });

  it("curity-jwt-algorithm", async () => {
    const rule = "curity-jwt-algorithm";
    const allowed = { ...assertion, allowedAlgorithms: ["RS256", "ES256"] };
    expect(
      await stackViolations(rule, [spire(), client({ body: jwtBody, assertion: allowed })]),
    ).toEqual([]);
    const ec = goodValues();
    ec["spire-server"].caKeyType = "ec-p384";
    expect(
      await stackViolations(rule, [spire(ec), client({ body: jwtBody, assertion: allowed })]),
    ).toEqual([
      "SPIRE's caKeyType is ec-p384 but Curity JWT clients (c) exist: their token profile allows RS256, ES256 for client assertions (or the client expects only that), and Curity rejects JWT-SVIDs signed otherwise at token time: allow SPIRE's algorithm in the profile (curity.signatureAlgorithms) or change spire.caKeyType",
    ]);
    // without a declared list, the algorithm the client expects
    expect(await stackViolations(rule, [spire(ec), client({ body: jwtBody, assertion })])).toEqual([
      "SPIRE's caKeyType is ec-p384 but Curity JWT clients (c) exist: their token profile allows RS256 for client assertions (or the client expects only that), and Curity rejects JWT-SVIDs signed otherwise at token time: allow SPIRE's algorithm in the profile (curity.signatureAlgorithms) or change spire.caKeyType",
    ]);
  });

  it("curity-trust-store-ca", async () => {
    const rule = "curity-trust-store-ca";
    const ca = await makeCertificate({ subject: "CN=root", ca: true });
    const leaf = await makeCertificate({
      subject: "CN=oidc.example.com",
      ca: false,
      issuer: { subject: "CN=root", privateKey: ca.keys.privateKey },
    });
    const store = (pem: string) => ({ kind: "serverTrustStore", key: "spiffe-discovery-ca", pem });
    expect(await violations(rule, CURITY_TYPES.serverTrustStore, store(ca.pem))).toEqual([]);
    expect(
      await violations(rule, CURITY_TYPES.clientTrustStore, { kind: "clientTrustStore" }),
    ).toEqual([]); // unknown at preview
    expect(await violations(rule, CURITY_TYPES.serverTrustStore, store(leaf.pem))).toEqual([
      "the serverTrustStore entry spiffe-discovery-ca: its certificate is a leaf certificate (CN=oidc.example.com), not a CA: chains cannot be anchored to it",
    ]);
  });
});

describe("Istio rules", () => {
  const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";
  const istioRelease = (chart: string, values: unknown, extra: Record<string, unknown> = {}) => ({
    chart,
    name: chart,
    namespace: chart === "gateway" ? "istio-ingress" : "istio-system",
    repositoryOpts: { repo: ISTIO_REPO },
    values,
    ...extra,
  });
  const spire = { type: TYPES.helmRelease, name: "spire", props: release(goodValues()) };
  const gatewayValues = () =>
    istioGatewayValues({ gateway: { namespace: "istio-ingress", name: "gw" } });
  const td = "prod.example.com";

  it("istio-trust-domain", async () => {
    const istiod = (values: unknown) => ({
      type: TYPES.helmRelease,
      name: "istiod",
      props: istioRelease("istiod", values),
    });
    const ok = istiod(istiodValues({ trustDomain: td }));
    expect(await stackViolations("istio-trust-domain", [spire, ok])).toEqual([]);
    // no SPIRE release in the stack (install: false elsewhere): nothing to compare
    expect(await stackViolations("istio-trust-domain", [istiod({})])).toEqual([]);
    expect(await stackViolations("istio-trust-domain", [spire, istiod({})])).toEqual([
      "meshConfig.trustDomain is cluster.local but SPIRE issues SVIDs in prod.example.com: every proxy would reject its peers' certificates; set meshConfig.trustDomain to prod.example.com",
    ]);
    expect(
      await stackViolations("istio-trust-domain", [
        spire,
        istiod(istiodValues({ trustDomain: "other.example.com" })),
      ]),
    ).toEqual([
      "meshConfig.trustDomain is other.example.com but SPIRE issues SVIDs in prod.example.com: every proxy would reject its peers' certificates; set meshConfig.trustDomain to prod.example.com",
    ]);
    // an istiod chart from another repository is not Istio's
    expect(
      await stackViolations("istio-trust-domain", [
        spire,
        istiod({}),
        {
          type: TYPES.helmRelease,
          name: "other",
          props: { ...istioRelease("istiod", {}), repositoryOpts: { repo: "https://x.test" } },
        },
      ]),
    ).toHaveLength(1);
  });

  it("istio-spire-template", async () => {
    const istiod = (values: unknown) =>
      violations("istio-spire-template", TYPES.helmRelease, istioRelease("istiod", values));
    const withTemplate = (spire: unknown) => ({
      sidecarInjectorWebhook: { templates: { spire } },
    });
    expect(await istiod(istiodValues({ trustDomain: td }))).toEqual([]);
    // Istio's documented form (volume and an explicit mount at /run/…) passes too
    expect(
      await istiod(
        withTemplate(
          "spec:\n  containers:\n  - name: istio-proxy\n    volumeMounts:\n    - name: workload-socket\n      mountPath: /run/secrets/workload-spiffe-uds\n      readOnly: true\n  volumes:\n  - name: workload-socket\n    csi:\n      driver: csi.spiffe.io\n      readOnly: true\n",
        ),
      ),
    ).toEqual([]);
    expect(await istiod({ meshConfig: { trustDomain: td } })).toEqual([
      "sidecarInjectorWebhook.templates.spire is not set: pods that ask for it fail injection, the others get istiod's certificates instead of SPIRE's",
    ]);
    expect(await istiod(withTemplate("spec: [unclosed"))).toEqual([
      expect.stringMatching(/^the spire template is not YAML: /),
    ]);
    expect(
      await istiod(
        withTemplate(
          "spec:\n  initContainers:\n  - name: istio-proxy\n    volumeMounts:\n    - name: workload-socket\n      mountPath: /spire\n  volumes:\n  - name: workload-socket\n    emptyDir: {}\n",
        ),
      ),
    ).toEqual([
      "the spire template does not give the workload-socket volume the SPIFFE CSI driver (csi: { driver: csi.spiffe.io, readOnly: true }): istio-agent would find no SPIRE socket and use istiod's CA",
      "the spire template mounts workload-socket into istio-proxy at /spire; istio-agent looks for the socket in /var/run/secrets/workload-spiffe-uds",
    ]);
    expect(
      await istiod(
        withTemplate(
          "spec:\n  volumes:\n  - name: workload-socket\n    csi:\n      driver: csi.spiffe.io\n",
        ),
      ),
    ).toEqual([
      "the spire template's CSI volume is not readOnly: the SPIFFE CSI driver mounts read-only volumes only",
    ]);

    const gateway = (values: unknown) =>
      violations("istio-spire-template", TYPES.helmRelease, istioRelease("gateway", values));
    expect(await gateway(gatewayValues())).toEqual([]);
    expect(
      await gateway({ podAnnotations: { "inject.istio.io/templates": "spire, gateway" } }),
    ).toEqual([]);
    expect(await gateway({})).toEqual([
      'the gateway\'s pods are injected with "gateway" only: their proxy would use istiod\'s certificates, which SPIRE-backed peers reject; set podAnnotations["inject.istio.io/templates"] to "gateway,spire"',
    ]);
    // values unknown during a preview: silent; other charts: not looked at
    expect(
      await violations("istio-spire-template", TYPES.helmRelease, {
        ...istioRelease("gateway", {}),
        values: undefined,
      }),
    ).toEqual([]);
    expect(await violations("istio-spire-template", TYPES.helmRelease, release({}))).toEqual([]);
  });

  it("istio-waits-on-spire", async () => {
    const sid = "spiffe://prod.example.com/ns/istio-ingress/sa/gw";
    const id = (template: string, deps = ["spire"]) => ({
      type: TYPES.clusterSpiffeId,
      name: "id",
      props: { spec: { spiffeIDTemplate: template } },
      deps,
    });
    const base = { type: TYPES.helmRelease, name: "base", props: istioRelease("base", {}) };
    const istiod = (deps: string[]) => ({
      type: TYPES.helmRelease,
      name: "istiod",
      props: istioRelease("istiod", {}),
      deps,
    });
    const gateway = (deps: string[]) => ({
      type: TYPES.helmRelease,
      name: "gateway",
      props: istioRelease("gateway", gatewayValues()),
      deps,
    });
    const good = [
      spire,
      { ...base, deps: ["spire"] },
      istiod(["spire", "base"]),
      id(sid),
      gateway(["istiod", "id"]),
    ];
    expect(await stackViolations("istio-waits-on-spire", good)).toEqual([]);
    expect(
      await stackViolations("istio-waits-on-spire", [
        spire,
        base,
        istiod(["base"]),
        id("spiffe://prod.example.com/ns/istio-ingress/sa/other"),
        gateway(["id"]),
      ]),
    ).toEqual([
      "base does not wait on the spire release: injected pods would mount the SPIFFE CSI driver before it exists",
      "istiod does not wait on the spire release: injected pods would mount the SPIFFE CSI driver before it exists",
      "gateway does not wait on a ClusterSPIFFEID for /ns/istio-ingress/sa/gw: the gateway could start before SPIRE knows its identity",
    ]);
    // the service account: serviceAccount.name, else the gateway's name, else the release name
    const named = (values: unknown) => ({
      type: TYPES.helmRelease,
      name: "gateway",
      props: istioRelease("gateway", values, { name: "rel" }),
      deps: ["id"],
    });
    const ns = "spiffe://prod.example.com/ns/istio-ingress/sa/";
    for (const [values, sa] of [
      [{ serviceAccount: { name: "custom" }, name: "gw" }, "custom"],
      [{ name: "gw" }, "gw"],
      [{}, "rel"],
    ] as const) {
      expect(
        await stackViolations("istio-waits-on-spire", [spire, id(ns + sa), named(values)]),
      ).toEqual([]);
    }
  });
});

describe("root of trust rules", () => {
  it("root-key-in-state is advisory by default, mandatory when configured", async () => {
    expect(
      await violations("root-key-in-state", "tls:index/selfSignedCert:SelfSignedCert", {}),
    ).toEqual([]);
    expect(
      await violations("root-key-in-state", TYPES.tlsKey, {
        algorithm: "ECDSA",
        ecdsaCurve: "P256",
      }),
    ).toHaveLength(1);
    const p = policy("root-key-in-state");
    expect(effectiveConfig(p, {}).level).toBe("advisory");
    expect(
      effectiveConfig(
        p,
        JSON.parse(readFileSync(path.join(ROOT, "policy", "config", "prod.json"), "utf8")),
      ).level,
    ).toBe("mandatory");
  });
  it("ca-key-strength", async () => {
    expect(
      await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "ECDSA", ecdsaCurve: "P256" }),
    ).toEqual([]);
    expect(
      await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "RSA", rsaBits: 4096 }),
    ).toEqual([]);
    expect(
      await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "RSA", rsaBits: 1024 }),
    ).toEqual(["RSA key of 1024 bits; at least 2048 required"]);
    expect(await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "ECDSA" })).toEqual([
      "ECDSA curve P224 is not one of P256, P384, P521",
    ]);
    expect(await violations("ca-key-strength", TYPES.tlsKey, { algorithm: "ED25519" })).toEqual([
      "key algorithm ED25519 is not RSA or ECDSA",
    ]);
    expect(
      await violations(
        "ca-key-strength",
        TYPES.tlsKey,
        { algorithm: "RSA", rsaBits: 2048 },
        { minRsaBits: 3072 },
      ),
    ).toHaveLength(1);
    const v = goodValues();
    expect(await violations("ca-key-strength", TYPES.helmRelease, release(v))).toEqual([]);
    v["spire-server"].caKeyType = "rsa-1024";
    expect(await violations("ca-key-strength", TYPES.helmRelease, release(v))).toEqual([
      "SPIRE caKeyType rsa-1024 is weaker than RSA 2048",
    ]);
  });
});

describe("the pack", () => {
  it("every rule has a name, description, severity, enforcement level, and a test above", () => {
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z0-9-]+$/);
      expect(p.description.length).toBeGreaterThan(20);
      expect(["low", "medium", "high", "critical"]).toContain(p.severity);
      expect(["advisory", "mandatory"]).toContain(p.enforcementLevel);
    }
    expect([...tested].sort()).toEqual(policies.map((p) => p.name).sort());
  });

  it("policy config problems are named", () => {
    expect(
      policyConfigProblems(policies, {
        "spire-jwt-svid-ttl": { maxHourz: 3 },
        nope: "mandatory",
        "ca-key-strength": "blocking" as any,
      }),
    ).toEqual([
      "spire-jwt-svid-ttl.maxHourz: no such property",
      "nope: no such policy",
      "ca-key-strength: enforcement level must be one of advisory, mandatory, remediate, disabled",
    ]);
  });
});

describe("the example stacks and the broken fixture", () => {
  it.each(["dev", "prod", "mesh"])("%s plans with no mandatory violation", async (stack) => {
    const plan = await planStack(stack);
    const v = await runPolicies(policies, plan.resources);
    expect(v.filter((x) => x.enforcementLevel === "mandatory")).toEqual([]);
    expect(v.map((x) => x.policy)).toEqual(stack === "prod" ? [] : ["root-key-in-state"]);
  });

  it("the broken copy of prod shows every rule", async () => {
    const plan = JSON.parse(
      readFileSync(path.join(ROOT, "test", "fixtures", "plans", "prod-broken.json"), "utf8"),
    ) as Plan;
    const v = await runPolicies(policies, plan.resources, {
      "entra-credentials-per-identity": { maxCredentialsPerIdentity: 1 },
      // The broken copy's JWT-SVIDs live 48h (too long); ask for more than that.
      "entra-jwt-svid-ttl": { minMinutes: 50 * 60 },
      "root-key-in-state": "mandatory",
    });
    expect([...new Set(v.map((x) => x.policy))].sort()).toEqual(policies.map((p) => p.name).sort());
    expect(
      v.every((x) => x.enforcementLevel === "mandatory" || x.policy === "gcp-no-pool-wide-grant"),
    ).toBe(true);
    const text = formatViolations(v);
    expect(text).toContain(
      "[mandatory] vault-jwt-role: spire-federation-vault-role-payments-api (vault:jwt/authBackendRole:AuthBackendRole): boundAudiences is empty",
    );
    expect(text).toContain(
      "[mandatory] clusterspiffeid-waits-on-spire: spire-federation-spire-id-ledger",
    );
    expect(text).toContain(
      "[mandatory] static-entry-waits-on-spire: spire-federation-nodes-entry-edge-router",
    );
    expect(text).toContain(
      "[mandatory] istio-trust-domain: spire-federation-istio-istiod (kubernetes:helm.sh/v3:Release): meshConfig.trustDomain is cluster.local but SPIRE issues SVIDs in example.org",
    );
    expect(text).toContain(
      '[mandatory] istio-spire-template: spire-federation-istio-gateway (kubernetes:helm.sh/v3:Release): the gateway\'s pods are injected with "gateway" only',
    );
  });

  it("the plan CLI exits 3 on a mandatory violation and 2 on a bad policy config", () => {
    const plan = path.join(ROOT, "bin", "tools", "plan.js");
    const strict = spawnSync(
      process.execPath,
      [plan, "--stack", "dev", "--policy-config", path.join(ROOT, "policy", "config", "prod.json")],
      { encoding: "utf8" },
    );
    expect(strict.status).toBe(3);
    expect(strict.stdout).toContain(
      "Policies: 1 violation, 1 mandatory\n  [mandatory] root-key-in-state: spire-federation-cert-manager-root-key",
    );
    const relaxed = spawnSync(process.execPath, [plan, "--stack", "dev"], { encoding: "utf8" });
    expect(relaxed.status).toBe(0);
    expect(relaxed.stdout).toContain("[advisory] root-key-in-state");
    const bad = spawnSync(
      process.execPath,
      [plan, "--stack", "dev", "--policy-config", path.join(ROOT, "package.json")],
      { encoding: "utf8" },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("name: no such policy");
  });
});
