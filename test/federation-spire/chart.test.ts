/**
 * SPIRE-to-SPIRE federation in the spire 0.30.0 chart, rendered by the real `helm template` from
 * the carried chart with the values exactly as planned: the server's bundle endpoint (config,
 * Service port, ingress with TLS passthrough, the https_web certificate sources) and the agent's
 * SDS names when Istio runs on a federating trust domain.
 */
import { describe, expect, it } from "vitest";
import {
  configData,
  fixtureStacks,
  kinds,
  one,
  plan,
  releaseOf,
  render,
  stackFile,
  type K8sObject,
} from "../charts/render";

const json = (cm: K8sObject, key: string): any => JSON.parse(configData(cm, key));
const spire = async (stack: string, dir?: string) =>
  render(releaseOf(await plan(stack, dir), "spire"));

/** A stack with a bundle endpoint of `endpoint` (YAML under bundleEndpoint:) and one peer. */
const webStack = (domain: string, endpoint: string) =>
  stackFile(
    domain,
    "spire: true",
    `  spire-federation:federation:
    bundleEndpoint:
      host: bundle.${domain}.spiffe.example.com
      profile: https_web
${endpoint}
    trustDomains:
      - trustDomain: partner.example.net
        bundleEndpointUrl: https://spiffe-bundle.partner.example.net
        profile: https_web
  spire-federation:workloads:
    - name: api
      namespace: shop
      serviceAccount: api
`,
  );

describe("east (https_spiffe, Istio): the rendered spire chart", () => {
  it("server.conf serves the bundle endpoint on 8443 with profile https_spiffe and refresh 5m", async () => {
    const conf = json(one(await spire("east"), "ConfigMap", "spire-server"), "server.conf");
    expect(conf.server.federation).toEqual({
      bundle_endpoint: {
        address: "0.0.0.0",
        port: 8443,
        refresh_hint: "5m",
        profile: [{ https_spiffe: {} }],
      },
    });
  });

  it("the Service and the ingress: bundle.east.spiffe.example.com passed through to port 8443", async () => {
    const objects = await spire("east");
    const service = one(objects, "Service", "spire-server") as any;
    expect(service.spec.ports).toContainEqual(
      expect.objectContaining({ name: "federation", port: 8443, targetPort: "federation" }),
    );
    const ingress = one(objects, "Ingress", "spire-server-federation") as any;
    expect(ingress.spec.ingressClassName).toBe("nginx");
    expect(ingress.spec.rules).toEqual([
      {
        host: "bundle.east.spiffe.example.com",
        http: {
          paths: [
            {
              pathType: "Prefix",
              path: "/",
              backend: { service: { name: "spire-server", port: { number: 8443 } } },
            },
          ],
        },
      },
    ]);
    expect(ingress.metadata.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
      "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
    });
  });

  it("agent.conf: SDS hands Istio every bundle under ROOTCA, its SVID under default", async () => {
    const conf = json(one(await spire("east"), "ConfigMap", "spire-agent"), "agent.conf");
    expect(conf.agent.sds).toEqual({
      default_svid_name: "default",
      default_bundle_name: "null",
      default_all_bundles_name: "ROOTCA",
      disable_spiffe_cert_validation: false,
    });
  });
});

describe("west (https_spiffe, no Istio): the rendered spire chart", () => {
  it("the refresh hint is west's 2m; the agent has no sds block (the chart's default off)", async () => {
    const objects = await spire("west");
    const server = json(one(objects, "ConfigMap", "spire-server"), "server.conf");
    expect(server.server.federation.bundle_endpoint.refresh_hint).toBe("2m");
    const agent = json(one(objects, "ConfigMap", "spire-agent"), "agent.conf");
    expect(agent.agent.sds).toBeUndefined();
  });

  it("the mesh stack (Istio, no federation) keeps the chart's agent without sds", async () => {
    const agent = json(one(await spire("mesh"), "ConfigMap", "spire-agent"), "agent.conf");
    expect(agent.agent.sds).toBeUndefined();
    const server = json(one(await spire("mesh"), "ConfigMap", "spire-server"), "server.conf");
    expect(server.server.federation).toBeUndefined();
  });
});

describe("https_web bundle endpoints: the rendered spire chart", () => {
  const dir = fixtureStacks({
    acme: webStack("acme", "      tls:\n        acme:\n          email: ops@example.com"),
    secret: webStack("secret", "      tls:\n        secretName: bundle-tls"),
  });

  it("ACME: the chart's Issuer and Certificate for the host; the server serves the files", async () => {
    const objects = await spire("acme", dir);
    const conf = json(one(objects, "ConfigMap", "spire-server"), "server.conf");
    expect(conf.server.federation.bundle_endpoint.profile).toEqual([
      {
        https_web: {
          serving_cert_file: {
            file_sync_interval: "1h",
            cert_file_path: "/bundle-endpoint-tls/tls.crt",
            key_file_path: "/bundle-endpoint-tls/tls.key",
          },
        },
      },
    ]);
    const issuer = one(objects, "Issuer", "spire-server-federation") as any;
    expect(issuer.spec.acme).toMatchObject({
      email: "ops@example.com",
      server: "https://acme-v02.api.letsencrypt.org/directory",
      solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }],
    });
    const cert = one(objects, "Certificate", "spire-server-fed") as any;
    expect(cert.spec).toMatchObject({
      dnsNames: ["bundle.acme.spiffe.example.com"],
      issuerRef: { kind: "Issuer", name: "spire-server-federation" },
      secretName: "spire-server-federation-cert",
    });
  });

  it("an existing Secret: mounted into the server, no Issuer", async () => {
    const objects = await spire("secret", dir);
    const sts = one(objects, "StatefulSet", "spire-server") as any;
    expect(sts.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ secret: expect.objectContaining({ secretName: "bundle-tls" }) }),
    );
    expect(kinds(objects, "Issuer").filter((i) => i.metadata.name.includes("federation"))).toEqual(
      [],
    );
  });
});
