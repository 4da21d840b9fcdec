/**
 * SPIRE-to-SPIRE federation, the program under mocks: a peer read from its stack (the
 * StackReference, its outputs in the ClusterFederatedTrustDomain), a peer stack that publishes
 * another trust domain (the update fails naming the stack), the outputs a stack publishes, and
 * the component's own refusals.
 */
import { describe, expect, it } from "vitest";
import { RunError } from "@pulumi/pulumi";
import { parseStackConfig } from "../../components/config";
import {
  publishedPeerSpec,
  TrustDomainFederation,
  trustDomainFederationProblems,
} from "../../components/spire-federation/index";
import { pemToSpiffeBundle } from "../../components/spire-federation/index";
import { prepareProgram, runProgram } from "../compiled";
import { makeCertificate, pkcs8Pem } from "../fixtures";
import { computedOutputs, toConfigMap } from "../helpers";
import { federated, peerBundleJson } from "./support";

const CFTD = "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain";

/** The federated config with its peer read from `acme/spire-federation/peer`. */
async function fromStack() {
  const c = await federated();
  const p = c.federation.trustDomains[0];
  delete p.bundle;
  delete p.bundleEndpointUrl;
  p.fromStack = "acme/spire-federation/peer";
  return c;
}

/** This stack's own generated root (made once), as the tls resources would return it. */
let ownRoot: Promise<{ pem: string; keyPem: string }> | undefined;
const root = () =>
  (ownRoot ??= makeCertificate({ subject: "CN=own root CA", ca: true }).then(async (c) => ({
    pem: c.pem,
    keyPem: await pkcs8Pem(c.keys.privateKey),
  })));

async function run(raw: Record<string, unknown>, outputs: Record<string, unknown>) {
  const asked: string[] = [];
  const { pem, keyPem } = await root();
  const result = await runProgram(() => prepareProgram({ secretPaths: [] }), {
    project: "spire-federation",
    stack: "test",
    config: toConfigMap(raw),
    preview: false,
    computed: computedOutputs(pem, keyPem),
    stackOutputs: (name) => {
      asked.push(name);
      return outputs;
    },
  });
  return { ...result, asked };
}

const peerOutputs = async () => ({
  trustDomain: "peer.example.org",
  bundleEndpoint: {
    trustDomain: "peer.example.org",
    url: "https://bundle.peer.example.org",
    profile: "https_spiffe",
    endpointSpiffeId: "spiffe://peer.example.org/spire/server",
    refreshHint: "5m",
  },
  trustBundle: await peerBundleJson(),
});

