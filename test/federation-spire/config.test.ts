/**
 * SPIRE-to-SPIRE federation, config: the model with its defaults, and every rule's exact message
 * at its key path (all reported at once).
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import {
  bootstrapBundle,
  pemToSpiffeBundle,
  refreshHintProblem,
} from "../../components/spire-federation/index";
import { configProblems } from "../helpers";
import type { RawConfig } from "../support/stack-fixtures";
import { federated, peerBundleJson, peerRootPem } from "./support";

const NS = "spire-federation:";

describe("federation: the model", () => {
  it("applies the defaults: https_spiffe, port 8443, refresh 5m, the server's SPIFFE IDs", async () => {
    const m = parseStackConfig(await federated());
    expect(m.federation).toEqual({
      bundleEndpoint: {
        host: "bundle.test.example.com",
        ingressClassName: "nginx",
        profile: "https_spiffe",
        port: 8443,
        refreshHint: "5m",
        url: "https://bundle.test.example.com",
        endpointSpiffeId: "spiffe://test.example.com/spire/server",
      },
      trustDomains: [
        {
          trustDomain: "peer.example.org",
          resourceName: "peer.example.org",
          bundleEndpointUrl: "https://bundle.peer.example.org",
          profile: "https_spiffe",
          endpointSpiffeId: "spiffe://peer.example.org/spire/server",
          // PEM in config, SPIFFE bundle JSON in the model (what the controller manager reads).
          bundle: await peerBundleJson(),
        },
      ],
    });
    expect(m.workloads.map((w) => (w.mode === "pod" ? w.federatesWith : "node"))).toEqual([
      undefined,
      ["peer.example.org"],
    ]);
  });

  it("https_web with ACME; a peer from its stack; an https_web peer with no bundle", async () => {
    const c = await federated();
    c.federation.bundleEndpoint = {
      host: "bundle.test.example.com",
      ingressClassName: "public",
      profile: "https_web",
      refreshHint: "1h",
      tls: { acme: { email: "ops@example.com" } },
    };
    c.federation.trustDomains.push(
      { trustDomain: "west.example.org", fromStack: "acme/spire-federation/west" },
      {
        trustDomain: "partner_1.example.net",
        bundleEndpointUrl: "https://spiffe.partner.example.net/bundle",
        profile: "https_web",
      },
    );
    const m = parseStackConfig(c);
    expect(m.federation?.bundleEndpoint).toEqual({
      host: "bundle.test.example.com",
      ingressClassName: "public",
      profile: "https_web",
      port: 8443,
      refreshHint: "1h",
      tls: {
        kind: "acme",
        email: "ops@example.com",
        server: "https://acme-v02.api.letsencrypt.org/directory",
      },
      url: "https://bundle.test.example.com",
    });
    expect(m.federation?.trustDomains.slice(1)).toEqual([
      {
        trustDomain: "west.example.org",
        resourceName: "west.example.org",
        fromStack: "acme/spire-federation/west",
      },
      {
        trustDomain: "partner_1.example.net",
        resourceName: "partner-1.example.net",
        bundleEndpointUrl: "https://spiffe.partner.example.net/bundle",
        profile: "https_web",
      },
    ]);
  });

  it("takes a SPIFFE bundle JSON as it is", async () => {
    const c = await federated();
    c.federation.trustDomains[0].bundle = await peerBundleJson();
    expect(parseStackConfig(c).federation?.trustDomains[0].bundle).toBe(await peerBundleJson());
  });

  it("without the block nothing changes", async () => {
    const c = await federated();
    delete c.federation;
    delete c.workloads[1].federatesWith;
    expect(parseStackConfig(c).federation).toBeUndefined();
  });
});

const peer = (c: RawConfig) => c.federation.trustDomains[0];

describe("federation: rules, each with its exact message", () => {
  const cases: [string, (c: RawConfig) => void, string[]][] = [
    [
      "a peer is this trust domain",
      (c) => (peer(c).trustDomain = "test.example.com"),
      [
        "federation.trustDomains[0].trustDomain: is this stack's own trust domain; a trust domain does not federate with itself",
        "workloads[1].federatesWith[0]: names no peer: add peer.example.org to federation.trustDomains, or remove it here",
      ],
    ],
    [
      "a peer twice",
      (c) => c.federation.trustDomains.push({ ...peer(c) }),
      [
        'federation.trustDomains[1].trustDomain: duplicates federation.trustDomains[0].trustDomain "peer.example.org"',
      ],
    ],
    [
      "one stack for two peers",
      (c) => {
        delete peer(c).bundle;
        peer(c).fromStack = "acme/spire-federation/peer";
        c.federation.trustDomains.push({
          trustDomain: "other.example.org",
          fromStack: "acme/spire-federation/peer",
        });
      },
      [
        "federation.trustDomains[1].fromStack: duplicates federation.trustDomains[0].fromStack; a stack publishes one trust domain",
      ],
    ],
    [
      "https_spiffe without a bootstrap bundle",
      (c) => delete peer(c).bundle,
      [
        "federation.trustDomains[0].bundle: required with https_spiffe (or fromStack): SPIRE authenticates the peer's endpoint with the peer's bundle, so without a bootstrap bundle the first fetch fails; set the peer's SPIFFE bundle JSON or its CA certificates as PEM",
      ],
    ],
    [
      "bundle and fromStack",
      (c) => (peer(c).fromStack = "acme/spire-federation/peer"),
      [
        "federation.trustDomains[0].bundle: set either bundle or fromStack, not both (fromStack reads the bundle)",
      ],
    ],
    [
      "an endpoint ID outside the peer's trust domain",
      (c) => (peer(c).endpointSpiffeId = "spiffe://other.example.org/spire/server"),
      [
        "federation.trustDomains[0].endpointSpiffeId: must lie in the peer's trust domain peer.example.org (it is in other.example.org): the peer's server authenticates with an SVID of its own trust domain, default spiffe://peer.example.org/spire/server",
      ],
    ],
    [
      "an endpoint ID that is no SPIFFE ID",
      (c) => (peer(c).endpointSpiffeId = "https://bundle.peer.example.org"),
      [
        'federation.trustDomains[0].endpointSpiffeId: must be a SPIFFE ID: scheme is missing or invalid: a SPIFFE ID starts with "spiffe://"',
      ],
    ],
    [
      "an endpoint ID with https_web",
      (c) => {
        peer(c).profile = "https_web";
        peer(c).endpointSpiffeId = "spiffe://peer.example.org/spire/server";
      },
      [
        "federation.trustDomains[0].endpointSpiffeId: applies to https_spiffe only (the controller manager refuses it for https_web)",
      ],
    ],
    [
      "no URL and no stack",
      (c) => delete peer(c).bundleEndpointUrl,
      [
        "federation.trustDomains[0].bundleEndpointUrl: required without fromStack (the peer's stack would publish it)",
      ],
    ],
    [
      "a URL with user info, a plain http URL",
      (c) =>
        c.federation.trustDomains.push(
          {
            ...peer(c),
            trustDomain: "a.example.org",
            bundleEndpointUrl: "https://u:p@a.example.org",
          },
          { ...peer(c), trustDomain: "b.example.org", bundleEndpointUrl: "http://b.example.org" },
        ),
      [
        "federation.trustDomains[1].bundleEndpointUrl: must not contain user info",
        "federation.trustDomains[2].bundleEndpointUrl: must be an https:// URL",
      ],
    ],
    [
      "fromStack not org/project/stack",
      (c) => {
        delete peer(c).bundle;
        peer(c).fromStack = "peer";
      },
      [
        "federation.trustDomains[0].fromStack: must be a fully qualified stack name org/project/stack",
      ],
    ],
    [
      "bundles that are not SPIFFE bundles",
      (c) =>
        c.federation.trustDomains.push(
          { ...peer(c), trustDomain: "a.example.org", bundle: "hello" },
          {
            ...peer(c),
            trustDomain: "b.example.org",
            bundle: '{"keys":[{"use":"x509-svid","x5c":[]}]}',
          },
          {
            ...peer(c),
            trustDomain: "c.example.org",
            bundle: '{"keys":[{"use":"jwt-svid","kid":"k"}]}',
          },
          { ...peer(c), trustDomain: "d.example.org", bundle: "{keys" },
        ),
      [
        "federation.trustDomains[1].bundle: must be SPIFFE bundle JSON or PEM certificates",
        "federation.trustDomains[2].bundle: keys[0]: an x509-svid key must carry exactly one certificate in x5c",
        "federation.trustDomains[3].bundle: has no x509-svid key: SPIRE could not authenticate the peer's endpoint or its SVIDs",
        "federation.trustDomains[4].bundle: must be SPIFFE bundle JSON or PEM certificates (the JSON does not parse)",
      ],
    ],
    [
      "a refresh hint over a third of caTTL",
      (c) => {
        c.spire = { caTTL: "12h" };
        c.federation.bundleEndpoint.refreshHint = "4h1m";
      },
      [
        "federation.bundleEndpoint.refreshHint: must be at most a third of spire.caTTL (12h); the chart: CA TTL must be 3-5x the refresh hint, so that peers load new public keys before the CA rotates: lower the hint or raise caTTL",
      ],
    ],
    [
      "https_web without a certificate; https_spiffe with one",
      (c) => {
        c.federation.bundleEndpoint.profile = "https_web";
      },
      [
        "federation.bundleEndpoint.tls: required with https_web: peers check the endpoint's certificate against public roots; set acme: { email } or secretName (a TLS Secret in spire-server)",
      ],
    ],
    [
      "https_spiffe with tls",
      (c) => (c.federation.bundleEndpoint.tls = { secretName: "bundle-tls" }),
      [
        "federation.bundleEndpoint.tls: applies to https_web only; with https_spiffe the SPIRE server serves its own SVID",
      ],
    ],
    [
      "the OIDC host, an ingress without passthrough",
      (c) => {
        c.federation.bundleEndpoint.host = "oidc.test.example.com";
        c.oidc.ingressControllerType = "other";
      },
      [
        "federation.bundleEndpoint.host: is also oidc.host; each endpoint needs its own host (an ingress passes one host's TLS through to one backend)",
        "federation.bundleEndpoint.host: needs an ingress that passes TLS through to the SPIRE server (the chart annotates ingress-nginx and openshift ingresses only); oidc.ingressControllerType is other: use ingress-nginx or openshift",
      ],
    ],
    [
      "federatesWith: an unknown peer, twice, on the default path without labels",
      (c) => (c.workloads[0].federatesWith = ["nobody.example.org", "nobody.example.org"]),
      [
        "workloads[0].podLabels: required with federatesWith; the chart's default ClusterSPIFFEID cannot federate, so the workload gets its own, which selects pods by labels, and without them it would select every pod in namespace \"shop\": set labels that only this workload's pods carry",
        "workloads[0].federatesWith[0]: names no peer: add nobody.example.org to federation.trustDomains, or remove it here",
        "workloads[0].federatesWith[1]: lists nobody.example.org twice",
      ],
    ],
    [
      "federatesWith without the block",
      (c) => delete c.federation,
      ["workloads[1].federatesWith: needs the spire-federation:federation block"],
    ],
    [
      "federatesWith on a node workload",
      (c) => {
        c.spire = {
          server: { exposure: { host: "spire.test.example.com", ingressClassName: "nginx" } },
        };
        c.nodes = [{ name: "vm-1", hostname: "vm-1.test.example.com" }];
        c.workloads.push({
          name: "app",
          node: "vm-1",
          unix: { uid: 1000 },
          spiffeIdPath: "/vm/app",
          federatesWith: ["peer.example.org"],
        });
      },
      [
        "workloads[2].federatesWith: applies to pod workloads only (a node workload's ClusterStaticEntry is not federated yet)",
      ],
    ],
    [
      "shapes: an unknown profile, an unknown key, a federatesWith that is no list",
      (c) => {
        peer(c).profile = "https";
        c.federation.bundleEndpoint.port = 9443;
        c.workloads[0].federatesWith = "peer.example.org";
      },
      [
        "workloads[0].federatesWith: must be a list of peer trust domains",
        "federation.bundleEndpoint.port: unknown key",
        "federation.trustDomains[0].profile: must be https_spiffe or https_web",
      ],
    ],
  ];

  it.each(cases)("%s", async (_name, mutate, expected) => {
    const c = await federated();
    mutate(c);
    expect(configProblems(c)).toEqual(expected.map((p) => `${NS}${p}`));
  });
});

describe("federation: the pure rules", () => {
  it("refreshHintProblem: at most a third of caTTL", () => {
    expect(refreshHintProblem("8h", "24h")).toBeUndefined();
    expect(refreshHintProblem("8h1s", "24h")).toMatch(/^must be at most a third of spire.caTTL/);
    expect(refreshHintProblem("1m", "24h")).toBeUndefined();
  });

  it("PEM becomes SPIFFE bundle JSON that go-spiffe can read: the key matches its certificate", async () => {
    const pem = await peerRootPem();
    const b = pemToSpiffeBundle(pem);
    if ("problem" in b) throw new Error(b.problem);
    const json = JSON.parse(b.bundle) as { keys: Record<string, unknown>[] };
    expect(json.keys).toHaveLength(1);
    const [key] = json.keys;
    expect(key.use).toBe("x509-svid");
    expect(key.kty).toBe("EC");
    expect(key.crv).toBe("P-256");
    const { X509Certificate } = await import("node:crypto");
    const cert = new X509Certificate(Buffer.from((key.x5c as string[])[0], "base64"));
    expect(cert.toString()).toBe(new X509Certificate(pem).toString());
    expect(cert.publicKey.export({ format: "jwk" })).toMatchObject({ x: key.x, y: key.y });
    expect(bootstrapBundle(b.bundle)).toEqual({ bundle: b.bundle });
  });

  it("refuses a leaf certificate as a bootstrap bundle", async () => {
    const { makeCertificate } = await import("../fixtures");
    const leaf = await makeCertificate({ subject: "CN=leaf", ca: false });
    expect(bootstrapBundle(leaf.pem)).toEqual({
      problem: "certificate 1 is not a CA certificate (basicConstraints CA:TRUE)",
    });
  });
});
