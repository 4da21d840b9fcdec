/**
 * The `spire` 0.30.0 release of every stack, rendered by the real `helm template` with the values
 * exactly as planned: what SPIRE's server, agent, OIDC discovery provider, controller manager and
 * CSI driver will run with, against what each stack file asks for.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { AGENT_SOCKET_PATH, CSI_DRIVER } from "../../components/workload/rules";
import { ROOT } from "../helpers";
import {
  configData,
  kinds,
  one,
  plan,
  releaseOf,
  render,
  STACKS,
  type K8sObject,
  type Rendered,
} from "./render";

/** The stack file's own config (the test's expectation, read apart from the program). */
function stackConfig(stack: string): Record<string, any> {
  const file = path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
  const config = (parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
  return Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("spire-federation:"))
      .map(([k, v]) => [k.slice("spire-federation:".length), v]),
  );
}

/** What the stack file asks of SPIRE, with the package's documented defaults (README). */
function expected(stack: string) {
  const c = stackConfig(stack);
  const spire = (c.spire ?? {}) as Record<string, string>;
  return {
    trustDomain: c.trustDomain as string,
    clusterName: c.clusterName as string,
    oidcHost: (c.oidc as { host: string }).host,
    caKeyType: spire.caKeyType ?? "rsa-2048",
    caTTL: spire.caTTL ?? "24h",
    x509: spire.x509SvidTTL ?? "4h",
    jwt: spire.jwtSvidTTL ?? "1h",
    nodes: ((c.nodes ?? []) as { hostname: string }[]).map((n) => n.hostname),
  };
}

async function rendered(stack: string): Promise<Rendered[]> {
  return render(releaseOf(await plan(stack), "spire"));
}

const json = (cm: K8sObject, key: string): any => JSON.parse(configData(cm, key));

