/**
 * The prod stack's workload files, each workload checked for consistency (test/workload/
 * files-check.ts): the ConfigMaps and their edges, the env ConfigMap of values known only after
 * deploy, each SDK's variables, the helper's pinning and security context; the same at preview,
 * and with another cert_dir and a private controller CA.
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ProgramRun } from "../../tools/harness";
import { makeCertificate } from "../fixtures";
import { computedOutputs, fakeIdentity, previewStackFile, runStackFile } from "../helpers";
import { CONFIG_MAP, checkWorkload, examine, parseHcl, resources, TYPES } from "./files-check";
import { mergeBlock, runProdWith } from "./prod";

describe("prod stack: every workload's files", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStackFile("prod", computedOutputs("", ""));
  });

  it("plans a files ConfigMap per workload in its namespace, waiting on nothing", () => {
    const component = run.resources.find(
      (r) => r.type === "spire-federation:workload:WorkloadFiles",
    )!;
    expect(component.name).toBe("spire-federation-workload-files");
    const files = resources(run, CONFIG_MAP).filter((r) => !r.name.endsWith("-env"));
    expect(
      files.map((r) => [
        r.name,
        r.rawInputs.metadata,
        Object.keys(r.rawInputs.data as object).sort(),
      ]),
    ).toEqual([
      [
        "spire-federation-workload-files-orders-worker",
        {
          name: "orders-worker-spiffe",
          namespace: "orders",
          labels: {
            "app.kubernetes.io/managed-by": "spire-federation",
            "spire-federation/workload": "orders-worker",
          },
        },
        ["helper.conf", "openziti-identity.json"],
      ],
      [
        "spire-federation-workload-files-ledger",
        expect.objectContaining({ name: "ledger-spiffe", namespace: "finance" }),
        [
          "gcp-certificate-config.json",
          "gcp-oidc-credentials.json",
          "gcp-x509-credentials.json",
          "helper.conf",
        ],
      ],
      [
        "spire-federation-workload-files-batch-reports",
        expect.objectContaining({ name: "batch-reports-spiffe", namespace: "reporting" }),
        [
          "gcp-certificate-config.json",
          "gcp-oidc-credentials.json",
          "gcp-x509-credentials.json",
          "helper.conf",
        ],
      ],
      [
        "spire-federation-workload-files-payments-api",
        expect.objectContaining({ name: "payments-api-spiffe", namespace: "payments" }),
        [
          "gcp-certificate-config.json",
          "gcp-oidc-credentials.json",
          "gcp-x509-credentials.json",
          "helper.conf",
          "openziti-identity.json",
        ],
      ],
    ]);
    for (const r of files) {
      expect(r.parent).toBe(component.urn);
      expect(r.dependencies, r.name).toEqual([]);
      expect(JSON.stringify(r.inputs)).not.toMatch(/\[secret\]|\[unknown\]|placeholder/);
    }
  });

  it("puts values that exist only after deploy into an env ConfigMap that waits on their identity", () => {
    const envMaps = resources(run, CONFIG_MAP).filter((r) => r.name.endsWith("-env"));
    expect(envMaps.map((r) => (r.rawInputs.metadata as any).name).sort()).toEqual([
      "batch-reports-spiffe-env",
      "ledger-spiffe-env",
      "orders-worker-spiffe-env",
      "payments-api-spiffe-env",
    ]);
    const identityUrn = (name: string) =>
      resources(run, TYPES.identity).find((r) => r.name === `spire-federation-entra-${name}`)!.urn;
    for (const [workload, identity] of [
      ["payments-api", "payments-api"],
      ["ledger", "finance-reporting"],
      ["batch-reports", "finance-reporting"],
    ]) {
      const r = envMaps.find((x) => x.name === `spire-federation-workload-files-${workload}-env`)!;
      const ids = fakeIdentity(`spire-federation-entra-${identity}`);
      expect(r.rawInputs.data).toEqual({
        AZURE_CLIENT_ID: ids.clientId,
        AZURE_TENANT_ID: ids.tenantId,
      });
      expect(r.dependencies).toEqual([identityUrn(identity)]);
    }
  });

  it.each(["payments-api", "orders-worker", "ledger", "batch-reports"])(
    "%s: the helper requests exactly the checked audiences; every named path is provided",
    (workload) => {
      checkWorkload(run, workload);
    },
  );

  it("each SDK's variables name the token for its relying party's audience", () => {
    const e = checkWorkload(run, "payments-api");
    const vaultAudience = resources(run, TYPES.vaultRole).find(
      (r) => r.rawInputs.roleName === "payments-api",
    )!.rawInputs.boundAudiences as string[];
    const ficAudience = resources(run, TYPES.fic).find(
      (r) => r.rawInputs.federatedIdentityCredentialResourceName === "payments-api",
    )!.rawInputs.audiences as string[];
    const gcpAudience = (
      resources(run, TYPES.gcpProvider).find((r) => r.rawInputs.oidc)!.rawInputs.oidc as any
    ).allowedAudiences as string[];
    expect(e.env.VAULT_JWT_FILE).toBe(e.tokenFile.get(vaultAudience[0]));
    expect(e.env.AZURE_FEDERATED_TOKEN_FILE).toBe(e.tokenFile.get(ficAudience[0]));
    const gcpConfig = JSON.parse(e.data[path.posix.basename(e.env.GOOGLE_APPLICATION_CREDENTIALS)]);
    expect(gcpConfig.audience).toBe(gcpAudience[0]);
    expect(gcpConfig.credential_source.file).toBe(e.tokenFile.get(gcpAudience[0]));
    expect(e.env).toEqual({
      VAULT_ADDR: "https://vault.prod.example.com:8200",
      VAULT_JWT_ROLE: "payments-api",
      VAULT_JWT_LOGIN_PATH: "auth/spire-jwt/login",
      VAULT_JWT_FILE: "/run/spiffe/certs/vault-jwt-svid.token",
      AZURE_CLIENT_ID: {
        configMapKeyRef: { name: "payments-api-spiffe-env", key: "AZURE_CLIENT_ID" },
      },
      AZURE_TENANT_ID: {
        configMapKeyRef: { name: "payments-api-spiffe-env", key: "AZURE_TENANT_ID" },
      },
      AZURE_FEDERATED_TOKEN_FILE: "/run/spiffe/certs/azure-jwt-svid.token",
      GOOGLE_APPLICATION_CREDENTIALS: "/run/spiffe/config/gcp-oidc-credentials.json",
      // The project ID of gcp.project, where the pool lives (not its number).
      GOOGLE_CLOUD_PROJECT: "acme-platform-prod",
      ZITI_IDENTITIES: "/run/spiffe/config/openziti-identity.json",
      ZITI_JWT_FILE: e.tokenFile.get("openziti"),
    });
    expect(JSON.parse(e.data["openziti-identity.json"])).toEqual(
      (run.outputs.federation as any)["payments-api"].openziti,
    );
  });

  it("outputs the patch as YAML too, and neither names a secret", () => {
    for (const out of Object.values(run.outputs.workloadFiles as Record<string, any>)) {
      expect(parse(out.podPatchYaml)).toEqual(out.podPatch);
      expect(out.podPatchYaml).not.toMatch(/placeholder|password|secret/i);
    }
  });

  it("leaves the chart's CSI driver name and agent socket at the defaults the helper relies on", () => {
    const release = run.resources.find((r) => r.name === "spire-federation-spire-release")!;
    const values = release.rawInputs.values as Record<string, any>;
    expect(values["spiffe-csi-driver"]?.pluginName).toBeUndefined();
    expect(values["spiffe-csi-driver"]?.agentSocketPath).toBeUndefined();
    expect(values["spire-agent"]?.socketPath).toBeUndefined();
  });

  it("runs the helper pinned, non-root, as a native sidecar the workload waits for", () => {
    const helper = (run.outputs.workloadFiles as any).ledger.podPatch.spec.template.spec
      .initContainers[0];
    expect(helper).toMatchObject({
      name: "spiffe-helper",
      image: "ghcr.io/spiffe/spiffe-helper:0.11.0",
      restartPolicy: "Always",
      args: ["-config", "/etc/spiffe-helper/helper.conf"],
      startupProbe: { httpGet: { path: "/ready", port: 8081 } },
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
    });
    const conf = parseHcl(examine(run, "ledger").data["helper.conf"]);
    expect(conf.health_checks[0]).toMatchObject({ bind_port: 8081, readiness_path: "/ready" });
  });
});

describe("preview: the patch is known before anything is deployed", () => {
  it("has no unknown value in the workloadFiles output, while the Azure IDs are unknown", async () => {
    const run = await previewStackFile("prod");
    expect(JSON.stringify(run.outputs.workloadFiles)).not.toContain("[unknown]");
    const env = resources(run, CONFIG_MAP).find((r) => r.name.endsWith("payments-api-env"))!;
    expect(env.inputs.data).toEqual({ AZURE_CLIENT_ID: "[unknown]", AZURE_TENANT_ID: "[unknown]" });
  });
});

describe("another cert_dir and a private controller CA: the same consistency", () => {
  let run: ProgramRun;
  let caPem: string;
  beforeAll(async () => {
    caPem = (await makeCertificate({ subject: "CN=ziti controller CA", ca: true })).pem;
    run = await runProdWith((config) => {
      config["spire-federation:workloadFiles"] = JSON.stringify({
        certDir: "/var/run/identity",
        helperImage: "registry.internal/mirror/spiffe-helper:0.11.0",
      });
      mergeBlock(config, "openziti", { controllerCaPem: caPem });
      const workloads = JSON.parse(config["spire-federation:workloads"]);
      workloads[3].files = false;
      config["spire-federation:workloads"] = JSON.stringify(workloads);
    });
  });

  it.each(["payments-api", "orders-worker", "ledger"])("%s", (workload) => {
    const e = checkWorkload(run, workload);
    expect(e.conf.cert_dir).toBe("/var/run/identity");
    expect(e.patch.spec.template.spec.initContainers[0].image).toBe(
      "registry.internal/mirror/spiffe-helper:0.11.0",
    );
  });

  it("mounts the controller CA where the identity file names it", () => {
    const e = checkWorkload(run, "payments-api");
    expect((run.outputs.federation as any)["payments-api"].openziti.id).toEqual({
      cert: "file:///var/run/identity/svid.pem",
      key: "file:///var/run/identity/svid_key.pem",
      ca: "file:///run/openziti/ca.pem",
    });
    expect(e.provided.get("/run/openziti/ca.pem")).toBe("openziti-ca.pem");
    expect(e.data["openziti-ca.pem"]).toBe(caPem);
  });

  it("gives a workload with files: false nothing", () => {
    expect(Object.keys(run.outputs.workloadFiles as object).sort()).toEqual([
      "ledger",
      "orders-worker",
      "payments-api",
    ]);
    expect(resources(run, CONFIG_MAP).some((r) => r.name.includes("batch-reports"))).toBe(false);
  });
});