describe("a peer read from its stack", () => {
  it("reads the peer's bundleEndpoint and trustBundle through a StackReference", async () => {
    const r = await run(await fromStack(), await peerOutputs());
    expect(r.asked).toEqual(["acme/spire-federation/peer"]);
    const cftd = r.resources.find((x) => x.type === CFTD);
    expect(cftd?.inputs.spec).toEqual({
      className: "spire-federation",
      trustDomain: "peer.example.org",
      bundleEndpointURL: "https://bundle.peer.example.org",
      bundleEndpointProfile: {
        type: "https_spiffe",
        endpointSPIFFEID: "spiffe://peer.example.org/spire/server",
      },
      trustDomainBundle: await peerBundleJson(),
    });
    // Its parent is the federation component, which the stack component holds.
    const component = r.resources.find(
      (x) => x.type === "spire-federation:index:TrustDomainFederation",
    );
    expect(cftd?.parent).toBe(component?.urn);
  });

  it("a URL in config wins over the peer's published one", async () => {
    const c = await fromStack();
    c.federation.trustDomains[0].bundleEndpointUrl = "https://internal.peer.example.org:8443";
    const r = await run(c, await peerOutputs());
    const cftd = r.resources.find((x) => x.type === CFTD);
    expect((cftd?.inputs.spec as any).bundleEndpointURL).toBe(
      "https://internal.peer.example.org:8443",
    );
  });

  it("fails the update naming the stack when its outputs do not fit", async () => {
    const outputs = await peerOutputs();
    const model = parseStackConfig(await fromStack()).federation?.trustDomains[0];
    if (model === undefined) throw new Error("no peer");
    const spec = (endpoint: unknown, bundle: unknown) => () =>
      publishedPeerSpec(model, "acme/spire-federation/peer", endpoint, bundle, "spire-federation");
    const at =
      "spire-federation:federation.trustDomains (peer.example.org): stack acme/spire-federation/peer";
    const cases: [unknown, unknown, string][] = [
      [
        { ...outputs.bundleEndpoint, trustDomain: "else.example.org" },
        outputs.trustBundle,
        "publishes trust domain else.example.org, not peer.example.org: name the peer's stack or its trust domain correctly",
      ],
      [
        "https://bundle.peer.example.org",
        outputs.trustBundle,
        "has no bundleEndpoint output: set federation.bundleEndpoint in that stack, or bundleEndpointUrl and profile here",
      ],
      [
        { ...outputs.bundleEndpoint, url: "http://bundle.peer.example.org" },
        outputs.trustBundle,
        "publishes a bundleEndpoint without an https url",
      ],
      [
        { ...outputs.bundleEndpoint, profile: "https" },
        outputs.trustBundle,
        "publishes an unknown bundle endpoint profile https",
      ],
      [outputs.bundleEndpoint, undefined, "has no trustBundle output (the peer's SPIFFE bundle)"],
      [
        outputs.bundleEndpoint,
        '{"keys":[]}',
        "publishes a trustBundle that is refused: has no x509-svid key: SPIRE could not authenticate the peer's endpoint or its SVIDs",
      ],
    ];
    for (const [endpoint, bundle, message] of cases) {
      expect(spec(endpoint, bundle)).toThrow(`${at} ${message}`);
      try {
        spec(endpoint, bundle)();
      } catch (e) {
        // A RunError: the engine prints its message without a stack trace.
        expect(RunError.isInstance(e)).toBe(true);
      }
    }
    expect(spec(outputs.bundleEndpoint, outputs.trustBundle)()).toMatchObject({
      trustDomain: "peer.example.org",
    });
  });
});

describe("the outputs a stack publishes", () => {
  it("bundleEndpoint and trustBundle (the root as SPIFFE bundle JSON)", async () => {
    const r = await run(await federated(), {});
    expect(r.outputs.bundleEndpoint).toEqual({
      trustDomain: "test.example.com",
      url: "https://bundle.test.example.com",
      profile: "https_spiffe",
      endpointSpiffeId: "spiffe://test.example.com/spire/server",
      refreshHint: "5m",
    });
    expect(r.outputs.trustBundle).toEqual(
      (pemToSpiffeBundle((await root()).pem) as { bundle: string }).bundle,
    );
  });

  it("none without a bundle endpoint", async () => {
    const c = await federated();
    delete c.federation.bundleEndpoint;
    const r = await run(c, {});
    expect(Object.keys(r.outputs)).not.toContain("bundleEndpoint");
    expect(Object.keys(r.outputs)).not.toContain("trustBundle");
  });
});

describe("the component's own refusals (before anything registers)", () => {
  it("lists every problem", () => {
    const problems = trustDomainFederationProblems({
      trustDomain: "test.example.com",
      className: "spire-federation",
      peers: [
        {
          trustDomain: "test.example.com",
          resourceName: "test.example.com",
          bundle: "{}",
          bundleEndpointUrl: "https://a.example.org",
        },
        {
          trustDomain: "b.example.org",
          resourceName: "b.example.org",
          bundleEndpointUrl: "http://b.example.org",
          endpointSpiffeId: "spiffe://c.example.org/x",
        },
        { trustDomain: "b.example.org", resourceName: "b.example.org", fromStack: "a/b/c" },
      ],
      rootCertificatePem: "",
      spireRelease: undefined as never,
    });
    expect(problems).toEqual([
      "peer test.example.com: is this stack's own trust domain; a trust domain does not federate with itself",
      "peer b.example.org: https_spiffe needs a bootstrap bundle or fromStack",
      "peer b.example.org: bundleEndpointUrl must be an https:// URL",
      "peer b.example.org: endpointSpiffeId must lie in the peer's trust domain b.example.org (it is in c.example.org): the peer's server authenticates with an SVID of its own trust domain, default spiffe://b.example.org/spire/server",
      "peer b.example.org is listed twice",
    ]);
    expect(TrustDomainFederation).toBeTypeOf("function");
  });
});
