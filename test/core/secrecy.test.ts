/** Secure values: the datastore password must be one, nothing else may be, at any depth. */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { baseConfig } from "../fixtures";
import { stackFileSecretPaths } from "../../program";
import { stackConfigFromYaml } from "../../tools/stack-config";
import { planStack } from "../compiled";
import { postgres, problemsOf } from "../support/config-problems";

describe("secure values", () => {
  it("requires the datastore password to be a secure value", () => {
    const raw = { ...baseConfig(), spire: { replicas: 3, datastore: postgres } };
    expect(problemsOf(raw, [])).toEqual([
      "spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    ]);
    const model = parseStackConfig(raw, { secretKeys: new Set(["spire"]) });
    expect(model.spire.replicas).toBe(3);
  });
});

describe("secure values, value by value", () => {
  const withPostgres = () => ({
    ...baseConfig(),
    spire: { replicas: 2, datastore: { ...postgres } },
  });
  const parse = (raw: Record<string, unknown>, keys: string[], paths?: string[]) =>
    parseStackConfig(raw, {
      secretKeys: new Set(keys),
      secretPaths: paths === undefined ? undefined : new Set(paths),
    });
  const problemsWith = (raw: Record<string, unknown>, keys: string[], paths?: string[]) => {
    try {
      parse(raw, keys, paths);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
    throw new Error("config was accepted");
  };

  it("accepts the password as the one secure value", () => {
    expect(parse(withPostgres(), ["spire"], ["spire.datastore.password"]).spire.replicas).toBe(2);
  });

  it("rejects a plaintext password beside a secure username (the block is secret as a whole)", () => {
    expect(problemsWith(withPostgres(), ["spire"], ["spire.datastore.username"])).toEqual([
      "spire-federation:spire.datastore.username: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    ]);
  });

  it("rejects a secure value wherever a plain one is used, at any depth", () => {
    const raw = baseConfig();
    expect(
      problemsWith(
        raw,
        ["trustDomain", "oidc", "workloads"],
        ["oidc.tls.acme.email", "workloads[1].podLabels.app"],
      ),
    ).toEqual([
      "spire-federation:trustDomain: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:oidc.tls.acme.email: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:workloads[1].podLabels.app: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
    ]);
  });

  it("names keys with dots in the --path syntax", () => {
    const raw = baseConfig();
    (raw.workloads as Record<string, any>[])[1].podLabels = { "app.kubernetes.io/name": "w" };
    expect(
      problemsWith(raw, ["workloads"], ['workloads[1].podLabels["app.kubernetes.io/name"]']),
    ).toEqual([
      "spire-federation:workloads[1].podLabels.app.kubernetes.io/name: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
    ]);
  });

  it("knowing only top-level keys: a secure block without a password field is refused", () => {
    expect(problemsWith(baseConfig(), ["oidc"])).toEqual([
      "spire-federation:oidc: holds a secure value, but none of its values may be secret; the package uses them in clear (resource inputs, outputs): set them without --secret",
    ]);
    // A block with a password field passes: the password may be the secure value.
    expect(parse(withPostgres(), ["spire"]).spire.replicas).toBe(2);
    // Paths under a key the engine does not mark secret are stale and ignored.
    expect(problemsWith(withPostgres(), [], ["spire.datastore.password"])).toEqual([
      "spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
    ]);
  });

  const stackFile = `config:
  spire-federation:trustDomain: test.example.com
  spire-federation:clusterName: test-cluster
  spire-federation:oidc:
    host: oidc.test.example.com
    ingressClassName: nginx
    tls: { acme: { email: ops@example.com } }
  spire-federation:ca: { mode: generated }
  spire-federation:spire:
    replicas: 2
    datastore:
      type: postgres
      host: db.example.com
      database: spire
      username: { secure: v1:dXNlcg== }
      password: hunter2
  spire-federation:workloads:
    - name: api
      namespace: shop
      serviceAccount: api
      podLabels:
        app.kubernetes.io/name: { secure: v1:YXBp }
`;

  it("the stack file tells which values are secure, by path", () => {
    expect(stackConfigFromYaml(stackFile).secretPaths).toEqual([
      "spire-federation:spire.datastore.username",
      'spire-federation:workloads[0].podLabels["app.kubernetes.io/name"]',
    ]);
  });

  it("the program reads them from the stack's file in the project's stackConfigDir", () => {
    const root = mkdtempSync(path.join(tmpdir(), "secret-paths-"));
    writeFileSync(
      path.join(root, "Pulumi.yaml"),
      "name: x\nruntime: nodejs\nstackConfigDir: conf\n",
    );
    mkdirSync(path.join(root, "conf"));
    writeFileSync(path.join(root, "conf", "Pulumi.qa.yaml"), stackFile);
    expect(stackFileSecretPaths(root, "qa")).toEqual([
      "spire-federation:spire.datastore.username",
      'spire-federation:workloads[0].podLabels["app.kubernetes.io/name"]',
    ]);
    expect(stackFileSecretPaths(root, "other")).toBeUndefined();
  });

  it("the offline plan refuses a plaintext password beside a secure username", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "stacks-"));
    writeFileSync(path.join(dir, "Pulumi.leaf.yaml"), stackFile);
    await expect(planStack("leaf", dir)).rejects.toThrow(
      [
        "invalid stack config:",
        "  spire-federation:spire.datastore.username: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
        "  spire-federation:spire.datastore.password: must be a secure value (pulumi config set --secret --path spire.datastore.password …)",
        "  spire-federation:workloads[0].podLabels.app.kubernetes.io/name: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      ].join("\n"),
    );
  });

  it("checks nothing when the caller knows nothing about secrets", () => {
    expect(parseStackConfig(withPostgres()).spire.replicas).toBe(2);
  });
});
