/**
 * The WorkloadFiles component under mocks: contributions refused before anything registers,
 * and the exact inputs of the ConfigMaps, the pod patch, its checksum and the `files` output.
 */
import { describe, expect, it } from "vitest";
import {
  configChecksum,
  DEFAULT_HELPER_IMAGE,
  helperConf,
  workloadFilesArgsProblems,
  type WorkloadFilesArgs,
} from "../../components/workload/index";
import { runProgram } from "../compiled";
import { CONFIG_MAP, load, resources, WorkloadFiles } from "./files-check";

describe("WorkloadFiles under mocks", () => {
  const args = (contributions: WorkloadFilesArgs["workloads"][0]["contributions"]) => ({
    helperImage: DEFAULT_HELPER_IMAGE,
    certDir: "/run/spiffe/certs",
    workloads: [{ name: "api", namespace: "shop", contributions }],
  });

  it("refuses clashing or unusable contributions before registering anything", () => {
    expect(
      workloadFilesArgsProblems({
        ...args([
          {
            party: "a",
            jwtSvids: [
              { audience: "x${y}", fileName: "a.token" },
              { audience: "b", fileName: "../b.token" },
              { audience: "c", fileName: "svid.pem" },
            ],
            files: {
              "helper.conf": { content: "x" },
              "a.json": { content: "{}", path: "etc/a.json" },
              "b.json": { content: "{}", path: "/run/spiffe/config/b.json" },
            },
            env: { A: "1", "1B": "2" },
          },
          {
            party: "b",
            env: { A: "3" },
            files: {
              "c.json": { content: "{}", path: "/run/spiffe/certs/c.json" },
              "d.json": { content: "{}", path: "/run/spiffe" },
            },
          },
        ]),
        helperImage: "helper",
      }),
    ).toEqual([
      'helper image "helper" must pin a tag or a digest (an image without one means latest)',
      'workload api, a: audience "x${y}" must not contain ${ (spiffe-helper\'s HCL parser reads it as an interpolation)',
      'workload api, a: JWT-SVID file name "../b.token" must be a file name of letters, digits, . _ and - (at most 253)',
      "workload api, a: /run/spiffe/certs/svid.pem is already provided by spiffe-helper",
      'workload api, a: ConfigMap key "helper.conf" is already taken',
      'workload api, a: path "etc/a.json" of a.json must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)',
      "workload api, a: path /run/spiffe/config/b.json of b.json lies in /run/spiffe/config; omit it",
      'workload api, a: environment variable "1B" must be letters, digits and _, not starting with a digit',
      "workload api, b: path /run/spiffe/certs/c.json of c.json overlaps /run/spiffe/certs, which only the helper writes; omit the path to use /run/spiffe/config",
      "workload api, b: path /run/spiffe of d.json overlaps /run/spiffe/certs, which only the helper writes; omit the path to use /run/spiffe/config",
      "workload api, b: environment variable A is already set by a",
    ]);
    expect(() => new WorkloadFiles("wf", { ...args([]), certDir: "/tmp" })).toThrow(
      'WorkloadFiles wf: cert directory "/tmp" must not be /tmp: the in-memory volume mounted there would hide what the image keeps in it',
    );
  });

  it("writes the ConfigMaps with exact inputs: literals in the patch, Outputs in the env ConfigMap", async () => {
    const pulumi = load("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const run = await runProgram(
      () => () => {
        const c = new WorkloadFiles(
          "wf",
          args([
            {
              party: "acme",
              jwtSvids: [{ audience: "acme-api", fileName: "acme.token" }],
              files: { "acme.json": { content: '{"token":"/run/spiffe/certs/acme.token"}' } },
              env: {
                ACME_TOKEN_FILE: "/run/spiffe/certs/acme.token",
                ACME_ID: pulumi.output("id-42"),
              },
            },
          ]),
        );
        return { files: c.outputs };
      },
      { project: "p", stack: "s", config: {}, preview: false },
    );
    const maps = resources(run, CONFIG_MAP).sort((x, y) => x.name.localeCompare(y.name));
    expect(maps.map((r) => [r.name, r.rawInputs.metadata, r.dependencies])).toEqual([
      ["wf-api", { name: "api-spiffe", namespace: "shop", labels: expect.any(Object) }, []],
      ["wf-api-env", { name: "api-spiffe-env", namespace: "shop", labels: expect.any(Object) }, []],
    ]);
    expect(maps[0].rawInputs.data).toEqual({
      "acme.json": '{"token":"/run/spiffe/certs/acme.token"}',
      "helper.conf": helperConf({
        workload: "api",
        certDir: "/run/spiffe/certs",
        jwtSvids: [{ audience: "acme-api", fileName: "acme.token" }],
      }),
    });
    expect(maps[1].rawInputs.data).toEqual({ ACME_ID: "id-42" });
    const app = (run.outputs.files as any).api.podPatch.spec.template.spec.containers[0];
    expect(app.env).toEqual([
      { name: "ACME_TOKEN_FILE", value: "/run/spiffe/certs/acme.token", valueFrom: null },
      {
        name: "ACME_ID",
        value: null,
        valueFrom: { configMapKeyRef: { name: "api-spiffe-env", key: "ACME_ID" } },
      },
    ]);
    // The pod template carries the checksum of the ConfigMaps' content.
    expect((run.outputs.files as any).api.podPatch.spec.template.metadata).toEqual({
      annotations: {
        "spire-federation/config-sha256": configChecksum(maps[0].rawInputs.data as any, [
          "ACME_ID",
        ]),
      },
    });
    expect((run.outputs.files as any).api.files).toEqual({
      "/run/spiffe/certs/acme.token": "spiffe-helper",
      "/run/spiffe/certs/jwt_bundle.json": "spiffe-helper",
      "/run/spiffe/certs/svid.pem": "spiffe-helper",
      "/run/spiffe/certs/svid_bundle.pem": "spiffe-helper",
      "/run/spiffe/certs/svid_key.pem": "spiffe-helper",
      "/run/spiffe/config/acme.json": "configMap:acme.json",
    });
  });
});
