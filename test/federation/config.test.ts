/**
 * Config rules across relying parties: CA key types several parties constrain, staging ACME
 * servers no relying party trusts, and the program failing before it registers anything.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { planStack } from "../compiled";
import { baseConfig, makeCertificate } from "../fixtures";
import { ROOT, runRaw } from "../helpers";
import { fedConfig, problemsOf, SUB } from "../support/federation-config";

const badConfigs: [string, (c: Record<string, any>) => void, string[]][] = [
  [
    "Google Cloud OIDC and Entra with a P-384 CA key",
    (c) => (c.spire = { caKeyType: "ec-p384" }),
    [
      "spire-federation:spire.caKeyType: must be rsa-2048 or rsa-4096 while workloads have Azure grants: Entra ID accepts RS256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p384)",
      "spire-federation:spire.caKeyType: must be rsa-2048, rsa-4096 or ec-p256 while gcp.oidc is on: Google Cloud's STS accepts RS256 and ES256 tokens only, and SPIRE signs JWT-SVIDs with its CA key (ec-p384)",
    ],
  ],
];

describe("config errors across relying parties", () => {
  it.each(badConfigs)("%s", (_n, mutate, expected) => {
    const c = fedConfig();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("the program fails the same way before registering anything", async () => {
    const c = fedConfig();
    c.gcp.poolId = "gcp-x";
    await expect(
      runRaw(c, { extraConfig: { "azure-native:subscriptionId": SUB } }),
    ).rejects.toThrow(
      'spire-federation:gcp.poolId: must be 4–32 characters of lowercase letters, digits and dashes, not starting with "gcp-"',
    );
  });
});

describe("a staging ACME server: certificates no relying party trusts", () => {
  const STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";
  const staging = (c: Record<string, any>, server = STAGING) =>
    (c.oidc.tls = { acme: { email: "ops@example.com", server } });
  const onlyVault = () => {
    const c = fedConfig();
    delete c.azure;
    delete c.gcp;
    delete c.workloads[0].azure;
    delete c.workloads[0].gcp;
    return c;
  };
  const VAULT_STAGING =
    "is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; Vault and its readiness gate fetch the discovery document: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or vault.discoveryCaPem to the staging root (a CA whose subject says STAGING or TEST, e.g. Let's Encrypt's \"(STAGING) Pretend Pear X1\")";
  let stagingRoot: string;
  let otherRoot: string;
  beforeAll(async () => {
    stagingRoot = (
      await makeCertificate({
        subject: "C=US, O=(STAGING) Internet Security Research Group, CN=(STAGING) Pretend Pear X1",
        ca: true,
      })
    ).pem;
    otherRoot = (await makeCertificate({ subject: "CN=Example Corp Root CA", ca: true })).pem;
  });

  it("Vault without the staging root", () => {
    const c = onlyVault();
    staging(c);
    expect(problemsOf(c)).toEqual([`spire-federation:oidc.tls.acme.server: ${VAULT_STAGING}`]);
    c.vault.discoveryCaPem = otherRoot;
    expect(problemsOf(c)).toEqual([`spire-federation:oidc.tls.acme.server: ${VAULT_STAGING}`]);
  });

  it("Vault with the staging root in vault.discoveryCaPem (alone or in a bundle)", () => {
    const c = onlyVault();
    staging(c);
    c.vault.discoveryCaPem = stagingRoot;
    expect(parseStackConfig(c).oidc.tls).toEqual({
      kind: "acme",
      email: "ops@example.com",
      server: STAGING,
    });
    c.vault.discoveryCaPem = `${otherRoot}\n${stagingRoot}`;
    expect(parseStackConfig(c).vault?.discoveryCaPem).toBe(`${otherRoot}\n${stagingRoot}`);
  });

  it("other CAs' staging and test directories", () => {
    for (const [server, host] of [
      ["https://dv.acme-v02.test-api.pki.goog/directory", "dv.acme-v02.test-api.pki.goog"],
      ["https://api.test4.buypass.no/acme/directory", "api.test4.buypass.no"],
      ["https://acme.staging.example.net/directory", "acme.staging.example.net"],
    ]) {
      const c = onlyVault();
      staging(c, server);
      expect(problemsOf(c)).toEqual([
        `spire-federation:oidc.tls.acme.server: ${VAULT_STAGING.replace("acme-staging-v02.api.letsencrypt.org", host)}`,
      ]);
    }
  });

  it("production directories pass, and staging passes when nothing fetches the endpoint", () => {
    for (const server of [
      "https://acme-v02.api.letsencrypt.org/directory",
      "https://acme.zerossl.com/v2/DV90",
      "https://dv.acme-v02.api.pki.goog/directory",
      "https://api.buypass.com/acme/directory",
      "https://acme.contest-ca.example.com/directory",
    ]) {
      const c = onlyVault();
      staging(c, server);
      expect(parseStackConfig(c).oidc.tls).toMatchObject({ server });
    }
    const bare = baseConfig();
    staging(bare);
    expect(parseStackConfig(bare).oidc.tls).toMatchObject({ server: STAGING });
  });

  it("Entra and Google Cloud OIDC outright (a staging root in Vault's CA does not help them)", () => {
    const c = fedConfig();
    staging(c);
    c.vault.discoveryCaPem = stagingRoot;
    expect(problemsOf(c)).toEqual([
      "spire-federation:oidc.tls.acme.server: is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; Entra ID fetches the discovery document itself and needs a publicly trusted certificate: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default)",
      "spire-federation:oidc.tls.acme.server: is the staging ACME server acme-staging-v02.api.letsencrypt.org, whose certificates no client trusts; Google Cloud fetches the discovery document itself and needs a publicly trusted certificate: set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default), or gcp.oidc to false",
    ]);
    delete c.azure;
    delete c.workloads[0].azure;
    c.gcp.oidc = false;
    expect(parseStackConfig(c, { azureSubscriptionId: SUB }).gcp?.oidc).toBe(false);
  });

  it("the dev stack as shipped before (Let's Encrypt staging, Vault) is refused", async () => {
    const dev = readFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
    expect(dev).not.toContain("acme-staging");
    const email = "        email: platform-team@example.com\n";
    const before = dev.replace(email, `${email}        server: ${STAGING}\n`);
    expect(before).toContain(STAGING);
    const dir = mkdtempSync(path.join(tmpdir(), "stacks-"));
    writeFileSync(path.join(dir, "Pulumi.dev.yaml"), before);
    await expect(planStack("dev", dir)).rejects.toThrow(
      `spire-federation:oidc.tls.acme.server: ${VAULT_STAGING}`,
    );
  });
});