describe.each(STACKS)("stack %s: the rendered spire chart", (stack) => {
  const want = expected(stack);

  it("server.conf: trust domain, jwt_issuer, CA key type and subject, TTLs, cert-manager upstream", async () => {
    const objects = await rendered(stack);
    const conf = json(one(objects, "ConfigMap", "spire-server"), "server.conf");
    expect(conf.server).toMatchObject({
      trust_domain: want.trustDomain,
      jwt_issuer: `https://${want.oidcHost}`,
      ca_key_type: want.caKeyType,
      ca_subject: [{ common_name: want.trustDomain, country: ["US"], organization: ["SPIFFE"] }],
      ca_ttl: want.caTTL,
      default_x509_svid_ttl: want.x509,
      default_jwt_svid_ttl: want.jwt,
    });
    const issuer =
      stackConfig(stack).ca.mode === "clusterIssuer"
        ? stackConfig(stack).ca.clusterIssuer
        : "spire-federation-root";
    expect(conf.plugins.UpstreamAuthority).toEqual([
      {
        "cert-manager": {
          plugin_data: {
            issuer_name: issuer,
            issuer_kind: "ClusterIssuer",
            issuer_group: "cert-manager.io",
            namespace: "spire-server",
          },
        },
      },
    ]);
  });

  it("node attestors: k8s_psat for the cluster, http_challenge for exactly the stack's nodes", async () => {
    const conf = json(one(await rendered(stack), "ConfigMap", "spire-server"), "server.conf");
    const attestors = conf.plugins.NodeAttestor as Record<string, any>[];
    const psat = attestors.find((a) => "k8s_psat" in a)!.k8s_psat.plugin_data;
    expect(psat.clusters.map((c: object) => Object.keys(c))).toEqual([[want.clusterName]]);
    const http = attestors.find((a) => "http_challenge" in a);
    if (want.nodes.length === 0) {
      expect(attestors).toHaveLength(1);
      return;
    }
    expect(http!.http_challenge.plugin_data).toEqual({
      allowed_dns_patterns: want.nodes.map((h) => `^${h.replaceAll(".", "\\.")}$`),
      required_port: 80,
      allow_non_root_ports: false,
      // Off, so an agent that was offline past its SVID re-attests (components/nodes/README.md).
      tofu: false,
    });
    // The patterns SPIRE will apply (Go's regexp, unanchored match) admit exactly these hosts.
    const patterns = (http!.http_challenge.plugin_data.allowed_dns_patterns as string[]).map(
      (p) => new RegExp(p),
    );
    for (const h of want.nodes) expect(patterns.some((p) => p.test(h))).toBe(true);
    for (const h of want.nodes.flatMap((n) => [`x${n}`, `${n}.evil.test`, n.replace(".", "x")])) {
      expect(patterns.some((p) => p.test(h))).toBe(false);
    }
  });

  it("agent.conf: the trust domain, the in-cluster server, k8s_psat for the cluster", async () => {
    const conf = json(one(await rendered(stack), "ConfigMap", "spire-agent"), "agent.conf");
    expect(conf.agent).toMatchObject({
      trust_domain: want.trustDomain,
      server_address: "spire-server.spire-server",
      server_port: "443",
      socket_path: `/tmp/spire-agent/public/${path.basename(AGENT_SOCKET_PATH)}`,
    });
    expect(conf.plugins.NodeAttestor).toEqual([
      { k8s_psat: { plugin_data: { cluster: want.clusterName } } },
    ]);
  });

  it("the OIDC discovery provider serves the stack's issuer on its host", async () => {
    const objects = await rendered(stack);
    const cm = one(objects, "ConfigMap", "spire-spiffe-oidc-discovery-provider");
    const conf = json(cm, "oidc-discovery-provider.conf");
    expect(conf.jwt_issuer).toBe(`https://${want.oidcHost}`);
    expect(conf.domains).toContain(want.oidcHost);
    expect(conf.set_key_use).toBe(true);
    expect(conf.workload_api.trust_domain).toBe(want.trustDomain);
    const ingress = one(objects, "Ingress", "spire-spiffe-oidc-discovery-provider") as any;
    expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual([want.oidcHost]);
    expect(ingress.spec.tls[0].hosts).toEqual([want.oidcHost]);
  });

  it("the controller manager's class is the one every ClusterSPIFFEID carries", async () => {
    const p = await plan(stack);
    const objects = await rendered(stack);
    const cm = one(objects, "ConfigMap", "spire-controller-manager");
    const manager = parse(configData(cm, "controller-manager-config.yaml"));
    expect(manager).toMatchObject({
      className: "spire-federation",
      watchClassless: false,
      trustDomain: want.trustDomain,
      clusterName: want.clusterName,
    });
    // The chart's own: the default (fallback) ID every pod without a custom path relies on.
    const chartIds = kinds(objects, "ClusterSPIFFEID") as any[];
    const byHint = new Map(chartIds.map((c) => [c.spec.hint, c.spec]));
    expect(byHint.get("default")).toMatchObject({
      className: manager.className,
      fallback: true,
      spiffeIDTemplate:
        "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
    });
    for (const c of chartIds) expect(c.spec.className).toBe(manager.className);
    // The package's own, created beside the release: the manager ignores any other class.
    const own = p.resources.filter((r) => r.type.endsWith(":ClusterSPIFFEID"));
    for (const r of own) expect((r.inputs as any).spec.className).toBe(manager.className);
  });

  it("the CSI driver hands pods the agent's socket directory as csi.spiffe.io", async () => {
    const objects = await rendered(stack);
    expect(kinds(objects, "CSIDriver").map((d) => d.metadata.name)).toEqual([CSI_DRIVER]);
    const csi = one(objects, "DaemonSet", "spire-spiffe-csi-driver") as any;
    const agent = one(objects, "DaemonSet", "spire-agent") as any;
    const hostDir = (ds: any, volume: string) =>
      ds.spec.template.spec.volumes.find((v: { name: string }) => v.name === volume).hostPath.path;
    const driver = csi.spec.template.spec.containers.find(
      (c: { name: string }) => c.name === "spiffe-csi-driver",
    );
    const arg = (name: string) => driver.args[driver.args.indexOf(name) + 1];
    expect(arg("-plugin-name")).toBe(CSI_DRIVER);
    // The driver serves, as the pod's volume, the host folder the agent puts its socket in.
    expect(hostDir(csi, "spire-agent-socket-dir")).toBe(hostDir(agent, "spire-agent-socket-dir"));
    const mount = driver.volumeMounts.find(
      (m: { name: string }) => m.name === "spire-agent-socket-dir",
    );
    expect(arg("-workload-api-socket-dir")).toBe(mount.mountPath);
  });
});

