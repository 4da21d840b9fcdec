/** The model parseStackConfig builds: defaults, the issuer, SPIFFE IDs, secrets. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { baseConfig } from "../fixtures";
import { postgres } from "../support/config-problems";

describe("parseStackConfig builds the model", () => {
  it("applies defaults and derives the issuer and SPIFFE IDs", () => {
    const m = parseStackConfig(baseConfig());
    expect(m.oidc).toEqual({
      host: "oidc.test.example.com",
      ingressClassName: "nginx",
      ingressControllerType: "ingress-nginx",
      tls: {
        kind: "acme",
        email: "ops@example.com",
        server: "https://acme-v02.api.letsencrypt.org/directory",
      },
      issuerUrl: "https://oidc.test.example.com",
      jwksUri: "https://oidc.test.example.com/keys",
    });
    expect(m.ca).toEqual({ mode: "generated", keyAlgorithm: "ECDSA-P256", validityHours: 87600 });
    expect(m.certManager).toEqual({
      install: true,
      chartVersion: "v1.19.1",
      namespace: "cert-manager",
    });
    expect(m.spire).toMatchObject({
      chartVersion: "0.30.0",
      crdsChartVersion: "0.6.0",
      caKeyType: "rsa-2048",
      caTTL: "24h",
      x509SvidTTL: "4h",
      jwtSvidTTL: "1h",
      replicas: 1,
      datastore: { type: "sqlite3" },
      caSubject: { country: "US", organization: "SPIFFE", commonName: "test.example.com" },
    });
    expect(m.workloads).toEqual([
      {
        mode: "pod",
        name: "api",
        namespace: "shop",
        serviceAccount: "api",
        spiffeId: "spiffe://test.example.com/ns/shop/sa/api",
        podLabels: {},
        files: true,
      },
      {
        mode: "pod",
        name: "worker",
        namespace: "shop",
        serviceAccount: "worker",
        spiffeId: "spiffe://test.example.com/ns/shop/sa/worker",
        podLabels: { app: "worker" },
        files: true,
      },
    ]);
  });

  it("uses spiffeIdPath verbatim and keeps the password a secret", async () => {
    const raw = baseConfig();
    (raw.workloads as Record<string, unknown>[])[0].spiffeIdPath = "/workloads/work1";
    (raw.workloads as Record<string, unknown>[])[0].podLabels = { app: "api" };
    raw.spire = { replicas: 2, datastore: { ...postgres, type: "mysql" } };
    const m = parseStackConfig(raw, { secretKeys: new Set(["spire"]) });
    expect(m.workloads[0].spiffeId).toBe("spiffe://test.example.com/workloads/work1");
    const ds = m.spire.datastore;
    if (ds.type === "sqlite3") throw new Error("expected mysql");
    expect(ds.port).toBe(3306);
    expect(await pulumi.isSecret(ds.password)).toBe(true);
  });
});
