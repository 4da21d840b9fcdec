/**
 * Two federating trust domains on 127.0.0.1 for the `federation` check's tests: this stack
 * (east) and a peer stack of this package (west, read through `fromStack` from its outputs file),
 * each with its real PKI and a bundle endpoint double (spire-server.ts) presenting its server
 * SVID; plus an `https_web` peer (partner) behind a loopback web certificate.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { FaultServer } from "../support/fault-server";
import { makeLoopbackServerCredentials } from "../fixtures";
import {
  chainPem,
  issue,
  makeTrustDomainPki,
  spiffeBundleJson,
  type Issued,
  type TrustDomainPki,
} from "./spire-pki";
import { startBundleEndpoint, type BundleEndpointState } from "./spire-server";
import { runVerify, writeStack, type Run } from "./support";

export const EAST = "east.test.example.com";
export const WEST = "west.test.example.com";
export const PARTNER = "partner.test.example.net";
export const WEST_STACK = "acme/spire-federation/west";

/** A running endpoint and what it serves. */
export interface Served {
  /** The double. */
  server: FaultServer;
  /** What it serves (change between runs). */
  state: BundleEndpointState;
}

/** Everything a test needs. */
export interface Federation {
  east: TrustDomainPki;
  west: TrustDomainPki;
  partnerRoot: Issued;
  eastEp: Served;
  westEp: Served;
  partnerEp: Served;
  /** The loopback CA of the partner's web certificate (for --ca-file). */
  webCaPem: string;
  dir: string;
  close(): Promise<void>;
}

/** A bundle endpoint presenting `leafCert` (default: the server SVID) of `pki`. */
export async function endpointOf(
  pki: TrustDomainPki,
  bundle: unknown,
  leafCert: Issued = pki.server,
): Promise<Served> {
  const state: BundleEndpointState = { bundle };
  const server = await startBundleEndpoint(state, {
    chainPem: chainPem(leafCert, pki.intermediate),
    keyPem: leafCert.keyPem,
  });
  return { server, state };
}

/** The bundle a SPIRE server of `pki` serves: its root, one JWT key, refresh hint 300 s. */
export function servedBundle(pki: TrustDomainPki, kid = `${pki.trustDomain}-k1`) {
  return spiffeBundleJson([pki.root], { jwtKids: [kid], refreshHint: 300, sequence: 4 });
}

/** West's outputs, as `pulumi stack output --json --show-secrets` writes them. */
export function westOutputs(url: string, root: Issued, refreshHint = "5m") {
  return {
    trustDomain: WEST,
    bundleEndpoint: {
      trustDomain: WEST,
      url,
      profile: "https_spiffe",
      endpointSpiffeId: `spiffe://${WEST}/spire/server`,
      refreshHint,
    },
    trustBundle: JSON.stringify(spiffeBundleJson([root])),
  };
}

/** East's outputs (this stack). */
export function eastOutputs(f: Federation, trustRoot: Issued = f.east.root) {
  return {
    trustDomain: EAST,
    bundleEndpoint: {
      trustDomain: EAST,
      url: f.eastEp.server.url,
      profile: "https_spiffe",
      endpointSpiffeId: `spiffe://${EAST}/spire/server`,
      refreshHint: "5m",
    },
    trustBundle: JSON.stringify(spiffeBundleJson([trustRoot])),
  };
}

/** Writes west's outputs file where the stack's fromStack reads it. */
export function writeWestOutputs(dir: string, outputs: unknown): void {
  const at = path.join(dir, "stacks", "outputs", "acme", "spire-federation");
  mkdirSync(at, { recursive: true });
  writeFileSync(path.join(at, "west.json"), JSON.stringify(outputs));
}

/** Starts both trust domains and the partner, and writes east's stack file. */
export async function startFederation(): Promise<Federation> {
  const [east, west] = await Promise.all([makeTrustDomainPki(EAST), makeTrustDomainPki(WEST)]);
  const partnerRoot = await issue({ subject: `CN=${PARTNER} root`, ca: true });
  const eastEp = await endpointOf(east, servedBundle(east));
  const westEp = await endpointOf(west, servedBundle(west));
  const web = await makeLoopbackServerCredentials();
  const partnerState: BundleEndpointState = {
    bundle: spiffeBundleJson([partnerRoot], { refreshHint: 600 }),
  };
  const partnerServer = await startBundleEndpoint(partnerState, {
    chainPem: web.certPem,
    keyPem: web.keyPem,
  });
  const dir = writeStack("east", {
    "spire-federation:trustDomain": EAST,
    "spire-federation:clusterName": "east",
    "spire-federation:oidc": {
      host: "oidc.east.test.example.com",
      ingressClassName: "nginx",
      tls: { acme: { email: "ops@example.com" } },
    },
    "spire-federation:ca": { mode: "generated" },
    "spire-federation:federation": {
      bundleEndpoint: { host: "bundle.east.test.example.com" },
      trustDomains: [
        { trustDomain: WEST, fromStack: WEST_STACK },
        {
          trustDomain: PARTNER,
          bundleEndpointUrl: partnerServer.url,
          profile: "https_web",
          bundle: partnerRoot.pem,
        },
      ],
    },
    "spire-federation:workloads": [
      {
        name: "storefront",
        namespace: "shop",
        serviceAccount: "storefront",
        podLabels: { app: "storefront" },
        federatesWith: [WEST],
      },
      { name: "catalog", namespace: "shop", serviceAccount: "catalog" },
    ],
  });
  writeWestOutputs(dir, westOutputs(westEp.server.url, west.root));
  const f: Federation = {
    east,
    west,
    partnerRoot,
    eastEp,
    westEp,
    partnerEp: { server: partnerServer, state: partnerState },
    webCaPem: web.caPem,
    dir,
    close: async () => {
      await Promise.all([eastEp, westEp].map((e) => e.server.close()));
      await partnerServer.close();
    },
  };
  return f;
}

/** Runs `verify --checks federation` on east with the partner's CA as --ca-file. */
export function runFederation(f: Federation, extra: string[] = [], outputs = eastOutputs(f)) {
  return runVerify(f.dir, "east", outputs, ["--checks", "federation", ...extra], {
    caPem: f.webCaPem,
  });
}

/** The `federation` lines: name → [status, reason] (the last of a name wins). */
export function lines(r: Run): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const m of r.stdout.matchAll(/^ {2}(PASS|FAIL|SKIP) federation: ([^:]+): (.*)$/gm)) {
    out[m[2]] = [m[1], m[3]];
  }
  return out;
}
