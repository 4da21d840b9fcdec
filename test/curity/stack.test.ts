/**
 * The `curity` example stack (three workloads: jwt, x509, both) under mocks: trust stores,
 * clients and mappings with their order, secrets, per-workload outputs, planned with the policy
 * pack; and a JWT-only stack on a public endpoint.
 */
import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { policies } from "../../components/policies";
import type { ProgramRun } from "../../tools/harness";
import { runPolicies } from "../../tools/policy-runner";
import { planStack } from "../compiled";
import { all, find, runRaw, runStackFile } from "../helpers";
import { ccfg, MESH } from "./stack-config";

const CLIENT = "pulumi-nodejs:dynamic/curity:Client";
const MAPPING = "pulumi-nodejs:dynamic/curity:ClientIdMapping";
const ROOT_STORE = "pulumi-nodejs:dynamic/curity:ClientTrustStore";
const SERVER_STORE = "pulumi-nodejs:dynamic/curity:ServerTrustStore";
const HTTP = "pulumi-nodejs:dynamic/curity:HttpClient";

describe("the curity stack (jwt, x509, both) under mocks", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStackFile("curity");
  });

  it("pushes the stable root (the pinned ClusterIssuer root) into the client trust store, and the discovery CA into the server trust store", () => {
    const rootStore = find(run, ROOT_STORE);
    expect(rootStore.name).toBe("spire-federation-curity-root-ca");
    expect(rootStore.rawInputs).toMatchObject({ kind: "clientTrustStore", key: "spiffe-root-ca" });
    const pem = (rootStore.rawInputs as any).pem as string;
    expect(new X509Certificate(pem).subject).toContain(
      "Example Corp SPIFFE Root CA (Curity stack)",
    );
    expect(run.outputs.rootCaPem).toBe(pem);
    const server = find(run, SERVER_STORE);
    expect(new X509Certificate((server.rawInputs as any).pem).subject).toContain(
      "Example Corp Internal TLS CA",
    );
    const http = find(run, HTTP);
    expect((http.rawInputs as any).body).toEqual({
      id: "spiffe-jwks",
      tls: { "use-truststore": true },
    });
    expect(http.dependencies).toEqual([server.urn]);
  });

  it("one client per workload with the verifier its auth asks for", () => {
    const byName = (w: string) => find(run, CLIENT, `-client-${w}`);
    const jwks = {
      uri: "https://oidc.apps.spiffe.example.com/keys",
      "http-client": "spiffe-jwks",
    };
    const issuer = { issuer: "https://oidc.apps.spiffe.example.com" };
    expect((byName("reports-api").rawInputs as any).body).toEqual({
      id: "spiffe-reports-api",
      "client-name": "reports-api",
      description: "spire-federation: spiffe://apps.spiffe.example.com/ns/reports/sa/reports-api",
      scope: ["reports"],
      capabilities: { "client-credentials": [null] },
      "jwks-uri": jwks,
      "assertion-jwt-validation": issuer,
    });
    expect((byName("batch-export").rawInputs as any).body).toMatchObject({
      scope: ["exports:write", "reports"],
      "mutual-tls": {
        "client-uri": "spiffe://apps.spiffe.example.com/ns/batch/sa/batch-export",
        "trusted-ca": ["spiffe-root-ca"],
      },
    });
    expect((byName("batch-export").rawInputs as any).body["jwks-uri"]).toBeUndefined();
    expect((byName("ledger").rawInputs as any).body).toMatchObject({
      "mutual-tls": { "trusted-ca": ["spiffe-root-ca"] },
      "secondary-authentication-method": { "jwks-uri": jwks, "assertion-jwt-validation": issuer },
    });
    expect((byName("ledger").rawInputs as any).assertion).toEqual({
      audience: "https://login.apps.example.com/oauth/v2/oauth-token",
      tokenUrl: MESH,
      issuer: "https://oidc.apps.spiffe.example.com",
      algorithm: "ES256",
      allowedAlgorithms: ["ES256"],
    });
    expect((byName("batch-export").rawInputs as any).assertion).toBeUndefined();
    // data edges: the client waits on what it names
    expect(byName("batch-export").dependencies).toEqual([find(run, ROOT_STORE).urn]);
    expect([...byName("ledger").dependencies].sort()).toEqual(
      [find(run, ROOT_STORE).urn, find(run, HTTP).urn].sort(),
    );
  });

  it("maps each JWT workload's SPIFFE ID to its client, after the client", () => {
    const maps = all(run, MAPPING);
    expect(maps.map((m) => (m.rawInputs as any).body)).toEqual([
      {
        sub: "spiffe://apps.spiffe.example.com/ns/reports/sa/reports-api",
        "client-id": "spiffe-reports-api",
      },
      {
        sub: "spiffe://apps.spiffe.example.com/ns/finance/sa/ledger",
        "client-id": "spiffe-ledger",
      },
    ]);
    expect(maps[0].dependencies).toEqual([find(run, CLIENT, "-client-reports-api").urn]);
  });

  it("keeps the admin password secret and waits on nothing in the cluster", () => {
    for (const r of run.resources.filter((x) =>
      x.type.startsWith("pulumi-nodejs:dynamic/curity"),
    )) {
      expect(r.inputs.connection).toBe("[secret]");
      expect(r.inputs.__provider).toBe("[dynamic provider]");
      expect(r.dependencies.some((d) => d.includes("kubernetes:"))).toBe(false);
    }
    expect(JSON.stringify(run.resources.map((r) => r.inputs))).not.toContain(
      "offline-plan-placeholder-secret",
    );
  });

  it("outputs per workload: client id, token endpoint, audience, curl of each flow", () => {
    const fed = run.outputs.federation as any;
    expect(fed["reports-api"].curity).toEqual({
      clientId: "spiffe-reports-api",
      tokenUrl: MESH,
      audience: "https://login.apps.example.com/oauth/v2/oauth-token",
      jwtSvidFile: "/run/spiffe/certs/curity-jwt-svid.token",
      scopes: ["reports"],
      curl: {
        jwt: expect.stringMatching(
          new RegExp(
            `^curl -sS -X POST '${MESH}' .*client_assertion=\\$\\(cat /run/spiffe/certs/curity-jwt-svid\\.token\\)`,
          ),
        ),
      },
    });
    expect(fed["batch-export"].curity).toMatchObject({
      clientId: "spiffe-batch-export",
      mtlsTokenEndpoint: "https://login.apps.example.com/oauth/v2/oauth-token-mutual-tls",
      curl: { x509: expect.stringContaining("--cert /run/spiffe/certs/svid.pem") },
    });
    expect(fed["batch-export"].curity.audience).toBeUndefined();
    expect(Object.keys(fed.ledger.curity.curl).sort()).toEqual(["jwt", "x509"]);
  });

  it("plans with the policy pack and no violation", async () => {
    const plan = await planStack("curity");
    expect(await runPolicies(policies, plan.resources)).toEqual([]);
    expect(
      plan.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/curity")),
    ).toHaveLength(8);
  });
});

describe("Curity without X.509 or a discovery CA", () => {
  it("a JWT-only stack on a public endpoint: no trust store, no HTTP client; generated root", async () => {
    const c = ccfg();
    c.workloads[1].curity = { scopes: ["b"], auth: "jwt" };
    const run = await runRaw(c, { secretKeys: ["curity"] });
    expect(all(run, ROOT_STORE)).toEqual([]);
    expect(all(run, SERVER_STORE)).toEqual([]);
    expect(all(run, HTTP)).toEqual([]);
    expect(all(run, CLIENT)).toHaveLength(2);
    expect((find(run, CLIENT, "-client-api").rawInputs as any).body["jwks-uri"]).toEqual({
      uri: "https://oidc.test.example.com/keys",
    });
    expect((find(run, CLIENT, "-client-api").rawInputs as any).assertion.algorithm).toBe("RS256");
  });
});
