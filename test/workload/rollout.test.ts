/**
 * A changed ConfigMap rolls the pods: spiffe-helper reads `helper.conf` once, at start, so the
 * pod patch carries a checksum of the ConfigMaps' content on the pod template.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CONFIG_CHECKSUM_ANNOTATION,
  configChecksum,
  DEFAULT_HELPER_IMAGE,
  type WorkloadFilesArgs,
} from "../../components/workload/index";
import { runProgram } from "../compiled";
import { ROOT } from "../helpers";

const load = createRequire(__filename);
// The component from bin/, like the program the harness runs (one @pulumi/pulumi instance).
const { WorkloadFiles } = load(
  path.join(ROOT, "bin", "components", "workload", "component.js"),
) as typeof import("../../components/workload/component");

type Contribution = WorkloadFilesArgs["workloads"][0]["contributions"][0];

/** The checksum annotation and the files ConfigMap's data of one workload `api`. */
async function plan(contribution: Contribution, certDir = "/run/spiffe/certs") {
  const run = await runProgram(
    () => () => {
      const c = new WorkloadFiles("wf", {
        helperImage: DEFAULT_HELPER_IMAGE,
        certDir,
        workloads: [{ name: "api", namespace: "shop", contributions: [contribution] }],
      });
      return { files: c.outputs };
    },
    { project: "p", stack: "s", config: {}, preview: false },
  );
  const cm = run.resources.find((r) => r.name === "wf-api")!;
  const out = (run.outputs.files as any).api;
  return {
    annotation: out.podPatch.spec.template.metadata.annotations[CONFIG_CHECKSUM_ANNOTATION],
    data: cm.rawInputs.data as Record<string, string>,
  };
}

const base: Contribution = {
  party: "acme",
  jwtSvids: [{ audience: "acme-api", fileName: "acme.token" }],
  files: { "acme.json": { content: '{"a":1}' } },
  env: { ACME_FILE: "/run/spiffe/certs/acme.token" },
};

describe("the pod template's ConfigMap checksum", () => {
  it("is the SHA-256 of exactly what the ConfigMaps hold", async () => {
    const p = await plan(base);
    expect(p.annotation).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p.annotation).toBe(configChecksum(p.data, []));
    // Key order does not matter; content does.
    expect(configChecksum({ b: "2", a: "1" }, [])).toBe(configChecksum({ a: "1", b: "2" }, []));
    expect(configChecksum({ a: "1" }, ["X"])).not.toBe(configChecksum({ a: "1" }, []));
    expect(configChecksum({ a: "1" }, [])).not.toBe(configChecksum({ a: "2" }, []));
  });

  it("changes when helper.conf changes (another audience, another cert_dir) and only then", async () => {
    const first = await plan(base);
    const again = await plan(structuredClone(base));
    expect(again.annotation).toBe(first.annotation);
    const audience = await plan({
      ...base,
      jwtSvids: [{ audience: "acme-api-v2", fileName: "acme.token" }],
    });
    expect(audience.data["helper.conf"]).not.toBe(first.data["helper.conf"]);
    expect(audience.annotation).not.toBe(first.annotation);
    const dir = await plan(
      { ...base, env: { ACME_FILE: "/var/run/identity/acme.token" } },
      "/var/run/identity",
    );
    expect(dir.annotation).not.toBe(first.annotation);
  });

  it("changes when a relying party's file changes", async () => {
    const first = await plan(base);
    const changed = await plan({ ...base, files: { "acme.json": { content: '{"a":2}' } } });
    expect(changed.annotation).not.toBe(first.annotation);
  });
});
