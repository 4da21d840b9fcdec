/**
 * The azure check against the spec-shaped ARM and Entra double (test/verify/azure-server.ts,
 * contract test/contracts/azure) and a real HTTPS issuer: credentials field by field, the count
 * limit, paging, and the real client-credentials exchange by @azure/identity's
 * ClientAssertionCredential with the workload's JWT-SVID, its AADSTS errors mapped to causes.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ENTRA_AUDIENCE } from "../../components/federation/azure/rules";
import { startAzure, type AzureDouble, type AzureState, type Fic } from "./azure-server";
import {
  makeKey,
  PAYMENTS_ID,
  runVerify,
  signJwt,
  startIssuer,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
  type Issuer,
} from "./support";

const ARM_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.arm-operator-9d2e";
const SUB = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
const CLIENT = "5b1f0c2e-8a4d-4e6f-9b3a-1c2d3e4f5a6b";
const TENANT = "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f7a";
const key = makeKey("k1");
let issuer: Issuer;
let azure: AzureDouble;
let state: AzureState;
let dir: string;

/** The stack: Vault's test stack plus Azure, payments-api granted in both. */
function azureStack(): Record<string, unknown> {
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  return {
    ...base,
    "azure-native:subscriptionId": SUB,
    "spire-federation:azure": { resourceGroupName: "rg-spiffe", location: "westeurope" },
    "spire-federation:workloads": [{ ...workloads[0], azure: { roleAssignments: [] } }],
  };
}

function outputs(): Record<string, unknown> {
  const o = vaultOutputs(issuer.url);
  const fed = o.federation as Record<string, Record<string, unknown>>;
  fed["payments-api"].azure = { clientId: CLIENT, tenantId: TENANT, principalId: "p" };
  return o;
}

function planned(): Fic {
  return {
    name: "payments-api",
    issuer: issuer.url,
    subject: PAYMENTS_ID,
    audiences: [ENTRA_AUDIENCE],
  };
}

beforeAll(async () => {
  issuer = await startIssuer({ keys: [key.jwk] });
  state = { armToken: ARM_TOKEN, identities: {}, pageSize: 100 };
  azure = await startAzure(state, issuer.tls);
  dir = writeStack("t", azureStack());
});
afterAll(async () => {
  await azure.server.close();
  await issuer.close();
});
beforeEach(() => {
  state.pageSize = 100;
  state.identities = {
    "rg-spiffe/payments-api": {
      clientId: CLIENT,
      tenantId: TENANT,
      principalId: "p",
      fics: [planned()],
    },
  };
  azure.violations.length = 0;
  azure.tokenForms.length = 0;
  azure.server.reset();
});

function svidDir(token: string): string {
  const d = mkdtempSync(path.join(tmpdir(), "svid-"));
  writeFileSync(path.join(d, "azure-jwt-svid.token"), token);
  return d;
}

const run = (extra: string[] = []) =>
  runVerify(dir, "t", outputs(), ["--checks", "azure", ...extra], {
    caPem: issuer.caPem,
    env: {
      AZURE_ARM_TOKEN: ARM_TOKEN,
      AZURE_RESOURCE_MANAGER_URL: azure.server.url,
      AZURE_AUTHORITY_HOST: azure.server.url,
    },
  });

