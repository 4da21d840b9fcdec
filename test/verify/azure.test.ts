/**
 * The azure check against the spec-shaped ARM and Entra double (test/verify/azure-server.ts,
 * contract test/contracts/azure) and a real HTTPS issuer: credentials field by field, the count
 * limit, paging, and the real client-credentials exchange by @azure/identity's
 * ClientAssertionCredential with the workload's JWT-SVID, its AADSTS errors mapped to causes.
 */
import { describe, expect, it } from "vitest";
import { ENTRA_AUDIENCE } from "../../components/federation/azure/rules";
import {
  ARM_TOKEN,
  azureOutputs,
  azureSvidDir as svidDir,
  CLIENT,
  plannedFic,
  SUB,
  useAzure,
} from "./azure-fixture";
import { PAYMENTS_ID, runVerify, signJwt } from "./support";

const f = useAzure();
const planned = () => plannedFic(f.issuer.url);
const run = (extra: string[] = []) => f.run({ extra });

describe("verify azure: identities and federated credentials through ARM", () => {
  it("passes what the plan deployed, reading only the contract's operations", async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `PASS azure: credential payments-api.issuer: credential payments-api.issuer is "${f.issuer.url}"`,
    );
    expect(r.stdout).toContain(
      "PASS azure: credentials of payments-api: 1 of at most 20 federated credentials",
    );
    expect(r.stdout).toContain(
      `PASS azure: identity payments-api clientId: identity payments-api clientId is "${CLIENT}"`,
    );
    expect(f.azure.violations).toEqual([]);
    expect(f.azure.server.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      `GET /subscriptions/${SUB}/resourceGroups/rg-spiffe/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments-api?api-version=2023-01-31`,
      `GET /subscriptions/${SUB}/resourceGroups/rg-spiffe/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments-api/federatedIdentityCredentials?api-version=2023-01-31`,
    ]);
    expect(r.stdout + r.stderr).not.toContain(ARM_TOKEN);
  });

  it("names field, expected, found and the fix for a wrong issuer, subject and audience", async () => {
    f.state.identities["rg-spiffe/payments-api"].fics = [
      {
        ...planned(),
        issuer: `${f.issuer.url}/`,
        subject: "spiffe://test.example.com/ns/payments/sa/other",
        audiences: ["api://other"],
      },
    ];
    const r = await run();
    expect(r.code).toBe(1);
    for (const line of [
      `FAIL azure: credential payments-api.issuer: credential payments-api.issuer: expected "${f.issuer.url}", found "${f.issuer.url}/"`,
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
    f.state.pageSize = 5;
    const extra = Array.from({ length: 20 }, (_, i) => ({
      ...planned(),
      name: `other-${i}`,
      subject: `spiffe://x/${i}`,
    }));
    f.state.identities["rg-spiffe/payments-api"].fics = [...extra, planned()];
    const r = await run();
    expect(r.stdout).toContain(
      "FAIL azure: credentials of payments-api: 21 of at most 20 federated credentials",
    );
    expect(r.stdout).toContain("PASS azure: credential payments-api.subject");
    expect(f.azure.server.requests).toHaveLength(1 + 5);
    expect(f.azure.violations).toEqual([]);
  });

  it("says a missing identity is missing, and skips without credentials", async () => {
    f.state.identities = {};
    const r = await run();
    expect(r.stdout).toMatch(
      /FAIL azure: identity payments-api: identity: GET https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*\/userAssignedIdentities\/payments-api: HTTP 404/,
    );
    expect(r.stdout).toContain("fix: the identity is missing: pulumi up restores it");
    const none = await runVerify(f.dir, "t", azureOutputs(f.issuer.url), ["--checks", "azure"], {
      caPem: f.issuer.caPem,
      env: {},
    });
    expect(none.stdout).toMatch(
      /SKIP azure: credentials: (no AZURE_ARM_TOKEN|DefaultAzureCredential)/,
    );
  });
});

describe("verify azure: the client-credentials exchange by @azure/identity", () => {
  const svid = (claims: Record<string, unknown> = {}) =>
    signJwt(f.key, { iss: f.issuer.url, sub: PAYMENTS_ID, aud: [ENTRA_AUDIENCE], ...claims });

  it("passes: the SDK posts the workload's SVID as the client assertion for the deployed client", async () => {
    const token = svid();
    const r = await run(["--svid-dir", svidDir(token)]);
    expect(r.stdout).toContain(
      `PASS azure: token exchange: Entra issued an access token for client ${CLIENT}`,
    );
    expect(f.azure.tokenForms).toHaveLength(1);
    expect(f.azure.tokenForms[0]).toMatchObject({
      grant_type: "client_credentials",
      client_id: CLIENT,
      client_assertion: token,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout + r.stderr).not.toContain("entra.access.7c1d");
  });

  it("maps AADSTS70021 (subject mismatch) to the three values side by side", async () => {
    f.state.identities["rg-spiffe/payments-api"].fics = [
      { ...planned(), subject: "spiffe://test.example.com/ns/payments/sa/old" },
    ];
    const r = await run(["--svid-dir", svidDir(svid())]);
    expect(r.stdout).toContain(
      "FAIL azure: token exchange: Entra refused the assertion (AADSTS70021)",
    );
    expect(r.stdout).toContain(
      `fix: the token matches the plan (issuer: token "${f.issuer.url}" / plan "${f.issuer.url}"; subject: token "${PAYMENTS_ID}" / plan "${PAYMENTS_ID}"; audience: token ["${ENTRA_AUDIENCE}"] / plan "${ENTRA_AUDIENCE}"), so the credential in Entra does not: see the credential fields above, pulumi up restores them`,
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
