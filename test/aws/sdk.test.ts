/**
 * The generated AWS environment and files, read by the real AWS SDK for JavaScript v3
 * (`@aws-sdk/credential-providers` 3.1175.0) in a child node with exactly the pod's environment:
 * - JWT path: `fromTokenFile` and the default chain (`fromNodeProviderChain`) read the helper's
 *   token file and the role from the environment and call STS (AssumeRoleWithWebIdentity) on a
 *   recording HTTPS server on 127.0.0.1 (`AWS_ENDPOINT_URL_STS`, the SDK's own setting); the
 *   request carries the token file's JWT and the role ARN.
 * - X.509 path: the default chain reads `AWS_CONFIG_FILE` and runs its `credential_process`; in
 *   place of `aws_signing_helper` (a Go binary that would call AWS) a stand-in on `PATH` records
 *   its arguments, refuses any flag the real helper does not have (its flag list is carried in
 *   test/contracts/aws/), reads the SVID files it is given and prints credentials in the process
 *   credential format.
 * Metadata endpoints are disabled; nothing leaves the loopback interface.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProgramRun } from "../../tools/harness";
import { ROOT, runStackFile } from "../helpers";
import { makeLoopbackServerCredentials } from "../fixtures";
import { PodRoot, recordingServer, runNode, type RecordingServer } from "../workload/sdk-sandbox";

const ACCOUNT = "123456789012";
const SVID_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzcGlmZmU6Ly9zaG9wIn0.c2ln"; // what the helper wrote
const ARN = {
  checkout: `arn:aws:iam::${ACCOUNT}:role/shop-checkout-api`,
  catalog: `arn:aws:iam::${ACCOUNT}:role/shop-catalog`,
  anchor: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:trust-anchor/anchor-1`,
  profile: `arn:aws:rolesanywhere:eu-west-1:${ACCOUNT}:profile/profile-1`,
};

/** AWS STS's AssumeRoleWithWebIdentity answer (awsQuery protocol: XML). */
const STS_XML = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>spiffe://shop.spiffe.example.com/ns/checkout/sa/checkout-api</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::${ACCOUNT}:assumed-role/shop-checkout-api/session</Arn>
      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>loopback-session-token</SessionToken>
      <SecretAccessKey>loopback-secret</SecretAccessKey>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
      <AccessKeyId>ASIALOOPBACKJWT</AccessKeyId>
    </Credentials>
    <Provider>oidc.shop.spiffe.example.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`;

function script(provider: "fromTokenFile" | "fromNodeProviderChain"): string {
  return `
const providers = require("@aws-sdk/credential-providers");
(async () => {
  const c = await providers.${provider}()();
  console.log(JSON.stringify({ accessKeyId: c.accessKeyId, sessionToken: c.sessionToken }));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
`;
}

let run: ProgramRun;
let tls: Awaited<ReturnType<typeof makeLoopbackServerCredentials>>;
let server: RecordingServer;

beforeAll(async () => {
  run = await runStackFile("aws", (args) => {
    const i = args.inputs as Record<string, unknown>;
    if (args.type === "aws:iam/role:Role")
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${String(i.name)}` };
    if (args.type === "aws:rolesanywhere/trustAnchor:TrustAnchor") return { arn: ARN.anchor };
    if (args.type === "aws:rolesanywhere/profile:Profile") return { arn: ARN.profile };
    if (args.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
      return { arn: "arn:aws:iam::123456789012:oidc-provider/x" };
    return {};
  });
  tls = await makeLoopbackServerCredentials();
  server = await recordingServer(tls, (r) =>
    r.method === "POST" && r.url === "/"
      ? { status: 200, body: STS_XML, contentType: "text/xml" }
      : { status: 404, body: { error: "not_found" } },
  );
});
afterAll(() => server?.close());

/** One workload's ConfigMaps and its container's environment as the kubelet sets it. */
function pod(workload: string) {
  const out = (run.outputs.workloadFiles as any)[workload];
  const maps = run.resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap");
  const data = (n: string) =>
    maps.find((r) => (r.rawInputs.metadata as any).name === n)!.rawInputs.data as Record<
      string,
      string
    >;
  const files = data(out.configMap);
  const envData = data(out.envConfigMap);
  const root = new PodRoot();
  const env: Record<string, string> = {};
  for (const e of out.podPatch.spec.template.spec.containers[0].env) {
    env[e.name] = root.rebase(e.value ?? envData[e.valueFrom.configMapKeyRef.key]);
  }
  for (const [key, content] of Object.entries(files)) {
    root.write(`/run/spiffe/config/${key}`, content, { rebase: true });
  }
  return { root, env };
}

/** What keeps the SDK on loopback: STS on the recording server, no instance metadata. */
const loopback = () => ({
  AWS_ENDPOINT_URL_STS: server.origin,
  AWS_EC2_METADATA_DISABLED: "true",
});

