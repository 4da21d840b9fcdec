/**
 * The gcp check against the spec-shaped IAM v1 / STS v1 double (test/verify/gcp-server.ts,
 * contract test/contracts/gcp) and a real HTTPS issuer: pool and providers field by field, the
 * soft-deleted state, and the real STS exchange by google-auth-library's IdentityPoolClient on
 * the deployed credential configuration, `invalid_grant` mapped to the cause.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  oidcCredentialConfig,
  oidcProviderAttributes,
  providerAudience,
  x509ProviderAttributes,
} from "../../components/federation/gcp/component";
import { startGcp, type GcpDouble, type GcpState } from "./gcp-server";
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

const TOKEN = "ya29.operator-token-1e9f";
const NUMBER = "482915736204";
const POOL = `projects/acme-platform/locations/global/workloadIdentityPools/spiffe-test`;
const AUDIENCE = providerAudience(NUMBER, "spiffe-test", "spire-oidc");
const key = makeKey("k1");
let issuer: Issuer;
let gcp: GcpDouble;
let state: GcpState;
let dir: string;

function gcpStack(): Record<string, unknown> {
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  return {
    ...base,
    "spire-federation:gcp": {
      project: "acme-platform",
      projectNumber: NUMBER,
      poolId: "spiffe-test",
      oidcProviderId: "spire-oidc",
      x509ProviderId: "spire-x509",
    },
    "spire-federation:workloads": [
      { ...workloads[0], gcp: { roles: [{ role: "roles/storage.objectViewer" }] } },
    ],
  };
}

function outputs(): Record<string, unknown> {
  const o = vaultOutputs(issuer.url);
  const fed = o.federation as Record<string, Record<string, unknown>>;
  fed["payments-api"].gcp = {
    principal: `principal://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/spiffe-test/subject/${PAYMENTS_ID}`,
    audiences: { oidc: AUDIENCE },
    credentialConfigs: { oidc: JSON.stringify(oidcCredentialConfig(AUDIENCE)) },
  };
  return o;
}

function deployed(): Record<string, Record<string, unknown>> {
  return {
    [POOL]: {
      name: POOL,
      displayName: "SPIFFE test.example.com",
      state: "ACTIVE",
      disabled: false,
    },
    [`${POOL}/providers/spire-oidc`]: {
      name: `${POOL}/providers/spire-oidc`,
      state: "ACTIVE",
      disabled: false,
      ...oidcProviderAttributes("test.example.com"),
      oidc: { issuerUri: issuer.url, allowedAudiences: [AUDIENCE] },
    },
    [`${POOL}/providers/spire-x509`]: {
      name: `${POOL}/providers/spire-x509`,
      state: "ACTIVE",
      disabled: false,
      ...x509ProviderAttributes("test.example.com"),
      x509: { trustStore: { trustAnchors: [{ pemCertificate: "..." }] } },
    },
  };
}

beforeAll(async () => {
  issuer = await startIssuer({ keys: [key.jwk] });
  state = { token: TOKEN, resources: {} };
  gcp = await startGcp(state, issuer.tls);
  dir = writeStack("t", gcpStack());
});
afterAll(async () => {
  await gcp.server.close();
  await issuer.close();
});
beforeEach(() => {
  state.resources = deployed();
  gcp.violations.length = 0;
  gcp.stsForms.length = 0;
  gcp.server.reset();
});

const run = (extra: string[] = [], env: Record<string, string> = {}) =>
  runVerify(dir, "t", outputs(), ["--checks", "gcp", ...extra], {
    caPem: issuer.caPem,
    env: {
      GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN,
      GOOGLE_IAM_URL: gcp.server.url,
      GOOGLE_STS_TOKEN_URL: `${gcp.server.url}/v1/token`,
      ...env,
    },
  });

function svidDir(token: string): string {
  const d = mkdtempSync(path.join(tmpdir(), "svid-"));
  writeFileSync(path.join(d, "gcp-jwt-svid.token"), token);
  return d;
}

describe("verify gcp: the pool and its providers through IAM v1", () => {
  it("passes what the plan deployed, with the contract's GETs only", async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `PASS gcp: provider spire-oidc.oidc.issuerUri: provider spire-oidc.oidc.issuerUri is "${issuer.url}"`,
    );
    expect(r.stdout).toContain(
      `PASS gcp: provider spire-oidc.oidc.allowedAudiences: provider spire-oidc.oidc.allowedAudiences is ["${AUDIENCE}"]`,
    );
    expect(r.stdout).toContain(
      'PASS gcp: provider spire-x509.attributeMapping: provider spire-x509.attributeMapping is {"google.subject":"assertion.san.uri"}',
    );
    expect(gcp.server.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      `GET /v1/${POOL}`,
      `GET /v1/${POOL}/providers/spire-oidc`,
      `GET /v1/${POOL}/providers/spire-x509`,
    ]);
    expect(gcp.violations).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it("fails a soft-deleted pool, a wrong issuer, audience, mapping and condition, field by field", async () => {
    state.resources[POOL].state = "DELETED";
    const p = state.resources[`${POOL}/providers/spire-oidc`];
    p.oidc = { issuerUri: `${issuer.url}/`, allowedAudiences: ["vault"] };
    p.attributeMapping = { "google.subject": "assertion.email" };
    p.attributeCondition = "true";
    const r = await run();
    expect(r.code).toBe(1);
    for (const line of [
      "FAIL gcp: pool.state: pool is soft-deleted (state DELETED): it exchanges no token, and its ID stays reserved about 30 days",
      `FAIL gcp: provider spire-oidc.oidc.issuerUri: provider spire-oidc.oidc.issuerUri: expected "${issuer.url}", found "${issuer.url}/"`,
      `FAIL gcp: provider spire-oidc.oidc.allowedAudiences: provider spire-oidc.oidc.allowedAudiences: expected ["${AUDIENCE}"], found ["vault"]`,
      'FAIL gcp: provider spire-oidc.attributeMapping: provider spire-oidc.attributeMapping: expected {"google.subject":"assertion.sub"}, found {"google.subject":"assertion.email"}',
      'FAIL gcp: provider spire-oidc.attributeCondition: provider spire-oidc.attributeCondition: expected "assertion.sub.startsWith(\\"spiffe://test.example.com/\\")", found "true"',
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).toContain(
      "fix: undelete it (gcloud iam workload-identity-pools undelete), or give the stack a new ID and pulumi up",
    );
    expect(gcp.violations).toEqual([]);
  });

  it("skips without credentials, and says a missing provider is missing", async () => {
    const none = await runVerify(dir, "t", outputs(), ["--checks", "gcp"], {
      caPem: issuer.caPem,
      env: {},
    });
    expect(none.stdout).toContain(
      "SKIP gcp: credentials: no GOOGLE_OAUTH_ACCESS_TOKEN nor GOOGLE_APPLICATION_CREDENTIALS",
    );
    delete state.resources[`${POOL}/providers/spire-x509`];
    const r = await run();
    expect(r.stdout).toMatch(
      /FAIL gcp: provider spire-x509: provider spire-x509: GET https:\/\/127\.0\.0\.1:\d+\/v1\/projects\/.*\/providers\/spire-x509: HTTP 404/,
    );
    expect(r.stdout).toContain("fix: provider spire-x509 is missing: pulumi up restores it");
  });
});

describe("verify gcp: the STS exchange by google-auth-library", () => {
  const svid = (claims: Record<string, unknown> = {}) =>
    signJwt(key, { iss: issuer.url, sub: PAYMENTS_ID, aud: [AUDIENCE], ...claims });

  it("passes: the SDK posts the workload's SVID with the provider's audience", async () => {
    const token = svid();
    const r = await run(["--svid-dir", svidDir(token)]);
    expect(r.stdout).toContain(
      `PASS gcp: sts exchange: the STS issued a federated access token for "${PAYMENTS_ID}"`,
    );
    expect(gcp.stsForms).toHaveLength(1);
    expect(gcp.stsForms[0]).toMatchObject({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      audience: AUDIENCE,
      subject_token: token,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout + r.stderr).not.toContain("ya29.federated-4b1e");
    expect(gcp.violations).toEqual([]);
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
      `fix: the token's iss "https://oidc.other.example.com" is not the provider's issuerUri "${issuer.url}"`,
    );
  });
});