describe("verify azure: identities and federated credentials through ARM", () => {
  it("passes what the plan deployed, reading only the contract's operations", async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `PASS azure: credential payments-api.issuer: credential payments-api.issuer is "${issuer.url}"`,
    );
    expect(r.stdout).toContain(
      "PASS azure: credentials of payments-api: 1 of at most 20 federated credentials",
    );
    expect(r.stdout).toContain(
      `PASS azure: identity payments-api clientId: identity payments-api clientId is "${CLIENT}"`,
    );
    expect(azure.violations).toEqual([]);
    expect(azure.server.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      `GET /subscriptions/${SUB}/resourceGroups/rg-spiffe/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments-api?api-version=2023-01-31`,
      `GET /subscriptions/${SUB}/resourceGroups/rg-spiffe/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments-api/federatedIdentityCredentials?api-version=2023-01-31`,
    ]);
    expect(r.stdout + r.stderr).not.toContain(ARM_TOKEN);
  });

  it("names field, expected, found and the fix for a wrong issuer, subject and audience", async () => {
    state.identities["rg-spiffe/payments-api"].fics = [
      {
        ...planned(),
        issuer: `${issuer.url}/`,
        subject: "spiffe://test.example.com/ns/payments/sa/other",
        audiences: ["api://other"],
      },
    ];
    const r = await run();
    expect(r.code).toBe(1);
    for (const line of [
      `FAIL azure: credential payments-api.issuer: credential payments-api.issuer: expected "${issuer.url}", found "${issuer.url}/"`,
      `FAIL azure: credential payments-api.subject: credential payments-api.subject: expected "${PAYMENTS_ID}", found "spiffe://test.example.com/ns/payments/sa/other"`,
      `FAIL azure: credential payments-api.audiences: credential payments-api.audiences: expected ["${ENTRA_AUDIENCE}"], found ["api://other"]`,
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).toContain(
      "fix: pulumi up restores it (someone changed it outside the stack), or fix the stack config",
    );
  });

  it("follows nextLink and fails an identity over Entra's 20-credential limit", async () => {
    state.pageSize = 5;
    const extra = Array.from({ length: 20 }, (_, i) => ({
      ...planned(),
      name: `other-${i}`,
      subject: `spiffe://x/${i}`,
    }));
    state.identities["rg-spiffe/payments-api"].fics = [...extra, planned()];
    const r = await run();
    expect(r.stdout).toContain(
      "FAIL azure: credentials of payments-api: 21 of at most 20 federated credentials",
    );
    expect(r.stdout).toContain("PASS azure: credential payments-api.subject");
    expect(azure.server.requests).toHaveLength(1 + 5);
    expect(azure.violations).toEqual([]);
  });

  it("says a missing identity is missing, and skips without credentials", async () => {
    state.identities = {};
    const r = await run();
    expect(r.stdout).toMatch(
      /FAIL azure: identity payments-api: identity: GET https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*\/userAssignedIdentities\/payments-api: HTTP 404/,
    );
    expect(r.stdout).toContain("fix: the identity is missing: pulumi up restores it");
    const none = await runVerify(dir, "t", outputs(), ["--checks", "azure"], {
      caPem: issuer.caPem,
      env: {},
    });
    expect(none.stdout).toMatch(
      /SKIP azure: credentials: (no AZURE_ARM_TOKEN|DefaultAzureCredential)/,
    );
  });
});

describe("verify azure: the client-credentials exchange by @azure/identity", () => {
  const svid = (claims: Record<string, unknown> = {}) =>
    signJwt(key, { iss: issuer.url, sub: PAYMENTS_ID, aud: [ENTRA_AUDIENCE], ...claims });

  it("passes: the SDK posts the workload's SVID as the client assertion for the deployed client", async () => {
    const token = svid();
    const r = await run(["--svid-dir", svidDir(token)]);
    expect(r.stdout).toContain(
      `PASS azure: token exchange: Entra issued an access token for client ${CLIENT}`,
    );
    expect(azure.tokenForms).toHaveLength(1);
    expect(azure.tokenForms[0]).toMatchObject({
      grant_type: "client_credentials",
      client_id: CLIENT,
      client_assertion: token,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout + r.stderr).not.toContain("entra.access.7c1d");
  });

  it("maps AADSTS70021 (subject mismatch) to the three values side by side", async () => {
    state.identities["rg-spiffe/payments-api"].fics = [
      { ...planned(), subject: "spiffe://test.example.com/ns/payments/sa/old" },
    ];
    const r = await run(["--svid-dir", svidDir(svid())]);
    expect(r.stdout).toContain(
      "FAIL azure: token exchange: Entra refused the assertion (AADSTS70021)",
    );
    expect(r.stdout).toContain(
      `fix: the token matches the plan (issuer: token "${issuer.url}" / plan "${issuer.url}"; subject: token "${PAYMENTS_ID}" / plan "${PAYMENTS_ID}"; audience: token ["${ENTRA_AUDIENCE}"] / plan "${ENTRA_AUDIENCE}"), so the credential in Entra does not: see the credential fields above, pulumi up restores them`,
    );
  });

  it("maps AADSTS70021 for a token with the wrong audience, marking the field that differs", async () => {
    const r = await run(["--svid-dir", svidDir(svid({ aud: ["vault"] }))]);
    expect(r.stdout).toContain(
      `audience: token ["vault"] / plan "${ENTRA_AUDIENCE}" (differs)): the workload's token differs from the plan where marked`,
    );
  });

  it("maps AADSTS700024 (an expired SVID) to the expiry and the helper", async () => {
    const exp = Math.floor(Date.now() / 1000) - 60;
    const r = await run(["--svid-dir", svidDir(svid({ exp, iat: exp - 300 }))]);
    expect(r.stdout).toContain(
      "FAIL azure: token exchange: Entra refused the assertion (AADSTS700024)",
    );
    expect(r.stdout).toContain(
      `fix: the assertion is outside its valid time range (exp ${new Date(exp * 1000).toISOString()}): the helper must refresh azure-jwt-svid.token before it expires`,
    );
  });
});