describe("JWT path: the AWS SDK's web identity provider on the pod's environment", () => {
  it.each(["fromTokenFile", "fromNodeProviderChain"] as const)(
    "%s posts the helper's token and the role ARN to STS",
    async (provider) => {
      server.requests.length = 0;
      const { root, env } = pod("checkout-api");
      expect(Object.keys(env).sort()).toEqual([
        "AWS_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
      ]);
      root.write("/run/spiffe/certs/aws-jwt-svid.token", SVID_JWT);
      const r = await runNode(script(provider), { ...env, ...loopback() }, tls.caPem);
      expect(r.stderr).toBe("");
      expect(r.out).toEqual({
        accessKeyId: "ASIALOOPBACKJWT",
        sessionToken: "loopback-session-token",
      });
      expect(server.requests).toHaveLength(1);
      const body = Object.fromEntries(new URLSearchParams(server.requests[0].body));
      expect(body).toMatchObject({
        Action: "AssumeRoleWithWebIdentity",
        Version: "2011-06-15",
        RoleArn: ARN.checkout,
        WebIdentityToken: SVID_JWT,
      });
      expect(body.RoleSessionName).toMatch(/^[\w+=,.@-]+$/);
      expect(server.requests[0].headers.host).toBe(server.origin.slice("https://".length));
    },
  );

  it("without the token file the exchange never happens (the file is what the SDK sends)", async () => {
    server.requests.length = 0;
    const { env } = pod("checkout-api");
    const r = await runNode(script("fromTokenFile"), { ...env, ...loopback() }, tls.caPem);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain("aws-jwt-svid.token");
    expect(server.requests).toEqual([]);
  });
});

/** A stand-in `aws_signing_helper` on PATH: checks flags against the real helper's, records, answers. */
function fakeSigningHelper(): { dir: string; record: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sf-aws-helper-"));
  const record = path.join(dir, "calls.json");
  const flags = JSON.parse(
    readFileSync(
      path.join(ROOT, "test", "contracts", "aws", "credential-process-flags-v1.8.0.json"),
      "utf8",
    ),
  ).flags as Record<string, string>;
  const helper = `#!${process.execPath}
const fs = require("node:fs");
const flags = ${JSON.stringify(flags)};
const [command, ...rest] = process.argv.slice(2);
if (command !== "credential-process") { console.error("unknown command " + command); process.exit(1); }
const args = {};
for (let i = 0; i < rest.length; i++) {
  const name = rest[i].replace(/^--/, "");
  if (!rest[i].startsWith("--") || !(name in flags)) { console.error("unknown flag " + rest[i]); process.exit(1); }
  args[name] = flags[name] === "bool" ? true : rest[++i];
}
const read = (f) => fs.readFileSync(f, "utf8").split("\\n")[0];
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args, certificate: read(args.certificate), key: read(args["private-key"]) }));
console.log(JSON.stringify({ Version: 1, AccessKeyId: "ASIALOOPBACKX509", SecretAccessKey: "s", SessionToken: "x509-session", Expiration: "2099-01-01T00:00:00Z" }));
`;
  const file = path.join(dir, "aws_signing_helper");
  writeFileSync(file, helper);
  chmodSync(file, 0o755);
  return { dir, record };
}

describe("X.509 path: the AWS SDK's default chain runs the config file's credential_process", () => {
  it("runs aws_signing_helper on the SVID files with the ARNs from the environment", async () => {
    server.requests.length = 0;
    const { root, env } = pod("catalog-sync");
    expect(Object.keys(env).sort()).toEqual([
      "AWS_CONFIG_FILE",
      "AWS_REGION",
      "SPIFFE_AWS_PROFILE_ARN",
      "SPIFFE_AWS_ROLE_ARN",
      "SPIFFE_AWS_TRUST_ANCHOR_ARN",
    ]);
    root.write("/run/spiffe/certs/svid.pem", "-----BEGIN CERTIFICATE----- leaf\n");
    root.write("/run/spiffe/certs/svid_key.pem", "-----BEGIN PRIVATE KEY----- key\n");
    const helper = fakeSigningHelper();
    const PATH = [helper.dir, "/usr/bin", "/bin", path.dirname(process.execPath)].join(":");
    const r = await runNode(
      script("fromNodeProviderChain"),
      { ...env, ...loopback(), PATH },
      tls.caPem,
    );
    expect(r.stderr).toBe("");
    expect(r.out).toEqual({ accessKeyId: "ASIALOOPBACKX509", sessionToken: "x509-session" });
    const call = JSON.parse(readFileSync(helper.record, "utf8"));
    expect(call).toEqual({
      args: {
        certificate: root.at("/run/spiffe/certs/svid.pem"),
        "private-key": root.at("/run/spiffe/certs/svid_key.pem"),
        intermediates: root.at("/run/spiffe/certs/svid.pem"),
        "trust-anchor-arn": ARN.anchor,
        "profile-arn": ARN.profile,
        "role-arn": ARN.catalog,
        "session-duration": "3600",
      },
      certificate: "-----BEGIN CERTIFICATE----- leaf",
      key: "-----BEGIN PRIVATE KEY----- key",
    });
    // Roles Anywhere is the helper's to call: the SDK itself sent nothing.
    expect(server.requests).toEqual([]);
  });
});
