/**
 * The rotation check: SPIRE's lead (from spire.caTTL) against each party's JWKS caching (the
 * constants in each party's rules.ts), the live JWKS, and the key that signed the workload's
 * JWT-SVIDs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatSeconds,
  rotationLeadProblem,
  rotationLeadSeconds,
} from "../../components/federation/rotation";
import { ISTIO_JWKS_CACHING } from "../../components/federation/istio/rules";
import { VAULT_JWKS_CACHING } from "../../components/federation/vault/rules";
import { ENTRA_JWKS_CACHING } from "../../components/federation/azure/rules";
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

describe("SPIRE's rotation lead", () => {
  it.each([
    ["24h", 24 * 3600, "8h"],
    ["1h", 3600, "20m"],
    ["6h", 6 * 3600, "2h"],
    // past the caps: min(45d, 30d) - min(15d, 7d) = 23 days
    ["90d", 90 * 24 * 3600, "552h"],
  ])("caTTL %s publishes the next key %s… before it signs", (_ttl, seconds, lead) => {
    expect(formatSeconds(rotationLeadSeconds(seconds))).toBe(lead);
  });

  it("is a problem only where a party refreshes on a timer longer than the lead", () => {
    expect(rotationLeadProblem(1800, ISTIO_JWKS_CACHING, "istiod")).toBe(
      "SPIRE publishes its next JWT key 10m before signing with it, and istiod refetches the JWKS only every 20m: set spire.caTTL to at least 1h",
    );
    expect(rotationLeadProblem(3600, ISTIO_JWKS_CACHING, "istiod")).toBeUndefined();
    expect(rotationLeadProblem(60, VAULT_JWKS_CACHING, "Vault")).toBeUndefined();
    expect(rotationLeadProblem(60, ENTRA_JWKS_CACHING, "Entra ID")).toBeUndefined();
  });
});

describe("verify rotation", () => {
  const current = makeKey("k-current");
  const next = makeKey("k-next");
  let issuer: Issuer;
  beforeAll(async () => {
    issuer = await startIssuer({ keys: [current.jwk] });
  });
  afterAll(() => issuer.close());

  it("passes Vault (refetches on an unknown kid) and says how many keys are out", async () => {
    const dir = writeStack("t", vaultStackConfig());
    const r = await runVerify(dir, "t", vaultOutputs(issuer.url), ["--checks", "rotation"], {
      caPem: issuer.caPem,
    });
    expect(r.stdout).toContain(
      "[vault]\n  PASS rotation: key rotation lead: it refetches the JWKS on an unknown kid (hashicorp/cap jwt/keyset.go @cf52420 (go-oidc RemoteKeySet refetches on an unknown kid)); lead 8h",
    );
    expect(r.stdout).toContain(
      "PASS rotation: published keys: 1 key published (k-current); SPIRE adds the next when half of spire.caTTL is left",
    );
    expect(r.code).toBe(0);
  });

  it("reports Entra's unpublished cache as SKIP with the lead, not as a pass", async () => {
    const dir = writeStack(
      "t",
      vaultStackConfig({
        "azure-native:subscriptionId": "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93",
        "spire-federation:azure": { resourceGroupName: "rg-test", location: "westeurope" },
        "spire-federation:spire": { caKeyType: "rsa-2048", caTTL: "6h" },
        "spire-federation:workloads": [
          {
            name: "payments-api",
            namespace: "payments",
            serviceAccount: "payments-api",
            azure: { roleAssignments: [] },
          },
        ],
      }),
    );
    const r = await runVerify(dir, "t", vaultOutputs(issuer.url), ["--checks", "rotation"], {
      caPem: issuer.caPem,
    });
    expect(r.stdout).toContain(
      "[azure]\n  SKIP rotation: key rotation lead: its JWKS cache time is not published by Microsoft (learn.microsoft.com workload identity federation docs); SPIRE's lead is 2h (spire.caTTL 6h)",
    );
  });

  it("with --svid-dir, fails a JWT-SVID signed by a key the JWKS does not hold, and never prints it", async () => {
    issuer.state.keys = [current.jwk, next.jwk];
    const svids = mkdtempSync(path.join(tmpdir(), "svids-"));
    const good = signJwt(current, { sub: PAYMENTS_ID, aud: ["vault"], iss: issuer.url });
    const stray = signJwt(makeKey("k-other"), { sub: PAYMENTS_ID, aud: ["x"], iss: issuer.url });
    writeFileSync(path.join(svids, "vault-jwt-svid.token"), good + "\n");
    writeFileSync(path.join(svids, "other.token"), stray);
    const dir = writeStack("t", vaultStackConfig());
    const json = path.join(dir, "r.json");
    const r = await runVerify(
      dir,
      "t",
      vaultOutputs(issuer.url),
      ["--checks", "rotation", "--svid-dir", svids, "--json", json],
      { caPem: issuer.caPem },
    );
    expect(r.stdout).toContain(
      "PASS rotation: published keys: 2 keys published (k-current, k-next): the next key is out before it signs",
    );
    expect(r.stdout).toContain(
      "FAIL rotation: signing key of other.token: the token is signed with kid k-other, which the JWKS does not hold (k-current, k-next); relying parties reject it",
    );
    expect(r.stdout).toContain(
      "PASS rotation: signing key of vault-jwt-svid.token: kid k-current is published",
    );
    expect(r.code).toBe(1);
    for (const t of [good, stray]) {
      for (const part of t.split(".")) {
        expect(r.stdout).not.toContain(part);
        expect(r.stderr).not.toContain(part);
      }
    }
  });
});
