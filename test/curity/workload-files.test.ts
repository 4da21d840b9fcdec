/**
 * Curity's workload-files contribution, on the curity stack with another `cert_dir`: the helper
 * fetches a JWT-SVID for exactly the audience each JWT client checks, into the file the login's
 * `curl` reads, and every path the login and the environment name is one the helper writes.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { PodPatch } from "../../components/workload/pod-patch";
import type { ProgramRun } from "../../tools/harness";
import { loadStackConfig } from "../../tools/stack-config";
import { prepareProgram, runProgram } from "../compiled";
import { ROOT } from "../helpers";

const load = createRequire(__filename);
const hcl = load("hcl-parser") as { parse(text: string): [unknown, unknown] };
const CERT_DIR = "/var/run/identity";
const CLIENT = "pulumi-nodejs:dynamic/curity:Client";

let run: ProgramRun;
beforeAll(async () => {
  const { config, secretKeys } = loadStackConfig(ROOT, "curity");
  config["spire-federation:workloadFiles"] = JSON.stringify({ certDir: CERT_DIR });
  run = await runProgram(prepareProgram, {
    project: "spire-federation",
    stack: "curity",
    config,
    secretKeys,
    preview: false,
  });
});

/** One workload's helper.conf (parsed by an HCL1 parser, as spiffe-helper reads it) and env. */
function files(workload: string) {
  const out = (run.outputs.workloadFiles as Record<string, any>)[workload];
  const cm = run.resources.find(
    (r) =>
      r.type === "kubernetes:core/v1:ConfigMap" &&
      (r.rawInputs.metadata as { name: string }).name === out.configMap,
  )!;
  const [conf, err] = hcl.parse((cm.rawInputs.data as Record<string, string>)["helper.conf"]);
  expect(err).toBeFalsy();
  const patch = out.podPatch as PodPatch;
  const app = patch.spec.template.spec.containers.find((c) => c.name === workload)!;
  const env = Object.fromEntries(app.env.map((e) => [e.name, e.value]));
  return { conf: conf as Record<string, any>, env };
}

/** The audience Curity checks for a workload's client (its assertion), if it has a JWT flow. */
function checkedAudience(workload: string): string | undefined {
  const c = run.resources.find(
    (r) => r.type === CLIENT && (r.rawInputs.body as any)["client-name"] === workload,
  )!;
  return (c.rawInputs.assertion as { audience: string } | undefined)?.audience;
}

describe("Curity workload files, cert_dir /var/run/identity", () => {
  it.each(["reports-api", "ledger"])(
    "%s (JWT flow): a JWT-SVID for the audience its client checks, where its curl reads it",
    (workload) => {
      const { conf, env } = files(workload);
      const login = (run.outputs.federation as any)[workload].curity;
      expect(conf.cert_dir).toBe(CERT_DIR);
      expect(conf.jwt_svids).toEqual([
        {
          jwt_audience: "https://login.apps.example.com/oauth/v2/oauth-token",
          jwt_svid_file_name: "curity-jwt-svid.token",
        },
      ]);
      expect(conf.jwt_svids[0].jwt_audience).toBe(checkedAudience(workload));
      const token = path.posix.join(CERT_DIR, "curity-jwt-svid.token");
      expect(login.jwtSvidFile).toBe(token);
      expect(login.curl.jwt).toContain(`client_assertion=$(cat ${token})`);
      expect(login.curl.jwt).toContain(`-X POST '${login.tokenUrl}'`);
      expect(env).toMatchObject({
        CURITY_CLIENT_ID: login.clientId,
        CURITY_SCOPE: login.scopes.join(" "),
        CURITY_TOKEN_URL: login.tokenUrl,
        CURITY_JWT_SVID_FILE: token,
      });
    },
  );

  it("batch-export (X.509 only): no JWT-SVID; its curl presents the SVID the helper writes in cert_dir", () => {
    const { conf, env } = files("batch-export");
    const login = (run.outputs.federation as any)["batch-export"].curity;
    expect(conf.jwt_svids).toBeUndefined();
    expect(path.posix.join(CERT_DIR, conf.svid_file_name)).toBe(`${CERT_DIR}/svid.pem`);
    expect(login.curl.x509).toContain(
      `--cert ${CERT_DIR}/svid.pem --key ${CERT_DIR}/${conf.svid_key_file_name}`,
    );
    expect(checkedAudience("batch-export")).toBeUndefined();
    expect(env).toEqual({
      CURITY_CLIENT_ID: "spiffe-batch-export",
      CURITY_SCOPE: "exports:write reports",
      CURITY_MTLS_TOKEN_URL: "https://login.apps.example.com/oauth/v2/oauth-token-mutual-tls",
    });
  });
});
