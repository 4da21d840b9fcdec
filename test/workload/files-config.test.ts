/**
 * The `workloadFiles` config block and its rules: the cert directory, the pinned helper image,
 * each bad key reported at its path, the defaults, and a workload opting out.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  certDirProblem,
  DEFAULT_HELPER_IMAGE,
  helperImageProblem,
} from "../../components/workload/index";
import { baseConfig } from "../fixtures";
import { problemsOf as problemsOfConfig, type Mutate } from "../support/config-problems";

describe("workloadFiles rules", () => {
  const certDirs: [string, string | undefined][] = [
    ["/run/spiffe/certs", undefined],
    ["/var/run/identity", undefined],
    ["/certs", undefined],
    [
      "run/certs",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/run/spiffe/certs/",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/run/../etc",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/run/spiffe certs",
      "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)",
    ],
    [
      "/etc",
      "must not be /etc: the in-memory volume mounted there would hide what the image keeps in it",
    ],
    [
      "/tmp",
      "must not be /tmp: the in-memory volume mounted there would hide what the image keeps in it",
    ],
    [
      "/run/spiffe",
      "must not overlap /run/spiffe/config, where the pod patch mounts the workload's ConfigMap",
    ],
    [
      "/run/spiffe/config/certs",
      "must not overlap /run/spiffe/config, where the pod patch mounts the workload's ConfigMap",
    ],
    [
      "/spiffe-workload-api",
      "must not overlap /spiffe-workload-api, where the pod patch mounts the SPIFFE CSI volume",
    ],
    [
      "/etc/spiffe-helper/certs",
      "must not overlap /etc/spiffe-helper, where the pod patch mounts the helper's configuration",
    ],
  ];
  it.each(certDirs)("certDir %s", (dir, problem) => expect(certDirProblem(dir)).toBe(problem));

  const digest = `sha256:${"ab".repeat(32)}`;
  const images: [string, string | undefined][] = [
    [DEFAULT_HELPER_IMAGE, undefined],
    ["registry.internal:5000/mirror/spiffe-helper:0.11.0", undefined],
    [`ghcr.io/spiffe/spiffe-helper@${digest}`, undefined],
    [`ghcr.io/spiffe/spiffe-helper:latest@${digest}`, undefined],
    [
      "ghcr.io/spiffe/spiffe-helper",
      "must pin a tag or a digest (an image without one means latest)",
    ],
    [
      "registry.internal:5000/spiffe-helper",
      "must pin a tag or a digest (an image without one means latest)",
    ],
    ["ghcr.io/spiffe/spiffe-helper:latest", "must pin a version or a digest, not latest"],
    [
      "ghcr.io/Spiffe/helper:1",
      "must be an image reference such as ghcr.io/spiffe/spiffe-helper:0.11.0",
    ],
    ["spiffe helper:1", "must be an image reference such as ghcr.io/spiffe/spiffe-helper:0.11.0"],
    [
      "ghcr.io/spiffe/spiffe-helper@sha256:abc",
      "must be an image reference such as ghcr.io/spiffe/spiffe-helper:0.11.0",
    ],
  ];
  it.each(images)("helperImage %s", (image, problem) =>
    expect(helperImageProblem(image)).toBe(problem),
  );
});

describe("workloadFiles config", () => {
  function problemsOf(mutate: Mutate): string[] {
    const raw = baseConfig() as Record<string, any>;
    mutate(raw);
    return problemsOfConfig(raw);
  }

  it("reports each bad key at its path", () => {
    expect(
      problemsOf((c) => {
        c.workloadFiles = {
          enabled: "yes",
          helperImage: "ghcr.io/spiffe/spiffe-helper:latest",
          certDir: "/etc",
          mode: "sidecar",
        };
        c.workloads[1].files = "no";
      }),
    ).toEqual([
      "spire-federation:workloadFiles.enabled: must be true or false",
      "spire-federation:workloadFiles.helperImage: must pin a version or a digest, not latest",
      "spire-federation:workloadFiles.certDir: must not be /etc: the in-memory volume mounted there would hide what the image keeps in it",
      "spire-federation:workloadFiles.mode: unknown key",
      "spire-federation:workloads[1].files: must be true or false",
    ]);
  });

  it("defaults to files for every workload with the pinned helper", () => {
    const m = parseStackConfig(baseConfig());
    expect(m.workloadFiles).toEqual({
      enabled: true,
      helperImage: "ghcr.io/spiffe/spiffe-helper:0.11.0",
      certDir: "/run/spiffe/certs",
    });
    expect(m.workloads.map((w) => ("files" in w ? w.files : "node workload"))).toEqual([
      true,
      true,
    ]);
  });

  it("a workload may opt out; enabled: false turns every workload off", () => {
    const raw = baseConfig() as Record<string, any>;
    raw.workloads[0].files = false;
    expect(
      parseStackConfig(raw).workloads.map((w) => ("files" in w ? w.files : "node workload")),
    ).toEqual([false, true]);
    raw.workloadFiles = { enabled: false };
    raw.workloads[1].files = true;
    expect(
      parseStackConfig(raw).workloads.map((w) => ("files" in w ? w.files : "node workload")),
    ).toEqual([false, false]);
  });
});
