/**
 * The istio check with the REAL kubectl (test/support/k8s-tools.ts) against the Kubernetes API
 * double (test/verify/istio-server.ts), which serves what the mesh stack (stacks/Pulumi.mesh.yaml)
 * deploys: istiod's and the spire chart's objects rendered by the real `helm template` from the
 * carried charts with the planned values, and the custom resources the plan registers, each
 * validated against its CRD schema. Then the failures it must name: drift, RBAC, missing objects,
 * missing CRDs, kubectl absent, and the context chosen with --kube-context.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PlanResource } from "../../tools/plan-types";
import { one, plan, releaseOf, render } from "../charts/render";
import { makeLoopbackServerCredentials } from "../fixtures";
import { ROOT } from "../helpers";
import { k8sTools } from "../support/k8s-tools";
import { startKube, type KubeDouble, type KubeState } from "./istio-server";
import { runVerify, writeStack } from "./support";

const CM = "/api/v1/namespaces";
const GW = "spire-federation.istio.istio-ingress.istio-ingressgateway";
const IDS = "/apis/spire.spiffe.io/v1alpha1/clusterspiffeids";
const PA = "/apis/security.istio.io/v1/namespaces/istio-system/peerauthentications/default";
const config = (
  parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.mesh.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  }
).config;

let kube: KubeDouble;
let state: KubeState;
let deployed: Map<string, Record<string, unknown>>;
let dir: string;
const home = mkdtempSync(path.join(tmpdir(), "verify-istio-home-"));

const stats = (pods: number) => ({
  stats: {
    namespacesSelected: 1,
    namespacesIgnored: 0,
    podsSelected: pods,
    podEntryRenderFailures: 0,
    entriesMasked: 0,
    entriesToSet: pods,
    entryFailures: 0,
  },
});

/** What a deploy of `stack` leaves in the cluster, by API path. */
async function deployedObjects(stack: string): Promise<Map<string, Record<string, unknown>>> {
  const p = await plan(stack);
  const istiod = render(releaseOf(p, "istiod"));
  const spire = render(releaseOf(p, "spire"));
  const custom = (type: string, name: string) => {
    const r = p.resources.find(
      (x: PlanResource) =>
        x.type === type && (x.inputs as { metadata: { name: string } }).metadata.name === name,
    );
    if (r === undefined) throw new Error(`the plan has no ${type} ${name}`);
    return structuredClone(r.inputs as Record<string, unknown>);
  };
  const gateway = p.resources.some((x: PlanResource) =>
    JSON.stringify(x.inputs).includes(`"name":"${GW}"`),
  );
  return new Map<string, Record<string, unknown>>([
    [`${CM}/istio-system/configmaps/istio`, one(istiod, "ConfigMap", "istio")],
    [
      `${CM}/istio-system/configmaps/istio-sidecar-injector`,
      one(istiod, "ConfigMap", "istio-sidecar-injector"),
    ],
    [`${CM}/spire-system/configmaps/spire-agent`, one(spire, "ConfigMap", "spire-agent")],
    [PA, custom("kubernetes:security.istio.io/v1:PeerAuthentication", "default")],
    [
      `${IDS}/spire-mgmt-spire-default`,
      { ...one(spire, "ClusterSPIFFEID", "spire-mgmt-spire-default"), status: stats(5) },
    ],
    ...(gateway
      ? ([
          [
            `${IDS}/${GW}`,
            {
              ...custom("kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID", GW),
              status: stats(2),
            },
          ],
        ] as const)
      : []),
  ]);
}

function env(kubeconfig = kube.kubeconfig()): Record<string, string> {
  return { KUBECTL: k8sTools().kubectl, KUBECONFIG: kubeconfig, HOME: home };
}

const run = (argv: string[] = [], e = env()) =>
  runVerify(
    dir,
    "mesh",
    { trustDomain: "mesh.spiffe.example.com" },
    ["--checks", "istio", ...argv],
    {
      env: e,
    },
  );

