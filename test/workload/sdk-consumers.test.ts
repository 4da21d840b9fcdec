/**
 * The generated files, loaded by the relying parties' real SDKs: Google's `google-auth-library`
 * (10.9.1) on the OIDC and the X.509 credential configurations, Microsoft's `@azure/identity`
 * (`WorkloadIdentityCredential`, from the pod's environment) — each in a child node with exactly
 * the pod's environment, against a recording HTTPS server on 127.0.0.1 (the test CA trusted via
 * NODE_EXTRA_CA_CERTS). Only the endpoints are moved to loopback, through each SDK's own
 * settings (`token_url` and `cloud_resource_manager_url` of the credential configuration,
 * `AZURE_AUTHORITY_HOST`); every metadata server points at a closed loopback port.
 */
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProgramRun } from "../../tools/harness";
import { makeCertificate, makeLoopbackServerCredentials, pkcs8Pem } from "../fixtures";
import { computedOutputs, fakeIdentity, runStackFile } from "../helpers";
import {
  PodRoot,
  recordingServer,
  runNode,
  type RecordingServer,
  type Responder,
} from "./sdk-sandbox";

const WORKLOAD = "payments-api";
const PROJECT_NUMBER = "482915736204";
const SVID_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzcGlmZmUifQ.c2ln"; // what the helper wrote

/** Answers like Google's STS, Cloud Resource Manager and Entra ID's v2 endpoints. */
const respond: Responder = (r, origin) => {
  if (r.method === "POST" && r.url === "/v1/token") {
    return {
      status: 200,
      body: {
        access_token: "ya29.loopback",
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer",
        expires_in: 3600,
      },
    };
  }
  if (r.method === "GET" && r.url.startsWith("/v1/projects/")) {
    return { status: 200, body: { projectId: "from-resource-manager" } };
  }
  const tenant = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration/.exec(r.url)?.[1];
  if (r.method === "GET" && tenant) {
    return {
      status: 200,
      body: {
        issuer: `${origin}/${tenant}/v2.0`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
        end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        response_types_supported: ["code"],
      },
    };
  }
  if (r.method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token/.test(r.url)) {
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: "entra.loopback",
      },
    };
  }
  return { status: 404, body: { error: "not_found" } };
};

const GOOGLE_SCRIPT = `
const { GoogleAuth } = require("google-auth-library");
(async () => {
  const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
  const client = await auth.getClient();
  const { token } = await client.getAccessToken();
  const projectId = await auth.getProjectId();
  console.log(JSON.stringify({ client: client.constructor.name, token, projectId }));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
`;

const AZURE_SCRIPT = `
const { WorkloadIdentityCredential } = require("@azure/identity");
(async () => {
  const credential = new WorkloadIdentityCredential({ disableInstanceDiscovery: true });
  const token = await credential.getToken("https://storage.azure.com/.default");
  console.log(JSON.stringify({ token: token.token }));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
`;

let run: ProgramRun;
let tls: Awaited<ReturnType<typeof makeLoopbackServerCredentials>>;
let server: RecordingServer;
/** The ConfigMap data, the env ConfigMap data and the patch's environment of the workload. */
let data: Record<string, string>;
let envData: Record<string, string>;
let patchEnv: { name: string; value: string | null; valueFrom: any }[];

beforeAll(async () => {
  run = await runStackFile("prod", computedOutputs("", ""));
  tls = await makeLoopbackServerCredentials();
  server = await recordingServer(tls, respond);
  const out = (run.outputs.workloadFiles as any)[WORKLOAD];
  const maps = run.resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap");
  const byName = (n: string) => maps.find((r) => (r.rawInputs.metadata as any).name === n)!;
  data = byName(out.configMap).rawInputs.data as Record<string, string>;
  envData = byName(out.envConfigMap).rawInputs.data as Record<string, string>;
  patchEnv = out.podPatch.spec.template.spec.containers[0].env;
});
afterAll(() => server?.close());

/** The container's environment as the kubelet sets it, its `/run/` paths under `pod`. */
function podEnv(pod: PodRoot, names: RegExp): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of patchEnv) {
    if (!names.test(e.name)) continue;
    const value = e.value ?? envData[e.valueFrom.configMapKeyRef.key];
    env[e.name] = pod.rebase(value);
  }
  return env;
}

/** Writes the ConfigMap's files where the pod mounts them, with token_url etc. on loopback. */
function mountConfig(pod: PodRoot, overrides: Record<string, string>): void {
  for (const [key, content] of Object.entries(data)) {
    if (!key.endsWith(".json")) continue;
    const json = JSON.parse(content);
    if (json.type === "external_account") Object.assign(json, overrides);
    pod.write(`/run/spiffe/config/${key}`, JSON.stringify(json), { rebase: true });
  }
}

/** Runs the Google script: an access token, the project from the environment, one STS call. */
async function expectOneStsExchange(env: Record<string, string>): Promise<void> {
  const r = await runNode(GOOGLE_SCRIPT, env, tls.caPem);
  expect(r.stderr).toBe("");
  expect(r.out).toEqual({
    client: "IdentityPoolClient",
    token: "ya29.loopback",
    projectId: "acme-platform-prod",
  });
  expect(server.requests.map((q) => `${q.method} ${q.url}`)).toEqual(["POST /v1/token"]);
}

