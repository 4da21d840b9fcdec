/**
 * The gcp check against the spec-shaped IAM v1 / STS v1 double (test/verify/gcp-server.ts,
 * contract test/contracts/gcp) and a real HTTPS issuer: pool and providers field by field, the
 * soft-deleted state, and the real STS exchange by google-auth-library's IdentityPoolClient on
 * the deployed credential configuration, `invalid_grant` mapped to the cause.
 */
import { describe, expect, it } from "vitest";
import {
  AUDIENCE,
  GCP_TOKEN as TOKEN,
  gcpOutputs,
  gcpSvidDir as svidDir,
  POOL,
  useGcp,
} from "./gcp-fixture";
import { PAYMENTS_ID, runVerify, signJwt } from "./support";

const f = useGcp();
const run = (extra: string[] = []) => f.run({ extra });

describe("verify gcp: the pool and its providers through IAM v1", () => {
  it("passes what the plan deployed, with the contracts' reads only", async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `PASS gcp: provider spire-oidc.oidc.issuerUri: provider spire-oidc.oidc.issuerUri is "${f.issuer.url}"`,
    );
    expect(r.stdout).toContain(
      `PASS gcp: provider spire-oidc.oidc.allowedAudiences: provider spire-oidc.oidc.allowedAudiences is ["${AUDIENCE}"]`,
    );
    expect(r.stdout).toContain(
      'PASS gcp: provider spire-x509.attributeMapping: provider spire-x509.attributeMapping is {"google.subject":"assertion.san.uri"}',
    );
    expect(f.gcp.server.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      `GET /v1/${POOL}`,
      `GET /v1/${POOL}/providers/spire-oidc`,
      `GET /v1/${POOL}/providers/spire-x509`,
      "POST /v3/projects/acme-platform:getIamPolicy",
    ]);
    expect(f.gcp.violations).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it("fails a soft-deleted pool, a wrong issuer, audience, mapping and condition, field by field", async () => {
    f.state.resources[POOL].state = "DELETED";
    const p = f.state.resources[`${POOL}/providers/spire-oidc`];
    p.oidc = { issuerUri: `${f.issuer.url}/`, allowedAudiences: ["vault"] };
    p.attributeMapping = { "google.subject": "assertion.email" };
    p.attributeCondition = "true";
    const r = await run();
    expect(r.code).toBe(1);
    for (const line of [
      "FAIL gcp: pool.state: pool is soft-deleted (state DELETED): it exchanges no token, and its ID stays reserved about 30 days",
      `FAIL gcp: provider spire-oidc.oidc.issuerUri: provider spire-oidc.oidc.issuerUri: expected "${f.issuer.url}", found "${f.issuer.url}/"`,
      `FAIL gcp: provider spire-oidc.oidc.allowedAudiences: provider spire-oidc.oidc.allowedAudiences: expected ["${AUDIENCE}"], found ["vault"]`,
      'FAIL gcp: provider spire-oidc.attributeMapping: provider spire-oidc.attributeMapping: expected {"google.subject":"assertion.sub"}, found {"google.subject":"assertion.email"}',
      'FAIL gcp: provider spire-oidc.attributeCondition: provider spire-oidc.attributeCondition: expected "assertion.sub.startsWith(\\"spiffe://test.example.com/\\")", found "true"',
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).toContain(
      "fix: undelete it (gcloud iam workload-identity-pools undelete), or give the stack a new ID and pulumi up",
    );
    expect(f.gcp.violations).toEqual([]);
  });

  it("skips without credentials, and says a missing provider is missing", async () => {
    const none = await runVerify(f.dir, "t", gcpOutputs(f.issuer.url), ["--checks", "gcp"], {
      caPem: f.issuer.caPem,
      env: {},
    });
    expect(none.stdout).toContain(
      "SKIP gcp: credentials: no GOOGLE_OAUTH_ACCESS_TOKEN nor GOOGLE_APPLICATION_CREDENTIALS",
    );
    delete f.state.resources[`${POOL}/providers/spire-x509`];
    const r = await run();
    expect(r.stdout).toMatch(
      /FAIL gcp: provider spire-x509: provider spire-x509: GET https:\/\/127\.0\.0\.1:\d+\/v1\/projects\/.*\/providers\/spire-x509: HTTP 404/,
    );
    expect(r.stdout).toContain("fix: provider spire-x509 is missing: pulumi up restores it");
  });
});

describe("verify gcp: the STS exchange by google-auth-library", () => {
  const svid = (claims: Record<string, unknown> = {}) =>
    signJwt(f.key, { iss: f.issuer.url, sub: PAYMENTS_ID, aud: [AUDIENCE], ...claims });

  it("passes: the SDK posts the workload's SVID with the provider's audience", async () => {
    const token = svid();
    const r = await run(["--svid-dir", svidDir(token)]);
    expect(r.stdout).toContain(
      `PASS gcp: sts exchange: the STS issued a federated access token for "${PAYMENTS_ID}"`,
    );
    expect(f.gcp.stsForms).toHaveLength(1);
    expect(f.gcp.stsForms[0]).toMatchObject({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      audience: AUDIENCE,
      subject_token: token,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout + r.stderr).not.toContain("ya29.federated-4b1e");
    expect(f.gcp.violations).toEqual([]);
  });

  it("maps invalid_grant for a token with another audience", async () => {
    const r = await run(["--svid-dir", svidDir(svid({ aud: ["vault"] }))]);
    expect(r.stdout).toContain("FAIL gcp: sts exchange: the STS refused the token:");
    expect(r.stdout).toContain("invalid_grant");
    expect(r.stdout).toContain(
      `fix: the token's aud ["vault"] is not the provider's allowed audience "${AUDIENCE}"`,
    );
  });

  it("maps invalid_grant for a token of another issuer", async () => {
    const r = await run(["--svid-dir", svidDir(svid({ iss: "https://oidc.other.example.com" }))]);
    expect(r.stdout).toContain(
      `fix: the token's iss "https://oidc.other.example.com" is not the provider's issuerUri "${f.issuer.url}"`,
    );
  });
});
