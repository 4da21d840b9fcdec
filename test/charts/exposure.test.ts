/**
 * The SPIRE server's exposure to agents outside the cluster, as the real `spire` 0.30.0 chart
 * renders it from the planned values: the Service or Ingress the agents dial.
 */
import { describe, expect, it } from "vitest";
import { fixtureStacks, one, stackFile, plan, releaseOf, render, type K8sObject } from "./render";

/** A stack with one node behind a load balancer at `address`. */
function lbStack(address: string): string {
  return stackFile(
    "lb",
    "acme: { email: platform-team@example.com }",
    `  spire-federation:spire:
    server:
      exposure:
        loadBalancer: true
        address: ${JSON.stringify(address)}
  spire-federation:nodes:
    - name: vm-1
      hostname: vm-1.vms.example.com
  spire-federation:workloads:
    - name: agent-app
      node: vm-1
      unix:
        user: app
      spiffeIdPath: /vms/agent-app
`,
  );
}

const dir = fixtureStacks({
  "lb-ip": lbStack("203.0.113.10"),
  "lb-ipv6": lbStack("2001:db8::10"),
  "lb-dns": lbStack("spire.lb.example.com"),
});

async function serverService(stack: string): Promise<K8sObject & { spec: any }> {
  const objects = render(releaseOf(await plan(stack, dir), "spire"));
  expect(objects.filter((o) => o.kind === "Ingress").map((o) => o.name)).toEqual([
    "spire-spiffe-oidc-discovery-provider",
  ]);
  return one(objects, "Service", "spire-server") as K8sObject & { spec: any };
}

describe("loadBalancer exposure, rendered", () => {
  it("an IP address: the Service is a LoadBalancer that asks for exactly that IP", async () => {
    const svc = await serverService("lb-ip");
    expect(svc.spec.type).toBe("LoadBalancer");
    expect(svc.spec.loadBalancerIP).toBe("203.0.113.10");
    expect(svc.spec.ports).toEqual([
      { name: "grpc", port: 443, targetPort: "grpc", protocol: "TCP" },
    ]);
  });

  it("an IPv6 address: the same", async () => {
    const svc = await serverService("lb-ipv6");
    expect(svc.spec).toMatchObject({ type: "LoadBalancer", loadBalancerIP: "2001:db8::10" });
  });

  it("a DNS name: a LoadBalancer with no IP asked (the name points at whatever it gets)", async () => {
    const svc = await serverService("lb-dns");
    expect(svc.spec.type).toBe("LoadBalancer");
    expect(svc.spec).not.toHaveProperty("loadBalancerIP");
  });
});
