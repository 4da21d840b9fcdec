/**
 * The aws check against the spec-shaped IAM / STS / Roles Anywhere double
 * (test/verify/aws-server.ts) with the repository's AWS example stack (stacks/Pulumi.aws.yaml):
 * the real `@aws-sdk/client-iam` reads the provider and the roles, signed Roles Anywhere reads
 * the anchor and the profile, and `@aws-sdk/credential-providers`' fromWebToken does the
 * workload's AssumeRoleWithWebIdentity with a real JWT-SVID, its errors mapped to the causes.
 */
import { describe, expect, it } from "vitest";
import {
  ACCOUNT,
  ANCHOR_ID,
  checkoutToken,
  env,
  freshState,
  ID,
  outputs,
  PROFILE_ID,
  role,
  run,
  SECRET,
  svids,
  useAws,
  webTrust,
  world,
} from "./aws-fixtures";
import { runVerify } from "./support";

useAws();
describe("verify aws: the account against the plan", () => {
  it("passes when the provider, the roles, the anchor and the profile are as planned", async () => {
    const r = await run();
    expect(r.stdout).not.toMatch(/FAIL|SKIP/);
    expect(r.code).toBe(0);
    expect(world.aws.violations).toEqual([]);
    expect(world.aws.calls).toEqual([
      "iam:GetOpenIDConnectProvider",
      "iam:GetRole",
      "iam:GetRole",
      "iam:GetRole",
      "rolesanywhere:GetTrustAnchor",
      "rolesanywhere:GetProfile",
    ]);
    expect(r.stdout).toContain(`PASS aws: oidc provider Url: oidc provider Url is "${world.host}"`);
    expect(r.stdout).toContain(
      `PASS aws: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${world.host}:sub: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${world.host}:sub is ["${ID("checkout", "checkout-api")}"]`,
    );
    expect(r.stdout).toContain(
      "PASS aws: role shop-billing-batch MaxSessionDuration: role shop-billing-batch MaxSessionDuration is 14400",
    );
    expect(r.stdout).toContain(
      "PASS aws: trust anchor certificate: the anchor holds the root of rootCaPem",
    );
    expect(r.stdout).toContain(
      `PASS aws: profile roleArns: profile roleArns is ["${role("catalog")}"]`,
    );
    expect(`${r.stdout}\n${r.stderr}`).not.toContain(SECRET);
  });

  it("names each field changed outside the stack", async () => {
    world.state.roles["shop-checkout-api"].trust = webTrust(ID("checkout", "checkout"));
    world.state.roles["shop-billing-batch"].maxSessionDuration = 3600;
    world.state.providers[`arn:aws:iam::${ACCOUNT}:oidc-provider/${world.host}`].clientIds = [
      "vault",
    ];
    world.state.profiles[PROFILE_ID].enabled = false;
    world.state.profiles[PROFILE_ID].duration = 900;
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAIL aws: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${world.host}:sub: role shop-checkout-api trust SpiffeJwtSvid StringEquals ${world.host}:sub: expected ["${ID("checkout", "checkout-api")}"], found ["${ID("checkout", "checkout")}"]`,
    );
    expect(r.stdout).toContain(
      "FAIL aws: role shop-billing-batch MaxSessionDuration: role shop-billing-batch MaxSessionDuration: expected 14400, found 3600",
    );
    expect(r.stdout).toContain(
      'FAIL aws: oidc provider ClientIDList: ClientIDList is ["vault"]; the JWT-SVIDs carry aud "sts.amazonaws.com"',
    );
    expect(r.stdout).toContain(
      "FAIL aws: profile enabled: profile enabled: expected true, found false",
    );
    expect(r.stdout).toContain(
      "FAIL aws: profile durationSeconds: profile durationSeconds: expected 3600, found 900",
    );
    expect(world.aws.violations).toEqual([]);
  });

  it("fails a statement someone added and a trust anchor that holds another root", async () => {
    world.state.roles["shop-checkout-api"].trust.Statement.push({
      Sid: "Extra",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "sts:AssumeRole",
    });
    world.state.anchors[ANCHOR_ID].pem = world.issuer.caPem;
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL aws: role shop-checkout-api trust "Extra": a statement the plan does not have: .*\n\s+fix: someone added it outside the stack/,
    );
    expect(r.stdout).toMatch(
      /FAIL aws: trust anchor certificate: the anchor holds \["[0-9A-F:]+"\], rootCaPem is/,
    );
  });

  it("names a missing provider, a missing role and refused reads", async () => {
    world.state.providers = {};
    delete world.state.roles["shop-catalog"];
    let r = await run();
    expect(r.stdout).toContain(
      `FAIL aws: oidc provider: NoSuchEntity: OpenIDConnect Provider not found for arn arn:aws:iam::${ACCOUNT}:oidc-provider/${world.host}`,
    );
    expect(r.stdout).toMatch(
      /fix: no IAM OIDC provider .*STS answers InvalidIdentityToken for every workload; pulumi up creates it/,
    );
    expect(r.stdout).toMatch(
      /FAIL aws: role shop-catalog: NoSuchEntity: The role with name shop-catalog cannot be found\.\n\s+fix: the role is missing/,
    );
    world.state.denyIam = true;
    r = await run();
    expect(r.stdout).toMatch(
      /FAIL aws: role shop-checkout-api: AccessDenied: User is not authorized to perform: iam:GetRole\n\s+fix: the credentials may not read it/,
    );
  });

  it("is a SKIP without AWS credentials, and selected by default when the stack configures aws", async () => {
    const r = await run([], {
      AWS_ENDPOINT_URL_IAM: world.aws.server.url,
      AWS_ENDPOINT_URL_ROLESANYWHERE: world.aws.server.url,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SKIP aws: credentials: no AWS credentials in the environment/);
    expect(world.aws.calls).toEqual([]);
    const all = await runVerify(world.dir, "aws", outputs(), [], {
      caPem: world.issuer.caPem,
      env: env(),
    });
    expect(all.stdout).toMatch(/^verify: stack aws \(checks: .*aws\)/);
  });
});

describe("verify aws: the workload's AssumeRoleWithWebIdentity (--svid-dir)", () => {
  it("passes with the real fromWebToken and prints no credential", async () => {
    const r = await run(["--svid-dir", svids(checkoutToken())]);
    expect(r.stdout).toContain(
      `PASS aws: token exchange: STS issued credentials for ${role("checkout-api")}`,
    );
    expect(r.code).toBe(0);
    expect(world.aws.calls).toContain("sts:AssumeRoleWithWebIdentity");
    expect(world.aws.violations).toEqual([]);
    const sent = world.aws.server.requests.find((q) =>
      q.body.includes("AssumeRoleWithWebIdentity"),
    );
    expect(new URLSearchParams(sent?.body).get("RoleArn")).toBe(role("checkout-api"));
    for (const s of ["sts-secret-9c2e", "sts-session-token-7f3a", SECRET]) {
      expect(`${r.stdout}\n${r.stderr}`).not.toContain(s);
    }
  });

  it("maps AccessDenied to sub and aud side by side: token, role, plan", async () => {
    world.state.roles["shop-checkout-api"].trust = webTrust(ID("checkout", "checkout"));
    const r = await run(["--svid-dir", svids(checkoutToken())]);
    expect(r.stdout).toContain("FAIL aws: token exchange: STS refused the token (AccessDenied)");
    expect(r.stdout).toContain(
      `fix: the role's trust policy does not admit the token: sub: token "${ID("checkout", "checkout-api")}" / role ["${ID("checkout", "checkout")}"] / plan "${ID("checkout", "checkout-api")}" (differs); aud: token ["sts.amazonaws.com"] / role ["sts.amazonaws.com"] / plan "sts.amazonaws.com";`,
    );
  });

  it("maps InvalidIdentityToken (no provider, wrong audience) and ExpiredTokenException", async () => {
    world.state.providers = {};
    let r = await run(["--svid-dir", svids(checkoutToken())]);
    expect(r.stdout).toContain("STS refused the token (InvalidIdentityToken)");
    expect(r.stdout).toContain(
      `fix: no IAM OIDC provider for the token's issuer (token iss "${world.issuer.url}" / plan "${world.issuer.url}")`,
    );
    Object.assign(world.state, freshState());
    r = await run(["--svid-dir", svids(checkoutToken({ aud: ["vault"] }))]);
    expect(r.stdout).toContain(
      `fix: the provider's client IDs do not list the token's aud (token ["vault"] / plan "sts.amazonaws.com")`,
    );
    const past = Math.floor(Date.now() / 1000) - 600;
    r = await run(["--svid-dir", svids(checkoutToken({ iat: past - 300, exp: past }))]);
    expect(r.stdout).toContain("STS refused the token (ExpiredTokenException)");
    expect(r.stdout).toContain(
      `fix: the JWT-SVID expired (exp ${new Date(past * 1000).toISOString()})`,
    );
  });
});
