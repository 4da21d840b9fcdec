/** Istio's config rules and the component's own checks of its args, with exact messages. */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  chartVersionProblem,
  istioArgsProblems,
  revisionProblem,
  type IstioFederationArgs,
} from "../../components/federation/istio/index";
import { meshConfig, problemsOf } from "../support/stack-fixtures";

const P = "spire-federation:";

const badConfigs: [string, (c: Record<string, any>) => void, string[]][] = [
  [
    "a trust-domain override that differs",
    (c) => (c.istio.trustDomain = "other.example.com"),
    [
      `${P}istio.trustDomain: must equal trustDomain "test.example.com" (it is "other.example.com"); Istio's proxies accept only peers of meshConfig.trustDomain, and SPIRE issues every SVID in test.example.com: remove istio.trustDomain or set it to test.example.com`,
    ],
  ],
  [
    "a revision with dots",
    (c) => (c.istio.revision = "1.30.3"),
    [
      `${P}istio.revision: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. 1-30-3, not 1.30.3)`,
    ],
  ],
  [
    "a revision in uppercase",
    (c) => (c.istio.revision = "Canary"),
    [
      `${P}istio.revision: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit`,
    ],
  ],
  [
    "a revision ending in a dash",
    (c) => (c.istio.revision = "canary-"),
    [
      `${P}istio.revision: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit`,
    ],
  ],
  [
    "a revision too long for istiod's Service name",
    (c) => (c.istio.revision = "r".repeat(57)),
    [
      `${P}istio.revision: must be at most 56 characters: istiod's Service is named istiod-<revision>, a DNS-1123 label`,
    ],
  ],
  [
    "the revision named default",
    (c) => (c.istio.revision = "default"),
    [
      `${P}istio.revision: default is what Istio calls the unnamed revision (istio.io/rev=default); leave revision unset for it`,
    ],
  ],
  [
    "a chart version that is not semver",
    (c) => (c.istio.chartVersion = "1.30"),
    [
      `${P}istio.chartVersion: must be a semantic version such as 1.30.3 (Istio's chart versions are its release versions)`,
    ],
  ],
  [
    "a chart version with a leading v",
    (c) => (c.istio.chartVersion = "v1.30.3"),
    [
      `${P}istio.chartVersion: must be a semantic version such as 1.30.3, without the leading v (Istio's chart versions are its release versions)`,
    ],
  ],
  [
    "a chart version older than the fixed gateway template",
    (c) => (c.istio.chartVersion = "1.26.4"),
    [
      `${P}istio.chartVersion: must be 1.27.0 or later: older gateway injection templates keep the workload-socket emptyDir beside the spire template's CSI volume, which Kubernetes rejects (istio/istio#56217)`,
    ],
  ],
  [
    "a chart version without install",
    (c) => Object.assign(c.istio, { install: false, chartVersion: "1.30.3" }),
    [
      `${P}istio.chartVersion: is only used with install: true; remove it or install Istio with this stack`,
    ],
  ],
  [
    "ingressGateway neither boolean nor object",
    (c) => (c.istio.ingressGateway = "yes"),
    [`${P}istio.ingressGateway: must be true, false or { namespace?, name?, serviceType? }`],
  ],
  [
    "an ingress gateway namespace that is no DNS label",
    (c) => (c.istio.ingressGateway = { namespace: "Istio_Ingress" }),
    [`${P}istio.ingressGateway.namespace: must be a DNS-1123 label`],
  ],
  [
    "an unknown mTLS mode",
    (c) => (c.istio.mtls = "strict"),
    [`${P}istio.mtls: must be STRICT or PERMISSIVE`],
  ],
  ["an unknown key", (c) => (c.istio.gateway = true), [`${P}istio.gateway: unknown key`]],
  [
    "install not a boolean",
    (c) => (c.istio.install = "yes"),
    [`${P}istio.install: must be true or false`],
  ],
  [
    "a mesh workload with a custom SPIFFE ID path",
    (c) => (c.workloads[1].spiffeIdPath = "/shop/worker"),
    [
      `${P}workloads[1].spiffeIdPath: must be unset or /ns/shop/sa/worker for a mesh workload: Istio accepts only SPIFFE IDs of the form /ns/<namespace>/sa/<service account>`,
    ],
  ],
  [
    "workloads in the gateway's namespace, in the mesh or not",
    (c) => {
      c.istio.ingressGateway = { namespace: "shop" };
      delete c.workloads[1].istio;
    },
    [
      `${P}workloads[0].namespace: shop is the ingress gateway's namespace; give the workload its own, so that no ClusterSPIFFEID but the gateway's selects the gateway's pods`,
      `${P}workloads[1].namespace: shop is the ingress gateway's namespace; give the workload its own, so that no ClusterSPIFFEID but the gateway's selects the gateway's pods`,
    ],
  ],
  [
    "a grant with an unknown key",
    (c) => (c.workloads[0].istio = { inject: true }),
    [`${P}workloads[0].istio.inject: unknown key`],
  ],
  [
    "a grant without the istio block",
    (c) => delete c.istio,
    [
      `${P}workloads[0].istio: needs the spire-federation:istio block`,
      `${P}workloads[1].istio: needs the spire-federation:istio block`,
    ],
  ],
];

