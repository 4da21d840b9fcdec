/** Configs and certificates shared by the SPIRE-to-SPIRE federation tests. */
import { pemToSpiffeBundle } from "../../components/spire-federation/index";
import { baseConfig, makeCertificate } from "../fixtures";
import type { RawConfig } from "../support/stack-fixtures";

/** A peer's root CA, made once per test file. */
let peerRoot: Promise<string> | undefined;
export function peerRootPem(): Promise<string> {
  peerRoot ??= makeCertificate({ subject: "CN=peer root CA", ca: true }).then((c) => c.pem);
  return peerRoot;
}

/** The peer root as SPIFFE bundle JSON. */
export async function peerBundleJson(): Promise<string> {
  const b = pemToSpiffeBundle(await peerRootPem());
  if ("problem" in b) throw new Error(b.problem);
  return b.bundle;
}

/**
 * The base config (trust domain test.example.com) with a bundle endpoint, one https_spiffe peer
 * (peer.example.org, bootstrap bundle inline as PEM) and workloads[1] federating with it.
 */
export async function federated(): Promise<RawConfig> {
  const c: RawConfig = baseConfig();
  c.federation = {
    bundleEndpoint: { host: "bundle.test.example.com" },
    trustDomains: [
      {
        trustDomain: "peer.example.org",
        bundleEndpointUrl: "https://bundle.peer.example.org",
        bundle: await peerRootPem(),
      },
    ],
  };
  c.workloads[1].federatesWith = ["peer.example.org"];
  return c;
}
