/**
 * Stack configs shared by the area tests (nodes, Istio): the raw config shapes they start from
 * and the config errors `parseStackConfig` reports for them. Built on `test/fixtures.ts`.
 */
import { expect } from "vitest";
import { ConfigError, parseStackConfig } from "../../components/config";
import { baseConfig } from "../fixtures";

/** A raw stack config as the tests mutate it. */
export type RawConfig = Record<string, any>;

/** The problems parseStackConfig reports for `raw` (fails the test if it accepts it). */
export function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

/** The base config plus two nodes, an ingress exposure and one node workload (workloads[2]). */
export function withNodes(): RawConfig {
  const c: RawConfig = baseConfig();
  c.spire = { server: { exposure: { host: "spire.test.example.com", ingressClassName: "nginx" } } };
  c.nodes = [
    { name: "vm-1", hostname: "vm-1.test.example.com" },
    { name: "vm-2", hostname: "vm-2.test.example.com", attestation: "httpChallenge" },
  ];
  c.workloads.push({ name: "app", node: "vm-1", unix: { uid: 1000 }, spiffeIdPath: "/vm/app" });
  return c;
}

/** The base config with an istio block and both workloads in the mesh. */
export function meshConfig(istio: Record<string, unknown> = {}): RawConfig {
  const c: RawConfig = baseConfig();
  c.istio = istio;
  c.workloads[0].istio = {};
  c.workloads[1].istio = { mesh: true };
  return c;
}
