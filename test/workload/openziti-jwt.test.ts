/**
 * OpenZiti on the JWT path only (`x509: false`): the auth policy forbids certificate
 * authentication, so the workload gets no identity file (whose `id` would make the SDKs try it)
 * and no `ZITI_IDENTITIES`; it gets what the JWT path uses: the token file the helper writes for
 * the signer's audience and the Edge Client API URL (`…/edge/client/v1`), as the OpenZiti Go SDK
 * takes them (`edge_apis.NewJwtCredentials`, `ziti.Config.ZtAPI`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ProgramRun } from "../../tools/harness";
import { mergeBlock, runProdWith } from "./prod";

const AUTH_POLICY = "pulumi-nodejs:dynamic/openziti:AuthPolicy";

function prodWith(ziti: Record<string, unknown>): Promise<ProgramRun> {
  return runProdWith((config) => mergeBlock(config, "openziti", ziti));
}

describe("OpenZiti with x509: false", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await prodWith({ x509: false, jwt: true });
  });

  it("the auth policy admits the JWT signer only", () => {
    const policy = run.resources.find((r) => r.type === AUTH_POLICY)!;
    const primary = (policy.rawInputs.body as any).primary;
    expect(primary.cert.allowed).toBe(false);
    expect(primary.extJwt.allowed).toBe(true);
  });

  it("the login names the client API and the token file, and no certificate", () => {
    expect((run.outputs.federation as any)["payments-api"].openziti).toEqual({
      ztAPI: "https://ziti.prod.example.com:1280/edge/client/v1",
      jwtFile: "/run/spiffe/certs/openziti-jwt-svid.token",
    });
  });

  it("the pods get the token for the signer's audience and the client API URL, no identity file", () => {
    const out = (run.outputs.workloadFiles as any)["payments-api"];
    const cm = run.resources.find(
      (r) =>
        r.type === "kubernetes:core/v1:ConfigMap" &&
        (r.rawInputs.metadata as any).name === out.configMap,
    )!;
    const data = cm.rawInputs.data as Record<string, string>;
    expect(Object.keys(data)).not.toContain("openziti-identity.json");
    expect(data["helper.conf"]).toContain(
      '{ jwt_audience = "openziti", jwt_svid_file_name = "openziti-jwt-svid.token" },',
    );
    const env = out.podPatch.spec.template.spec.containers[0].env as any[];
    const ziti = env.filter((e) => e.name.startsWith("ZITI_"));
    expect(ziti).toEqual([
      {
        name: "ZITI_CLIENT_API_URL",
        value: "https://ziti.prod.example.com:1280/edge/client/v1",
        valueFrom: null,
      },
      {
        name: "ZITI_JWT_FILE",
        value: "/run/spiffe/certs/openziti-jwt-svid.token",
        valueFrom: null,
      },
    ]);
    expect(out.files["/run/spiffe/certs/openziti-jwt-svid.token"]).toBe("spiffe-helper");
  });
});

describe("OpenZiti with x509 (prod: both paths)", () => {
  it("the identity file's ztAPI names the client API, and ZITI_IDENTITIES names the file", async () => {
    const run = await prodWith({});
    const login = (run.outputs.federation as any)["payments-api"].openziti;
    expect(login.ztAPI).toBe("https://ziti.prod.example.com:1280/edge/client/v1");
    expect(login.id.cert).toBe("file:///run/spiffe/certs/svid.pem");
    const env = (run.outputs.workloadFiles as any)["payments-api"].podPatch.spec.template.spec
      .containers[0].env as any[];
    expect(env.filter((e) => e.name.startsWith("ZITI_")).map((e) => [e.name, e.value])).toEqual([
      ["ZITI_IDENTITIES", "/run/spiffe/config/openziti-identity.json"],
      ["ZITI_JWT_FILE", "/run/spiffe/certs/openziti-jwt-svid.token"],
    ]);
  });
});