describe("stack shapes the render shows", () => {
  it("prod: three servers on postgres; the password stays out of the ConfigMap", async () => {
    const objects = await rendered("prod");
    const conf = json(one(objects, "ConfigMap", "spire-server"), "server.conf");
    expect(conf.plugins.DataStore[0].sql.plugin_data).toMatchObject({
      database_type: "postgres",
      connection_string:
        "dbname=spire user=spire password=${DBPW} host=spire-db.prod.internal.example.com port=5432",
    });
    expect(JSON.stringify(conf)).not.toContain("[secret]");
    const server = one(objects, "StatefulSet", "spire-server") as any;
    expect(server.spec.replicas).toBe(3);
  });

  it("tls.spire (mesh): SPIRE's SVID names the OIDC host; the ingress passes TLS through", async () => {
    const objects = await rendered("mesh");
    const id = (kinds(objects, "ClusterSPIFFEID") as any[]).find(
      (c) => c.spec.hint === "oidc-discovery-provider",
    );
    expect(id.spec.dnsNameTemplates).toEqual([
      "oidc-discovery.{{ .TrustDomain }}",
      "oidc.mesh.spiffe.example.com",
    ]);
    const ingress = one(objects, "Ingress", "spire-spiffe-oidc-discovery-provider");
    expect(ingress.metadata).toMatchObject({
      annotations: { "nginx.ingress.kubernetes.io/ssl-passthrough": "true" },
    });
  });

  it("ACME (dev): the chart's Issuer solves http01 on the stack's ingress class for the OIDC host", async () => {
    const objects = await rendered("dev");
    const issuer = one(objects, "Issuer", "spire-spiffe-oidc-discovery-provider") as any;
    expect(issuer.spec.acme).toMatchObject({
      email: "platform-team@example.com",
      solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }],
    });
    const cert = one(objects, "Certificate", "spire-spiffe-oidc-discovery-provider") as any;
    expect(cert.spec.dnsNames).toEqual(["oidc.dev.spiffe.example.com"]);
  });

  it("edge: agents outside reach the server through an ingress that passes TLS through", async () => {
    const objects = await rendered("edge");
    const ingress = one(objects, "Ingress", "spire-server") as any;
    expect(ingress.spec.rules).toEqual([
      {
        host: "spire.edge.spiffe.example.com",
        http: {
          paths: [
            {
              pathType: "Prefix",
              path: "/",
              backend: { service: { name: "spire-server", port: { number: 443 } } },
            },
          ],
        },
      },
    ]);
    expect(ingress.metadata.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
      "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
    });
    expect((one(objects, "Service", "spire-server") as any).spec.type).toBe("ClusterIP");
  });

  it("an existing TLS secret (curity): the ingress terminates with it, no Issuer", async () => {
    const objects = await rendered("curity");
    const ingress = one(objects, "Ingress", "spire-spiffe-oidc-discovery-provider") as any;
    expect(ingress.spec.tls).toEqual([
      { hosts: ["oidc.apps.spiffe.example.com"], secretName: "oidc-discovery-tls" },
    ]);
    expect(kinds(objects, "Issuer")).toEqual([]);
  });
});