function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

describe("google-auth-library on the OIDC credential configuration", () => {
  const overrides = () => ({
    token_url: `${server.origin}/v1/token`,
    cloud_resource_manager_url: `${server.origin}/v1/projects/`,
  });

  it("exchanges the helper's token file at STS and needs no Cloud Resource Manager lookup", async () => {
    server.requests.length = 0;
    const pod = new PodRoot();
    mountConfig(pod, overrides());
    pod.write("/run/spiffe/certs/gcp-jwt-svid.token", SVID_JWT);
    const env = podEnv(pod, /^GOOGLE_/);
    expect(Object.keys(env).sort()).toEqual([
      "GOOGLE_APPLICATION_CREDENTIALS",
      "GOOGLE_CLOUD_PROJECT",
    ]);
    await expectOneStsExchange(env);
    expect(form(server.requests[0].body)).toEqual({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      audience: `//iam.googleapis.com/projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/spiffe-prod/providers/spire-oidc`,
      scope: "https://www.googleapis.com/auth/cloud-platform",
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
      subject_token: SVID_JWT,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
  });

  it("without GOOGLE_CLOUD_PROJECT, getClient() asks Cloud Resource Manager (the reported failure)", async () => {
    server.requests.length = 0;
    const pod = new PodRoot();
    mountConfig(pod, overrides());
    pod.write("/run/spiffe/certs/gcp-jwt-svid.token", SVID_JWT);
    const env = podEnv(pod, /^GOOGLE_APPLICATION_CREDENTIALS$/);
    const r = await runNode(GOOGLE_SCRIPT, env, tls.caPem);
    expect(r.out.projectId).toBe("from-resource-manager");
    expect(server.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      "POST /v1/token",
      `GET /v1/projects/${PROJECT_NUMBER}`,
    ]);
  });
});

describe("google-auth-library on the X.509 credential configuration", () => {
  it("presents the helper's X509-SVID over mTLS, with its chain as the subject token", async () => {
    server.requests.length = 0;
    const pod = new PodRoot();
    mountConfig(pod, {
      token_url: `${server.origin}/v1/token`,
      cloud_resource_manager_url: `${server.origin}/v1/projects/`,
    });
    const root = await makeCertificate({ subject: "CN=spire root", ca: true });
    const leaf = await makeCertificate({
      subject: "CN=payments-api",
      ca: false,
      issuer: { subject: "CN=spire root", privateKey: root.keys.privateKey },
    });
    pod.write("/run/spiffe/certs/svid.pem", leaf.pem);
    pod.write("/run/spiffe/certs/svid_key.pem", await pkcs8Pem(leaf.keys.privateKey));
    // The X.509 configuration, as GOOGLE_APPLICATION_CREDENTIALS would name it without OIDC.
    const env = {
      GOOGLE_APPLICATION_CREDENTIALS: pod.at("/run/spiffe/config/gcp-x509-credentials.json"),
      GOOGLE_CLOUD_PROJECT: podEnv(pod, /^GOOGLE_CLOUD_PROJECT$/).GOOGLE_CLOUD_PROJECT,
    };
    await expectOneStsExchange(env);
    const sts = server.requests[0];
    const der = new X509Certificate(leaf.pem).raw;
    expect(sts.clientCert?.equals(der)).toBe(true);
    const body = form(sts.body);
    expect(body.audience).toBe(
      `//iam.googleapis.com/projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/spiffe-prod/providers/spire-x509`,
    );
    expect(body.subject_token_type).toBe("urn:ietf:params:oauth:token-type:mtls");
    expect(JSON.parse(body.subject_token)).toEqual([der.toString("base64")]);
  });
});

describe("@azure/identity's WorkloadIdentityCredential from the pod's environment", () => {
  it("posts the helper's token file as the client assertion, for the identity's client and tenant", async () => {
    server.requests.length = 0;
    const pod = new PodRoot();
    pod.write("/run/spiffe/certs/azure-jwt-svid.token", SVID_JWT);
    const env: Record<string, string> = {
      ...podEnv(pod, /^AZURE_/),
      AZURE_AUTHORITY_HOST: server.origin,
    };
    const identity = fakeIdentity("spire-federation-entra-payments-api");
    expect(env.AZURE_CLIENT_ID).toBe(identity.clientId);
    expect(env.AZURE_TENANT_ID).toBe(identity.tenantId);
    const r = await runNode(AZURE_SCRIPT, env, tls.caPem);
    expect(r.stderr).toBe("");
    expect(r.out).toEqual({ token: "entra.loopback" });
    const posts = server.requests.filter((q) => q.method === "POST");
    expect(posts.map((q) => q.url.split("?")[0])).toEqual([
      `/${identity.tenantId}/oauth2/v2.0/token`,
    ]);
    const body = form(posts[0].body);
    expect(body).toMatchObject({
      grant_type: "client_credentials",
      client_id: identity.clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: SVID_JWT,
      scope: "https://storage.azure.com/.default",
    });
    // Every request stayed on the loopback server.
    expect(server.requests.every((q) => q.headers.host === server.origin.slice(8))).toBe(true);
  });
});
