/**
 * spiffe-helper's configuration as the package writes it: only keys spiffe-helper v0.11.0
 * knows, with their types (test/contracts/spiffe-helper), audiences carried through HCL exactly,
 * and the CSI driver and agent socket the spire chart 0.30.0 mounts.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { AGENT_SOCKET_PATH, CSI_DRIVER, helperConf } from "../../components/workload/index";
import { chart, helperConfProblems, parseHcl } from "./files-check";

describe("spiffe-helper configuration", () => {
  it("uses only keys spiffe-helper v0.11.0 knows, with their types", () => {
    const text = helperConf({
      workload: "w",
      certDir: "/run/spiffe/certs",
      jwtSvids: [
        { audience: "vault", fileName: "vault.token" },
        { audience: "api://AzureADTokenExchange", fileName: "azure.token" },
      ],
    });
    expect(helperConfProblems(text)).toEqual([]);
    expect(parseHcl(text)).toEqual({
      agent_address: "/spiffe-workload-api/spire-agent.sock",
      daemon_mode: true,
      cert_dir: "/run/spiffe/certs",
      svid_file_name: "svid.pem",
      svid_key_file_name: "svid_key.pem",
      svid_bundle_file_name: "svid_bundle.pem",
      jwt_bundle_file_name: "jwt_bundle.json",
      cert_file_mode: 0o644,
      key_file_mode: 0o644,
      jwt_bundle_file_mode: 0o644,
      jwt_svid_file_mode: 0o644,
      jwt_svids: [
        { jwt_audience: "vault", jwt_svid_file_name: "vault.token" },
        { jwt_audience: "api://AzureADTokenExchange", jwt_svid_file_name: "azure.token" },
      ],
      health_checks: [
        {
          listener_enabled: true,
          bind_port: 8081,
          liveness_path: "/live",
          readiness_path: "/ready",
        },
      ],
    });
  });

  it("the checker itself catches an unknown key, a wrong type and a repeated key", () => {
    expect(helperConfProblems('cert_dir = "/x"\ncert_dirs = "/y"\n')).toEqual([
      "unknown key cert_dirs",
    ]);
    expect(helperConfProblems('daemon_mode = "yes"\n')).toEqual(["daemon_mode is not a bool"]);
    expect(helperConfProblems('jwt_svids = [{ jwt_audience = "a", file = "f" }]\n')).toEqual([
      "jwt_svids[0]: unknown key file",
      "jwt_svids[0]: jwt_svid_file_name is required",
    ]);
    expect(helperConfProblems('hint = "a"\nhint = "b"\n')).toEqual(["a key repeats: hint,hint"]);
  });

  it("omits jwt_svids without audiences, and carries any audience through HCL exactly", () => {
    expect(parseHcl(helperConf({ workload: "w", certDir: "/c", jwtSvids: [] })).jwt_svids).toBe(
      undefined,
    );
    const odd = 'a "quoted" \\ back\\slash, ünïcode and api://x?y=1';
    const conf = parseHcl(
      helperConf({ workload: "w", certDir: "/c", jwtSvids: [{ audience: odd, fileName: "t" }] }),
    );
    expect(conf.jwt_svids).toEqual([{ jwt_audience: odd, jwt_svid_file_name: "t" }]);
  });

  it("names the CSI driver and agent socket the spire chart 0.30.0 mounts", () => {
    expect(CSI_DRIVER).toBe(chart("spiffe-csi-driver.pluginName"));
    expect(chart("spire-agent.socketPath")).toBe(chart("spiffe-csi-driver.agentSocketPath"));
    expect(path.posix.basename(AGENT_SOCKET_PATH)).toBe(
      path.posix.basename(chart("spiffe-csi-driver.agentSocketPath")),
    );
  });
});