beforeAll(async () => {
  deployed = await deployedObjects("mesh");
  state = { objects: new Map(), forbidden: new Set(), missingGroups: new Set() };
  const tls = await makeLoopbackServerCredentials();
  kube = await startKube(state, { ...tls, caPem: tls.caPem });
  dir = writeStack("mesh", config);
}, 120_000);
afterAll(() => kube.server.close());
beforeEach(() => {
  state.objects = new Map([...deployed].map(([k, v]) => [k, structuredClone(v)]));
  state.forbidden.clear();
  state.missingGroups.clear();
  kube.violations.length = 0;
  kube.server.requests.length = 0;
});

/** The object at `p`, to change. */
const at = (p: string) => state.objects.get(p) as Record<string, Record<string, unknown>>;

describe("verify istio: the cluster against the plan, by the real kubectl", () => {
  it("passes what the mesh stack deploys, with GETs of exactly the objects it reads", async () => {
    const r = await run();
    expect(r.stdout).not.toMatch(/FAIL|SKIP/);
    expect(r.code).toBe(0);
    expect(kube.violations).toEqual([]);
    // kubectl's --request-timeout (the run's deadline) travels as the API server's timeout.
    expect(kube.server.requests.map((q) => `${q.method} ${q.path}`)).toEqual(
      [
        `${CM}/istio-system/configmaps/istio`,
        `${CM}/istio-system/configmaps/istio-sidecar-injector`,
        PA,
        `${IDS}/${GW}`,
        `${IDS}/spire-mgmt-spire-default`,
        `${CM}/spire-system/configmaps/spire-agent`,
      ].map((p) => `GET ${p}?timeout=30s`),
    );
    expect(r.stdout).toContain(
      'PASS istio: mesh config trustDomain: mesh config trustDomain is "mesh.spiffe.example.com"',
    );
    expect(r.stdout).toContain(
      'PASS istio: injector defaultTemplates: defaultTemplates is ["sidecar","spire"]',
    );
    expect(r.stdout).toContain(
      `PASS istio: ClusterSPIFFEID ${GW} status: 2 pods selected, 2 entries to set, 0 masked, no failures`,
    );
    expect(r.stdout).toContain(
      'PASS istio: spire-agent sds default_bundle_name: spire-agent sds default_bundle_name is "ROOTCA"',
    );
    expect(r.stderr).toContain(`verify: istio: kubectl get --raw ${PA}`);
    expect(`${r.stdout}\n${r.stderr}`).not.toContain("kube-reader-token");
  });

  it("names what would break the mesh", async () => {
    const mesh = at(`${CM}/istio-system/configmaps/istio`);
    mesh.data.mesh = String(mesh.data.mesh).replace(/\n\s*trustDomain: .*/, "");
    const inj = at(`${CM}/istio-system/configmaps/istio-sidecar-injector`);
    inj.data.config = String(inj.data.config).replace("- sidecar\n- spire\n", "- sidecar\n");
    at(PA).spec = { mtls: { mode: "PERMISSIVE" } };
    at(`${IDS}/${GW}`).status = stats(0);
    at(`${IDS}/spire-mgmt-spire-default`).status = { stats: { entryFailures: 3 } };
    const r = await run();
    expect(r.code).toBe(1);
    expect(kube.violations).toEqual([]);
    expect(r.stdout).toContain(
      'FAIL istio: mesh config trustDomain: mesh config trustDomain: expected "mesh.spiffe.example.com", found "cluster.local"',
    );
    expect(r.stdout).toMatch(
      /FAIL istio: injector defaultTemplates: defaultTemplates is \["sidecar"\]\n\s+fix: pods injected without the spire template take istiod's certificates/,
    );
    expect(r.stdout).toContain(
      'FAIL istio: PeerAuthentication default mtls.mode: PeerAuthentication default mtls.mode: expected "STRICT", found "PERMISSIVE"',
    );
    expect(r.stdout).toContain(
      `FAIL istio: ClusterSPIFFEID ${GW} status: selects no pod: the gateway's pods are not running`,
    );
    expect(r.stdout).toContain(
      "FAIL istio: ClusterSPIFFEID spire-mgmt-spire-default status: 3 entry failures, 0 render failures",
    );
  });

  it("names RBAC on a 403, the deploy step on a missing object, the release on a missing CRD", async () => {
    state.forbidden.add(`${CM}/istio-system/configmaps/istio-sidecar-injector`);
    state.objects.delete(PA);
    state.missingGroups.add("spire.spiffe.io");
    state.objects.delete(`${CM}/spire-system/configmaps/spire-agent`);
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL istio: injector: kubectl get --raw \/api\/v1\/namespaces\/istio-system\/configmaps\/istio-sidecar-injector: Error from server \(Forbidden\): .*\n\s+fix: RBAC: the kubeconfig's user may not get/,
    );
    expect(r.stdout).toMatch(
      /FAIL istio: PeerAuthentication default: .*\(NotFound\).*\n\s+fix: the mesh-wide PeerAuthentication is missing: pulumi up creates it \(istio.mtls STRICT\)/,
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `FAIL istio: ClusterSPIFFEID ${GW.replace(/\./g, "\\.")}: .*could not find the requested resource.*\\n\\s+fix: the API of spire.spiffe.io/v1alpha1 is not served: its CRDs are missing`,
      ),
    );
    expect(r.stdout).toMatch(
      /FAIL istio: spire-agent config: .*\n\s+fix: the SPIRE agent is not installed: pulumi up installs the spire release/,
    );
  });

  it("is a SKIP without kubectl, and --kube-context picks the context", async () => {
    let r = await run([], { PATH: home, KUBECONFIG: kube.kubeconfig(), HOME: home });
    expect(r.stdout).toContain("SKIP istio: kubectl: no kubectl on PATH (nor KUBECTL)");
    expect(r.code).toBe(0);
    const elsewhere = env(kube.kubeconfig("elsewhere"));
    r = await run([], elsewhere);
    expect(r.stdout).toMatch(
      /FAIL istio: mesh config: .*\n\s+fix: kubectl cannot reach the cluster/,
    );
    r = await run(["--kube-context", "mesh"], elsewhere);
    expect(r.stdout).not.toContain("FAIL");
    expect(r.code).toBe(0);
  });

  it("with federation (the east stack), wants SDS's all-bundles name as ROOTCA", async () => {
    const east = (
      parse(readFileSync(path.join(ROOT, "stacks", "Pulumi.east.yaml"), "utf8")) as {
        config: Record<string, unknown>;
      }
    ).config;
    const eastDir = writeStack("east", east);
    state.objects = await deployedObjects("east");
    const runEast = () => runVerify(eastDir, "east", {}, ["--checks", "istio"], { env: env() });
    let r = await runEast();
    expect(r.stdout).not.toContain("FAIL");
    expect(kube.violations).toEqual([]);
    expect(r.stdout).toContain(
      'PASS istio: spire-agent sds default_all_bundles_name: spire-agent sds default_all_bundles_name is "ROOTCA"',
    );
    // The chart's own SDS names: Istio's ROOTCA would be this trust domain's bundle only.
    const agent = at(`${CM}/spire-system/configmaps/spire-agent`);
    const conf = JSON.parse(String(agent.data["agent.conf"])) as { agent: { sds: unknown } };
    conf.agent.sds = {
      default_svid_name: "default",
      default_bundle_name: "ROOTCA",
      default_all_bundles_name: "ALL",
    };
    agent.data["agent.conf"] = JSON.stringify(conf);
    r = await runEast();
    expect(r.stdout).toMatch(
      /FAIL istio: spire-agent sds default_all_bundles_name: spire-agent sds default_all_bundles_name: expected "ROOTCA", found "ALL"\n\s+fix: Istio asks SDS for default and ROOTCA; with federation ROOTCA must name all bundles/,
    );
  }, 120_000);
});
