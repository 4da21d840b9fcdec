/**
 * The offline plan's command line and the stack file: `--help` is not an error, a misspelled
 * stack names the stacks there are, and a stack file the program cannot re-read fails the
 * per-value secrecy check instead of falling back to the key grain.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../components/config";
import { stackFileSecretPaths } from "../../program";
import { main } from "../../tools/plan";
import { loadStackConfig, StackFileError } from "../../tools/stack-config";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the plan's command line", () => {
  it.each([["--help"], ["-h"], ["--stack", "dev", "--help"]])(
    "%s prints the usage and exits 0",
    async (...argv) => {
      const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
      expect(await main(argv)).toBe(0);
      expect(log.mock.calls[0][0]).toMatch(/^usage: npm run plan -- --stack <name>/);
    },
  );

  it("a misspelled stack lists the stacks the folder holds", () => {
    const root = path.resolve(__dirname, "../..");
    expect(() => loadStackConfig(root, "deve")).toThrow(StackFileError);
    expect(() => loadStackConfig(root, "deve")).toThrow(
      /^no stack file .*Pulumi\.deve\.yaml \(stack "deve"\); available stacks: aws, curity, dev, east, edge, mesh, prod, team-payments, west$/,
    );
  });

  it("an empty stacks folder says so", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "stacks-"));
    expect(() => loadStackConfig(dir, "dev", dir)).toThrow(
      /; the folder holds no Pulumi\.<stack>\.yaml$/,
    );
  });
});

describe("the stack file must be re-readable for the per-value secrecy check", () => {
  it("more YAML aliases than the parser allows fail with a clear error, not a silent fallback", () => {
    const root = mkdtempSync(path.join(tmpdir(), "project-"));
    writeFileSync(path.join(root, "Pulumi.yaml"), "name: spire-federation\nruntime: nodejs\n");
    const aliases = Array.from({ length: 101 }, (_, i) => `  - *pw # ${i}`).join("\n");
    writeFileSync(
      path.join(root, "Pulumi.dev.yaml"),
      `config:\n  spire-federation:clusterName: &pw dev\n  spire-federation:extra:\n${aliases}\n`,
    );
    let err: unknown;
    try {
      stackFileSecretPaths(root, "dev");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toHaveLength(1);
    expect((err as ConfigError).problems[0]).toMatch(
      /^spire-federation: the stack file cannot be read to check which values are secure \(.*alias.*\); without it a plaintext password beside a secure value would pass: simplify the file \(e\.g\. fewer YAML aliases\) so that it parses$/i,
    );
  });

  it("no stack file at all is not an error (config from elsewhere): the key grain applies", () => {
    const root = mkdtempSync(path.join(tmpdir(), "project-"));
    writeFileSync(path.join(root, "Pulumi.yaml"), "name: spire-federation\nruntime: nodejs\n");
    expect(stackFileSecretPaths(root, "dev")).toBeUndefined();
  });
});