describe("istio config", () => {
  it.each(badConfigs)("%s", (_name, mutate, expected) => {
    const c = meshConfig();
    mutate(c);
    expect(problemsOf(c)).toEqual(expected);
  });

  it("defaults: install, the pinned chart, no gateway, no revision, no PeerAuthentication", () => {
    const m = parseStackConfig(meshConfig());
    expect(m.istio).toEqual({
      install: true,
      chartVersion: "1.30.3",
      revision: undefined,
      ingressGateway: undefined,
      mtls: undefined,
    });
    expect(m.workloads.map((w) => w.istio)).toEqual([{ mesh: true }, { mesh: true }]);
  });

  it.each([
    [true, { namespace: "istio-ingress", name: "istio-ingressgateway" }],
    [false, undefined],
    [{ name: "edge" }, { namespace: "istio-ingress", name: "edge" }],
    [
      { namespace: "edge", name: "gw" },
      { namespace: "edge", name: "gw" },
    ],
  ])("ingressGateway %j → %j", (ingressGateway, expected) => {
    expect(parseStackConfig(meshConfig({ ingressGateway })).istio?.ingressGateway).toEqual(
      expected,
    );
  });

  it("accepts an equal trust-domain override, a prerelease chart, a revision, mesh: false with a custom path", () => {
    const c = meshConfig({
      trustDomain: "test.example.com",
      chartVersion: "1.31.0-rc.0",
      revision: "1-31",
      mtls: "PERMISSIVE",
    });
    c.workloads[1] = { ...c.workloads[1], istio: { mesh: false }, spiffeIdPath: "/w" };
    const m = parseStackConfig(c);
    expect(m.istio).toMatchObject({ chartVersion: "1.31.0-rc.0", revision: "1-31" });
    expect(m.workloads[1].istio).toEqual({ mesh: false });
  });

  it("an explicit /ns/<ns>/sa/<sa> path is a mesh path", () => {
    const c = meshConfig();
    c.workloads[1].spiffeIdPath = "/ns/shop/sa/worker";
    expect(parseStackConfig(c).workloads[1].spiffeId).toBe(
      "spiffe://test.example.com/ns/shop/sa/worker",
    );
  });

  it.each([
    ["1.27.0", undefined],
    ["1.30.3+build.7", undefined],
    ["2.0.0", undefined],
    ["1.26.99", "must be 1.27.0 or later"],
    ["01.30.3", "must be a semantic version"],
    ["1.30.3-", "must be a semantic version"],
    ["latest", "must be a semantic version"],
  ])("chart version %s", (v, problem) => {
    const p = chartVersionProblem(v);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(new RegExp(`^${problem}`));
  });

  it.each([
    ["canary", undefined],
    ["1-30-3", undefined],
    ["a".repeat(56), undefined],
    ["-canary", "must be a DNS-1123 label"],
    ["", "must be a DNS-1123 label"],
  ])("revision %j", (rev, problem) => {
    const p = revisionProblem(rev);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(new RegExp(`^${problem}`));
  });
});

describe("IstioFederation args", () => {
  const args = (over: Partial<IstioFederationArgs> = {}): IstioFederationArgs => ({
    trustDomain: "t.example.com",
    className: "c",
    install: true,
    chartVersion: "1.30.3",
    grants: [
      {
        workload: "api",
        namespace: "shop",
        serviceAccount: "api",
        spiffeId: "spiffe://t.example.com/ns/shop/sa/api",
      },
    ],
    waitFor: [],
    ...over,
  });
  it("refuses what the config would have refused", () => {
    expect(istioArgsProblems(args())).toEqual([]);
    expect(
      istioArgsProblems(
        args({
          chartVersion: "v1",
          revision: "A",
          ingressGateway: { namespace: "shop", name: "gw" },
          grants: [
            {
              workload: "api",
              namespace: "shop",
              serviceAccount: "api",
              spiffeId: "spiffe://t.example.com/api",
            },
          ],
        }),
      ),
    ).toEqual([
      `chart version "v1" must be a semantic version such as 1.30.3, without the leading v (Istio's chart versions are its release versions)`,
      `revision "A" must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit`,
      "SPIFFE ID of api is spiffe://t.example.com/api; Istio requires spiffe://t.example.com/ns/shop/sa/api",
      "api is in the ingress gateway's namespace shop",
    ]);
    expect(istioArgsProblems(args({ trustDomain: "spiffe://t" }))).toHaveLength(1);
  });
});
