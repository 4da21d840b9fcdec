/**
 * The core's cross-field rules (components/core/rules/*): every rule reports at once, whatever
 * else is wrong; a rule skips only when a field it reads is invalid; SPIRE's reserved IDs; secrecy
 * of every leaf; no secure value quoted in a message.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig, type ParseOptions } from "../../components/config";
import { baseConfig } from "../fixtures";

function problemsOf(raw: Record<string, unknown>, options: ParseOptions = {}): string[] {
  try {
    parseStackConfig(raw, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

const RESERVED =
  "must not be /spire or below it; SPIRE reserves that namespace for its servers' and agents' own IDs and refuses a workload entry there, so the workload would never get an ID: choose another path";

function withNode(): Record<string, any> {
  const c: Record<string, any> = baseConfig();
  c.spire = { server: { exposure: { host: "spire.test.example.com", ingressClassName: "nginx" } } };
  c.nodes = [{ name: "vm-1", hostname: "vm-1.test.example.com" }];
  c.workloads.push({ name: "app", node: "vm-1", unix: { uid: 1000 }, spiffeIdPath: "/vm/app" });
  return c;
}

describe("SPIRE's reserved namespace (idutil.IsReservedPath: /spire and below)", () => {
  it.each(["/spire", "/spire/agent/x", "/spire/server", "/spire/app"])(
    "refuses %s for a pod workload and a node workload",
    (path) => {
      const c = withNode();
      c.workloads[1].spiffeIdPath = path;
      c.workloads[2].spiffeIdPath = path;
      expect(problemsOf(c)).toEqual([
        `spire-federation:workloads[1].spiffeIdPath: ${RESERVED}`,
        `spire-federation:workloads[2].spiffeIdPath: ${RESERVED}`,
      ]);
    },
  );

  it.each(["/spire-app", "/spiree", "/apps/spire", "/Spire/x"])("accepts %s", (path) => {
    const c = withNode();
    c.workloads[2].spiffeIdPath = path;
    expect(parseStackConfig(c).workloads[2].spiffeId).toBe(`spiffe://test.example.com${path}`);
  });
});

describe("every rule reports at once", () => {
  it("a bad grant, a bad label and an unknown key do not hide a duplicate SPIFFE ID or a missing block", () => {
    const c: Record<string, any> = baseConfig();
    c.workloads[0].vault = { policies: 5 };
    c.workloads[0].colour = "blue";
    c.workloads.push({ name: "api2", namespace: "shop", serviceAccount: "api", podLabels: 3 });
    const problems = problemsOf(c);
    expect(problems).toContain(
      "spire-federation:workloads[2]: SPIFFE ID spiffe://test.example.com/ns/shop/sa/api duplicates the one of workloads[0]",
    );
    expect(problems).toContain(
      "spire-federation:workloads[0].vault: needs the spire-federation:vault block",
    );
    expect(problems).toContain("spire-federation:workloads[0].colour: unknown key");
  });

  it("a bad oidc host does not hide the duplicate name, the TTL rule or the CA validity", () => {
    const c: Record<string, any> = baseConfig();
    c.oidc.host = "Not A Host";
    c.ca = { mode: "generated", validityHours: 12, keyAlgorithm: "DSA" };
    c.spire = { x509SvidTTL: "48h", replicas: 0 };
    c.workloads[1].name = "api";
    expect(problemsOf(c)).toEqual([
      "spire-federation:oidc.host: must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)",
      "spire-federation:ca.keyAlgorithm: must be ECDSA-P256, ECDSA-P384, RSA-2048 or RSA-4096",
      "spire-federation:spire.replicas: must be at least 1",
      "spire-federation:spire.x509SvidTTL: must be shorter than spire.caTTL (24h); SPIRE cannot sign past its CA's expiry",
      "spire-federation:ca.validityHours: must be longer than spire.caTTL (24h); the root must outlive SPIRE's intermediates",
      'spire-federation:workloads[1].name: duplicates workloads[0].name "api"',
    ]);
  });

  it("skips a rule whose input is invalid instead of judging it against a default", () => {
    const c: Record<string, any> = baseConfig();
    // caTTL is invalid: the x509 rule must not compare against the 24h default.
    c.spire = { caTTL: "forever", x509SvidTTL: "48h" };
    expect(problemsOf(c)).toEqual([
      "spire-federation:spire.caTTL: must be a positive duration such as 1h, 30m or 1h30m (units h, m, s)",
    ]);
  });
});

describe("secrecy of every leaf", () => {
  it("refuses a secure value in nodes[] (the key is secret, the leaf is not a password)", () => {
    const c = withNode();
    expect(
      problemsOf(c, {
        secretKeys: new Set(["nodes"]),
        secretPaths: new Set(["nodes[0].hostname"]),
      }),
    ).toEqual([
      "spire-federation:nodes[0].hostname: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
    ]);
  });

  it("refuses a secure leaf the schema does not know (it is never a password)", () => {
    const c: Record<string, any> = baseConfig();
    c.workloads[0].colour = "blue";
    expect(
      problemsOf(c, {
        secretKeys: new Set(["workloads"]),
        secretPaths: new Set(["workloads[0].colour"]),
      }),
    ).toEqual([
      "spire-federation:workloads[0].colour: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:workloads[0].colour: unknown key",
    ]);
  });

  it("never quotes a secure value, even in another rule's message", () => {
    const c: Record<string, any> = baseConfig();
    c.spire = { caTTL: "3h", x509SvidTTL: "4h" };
    c.workloads[1].name = "api";
    expect(
      problemsOf(c, {
        secretKeys: new Set(["spire", "workloads"]),
        secretPaths: new Set(["spire.caTTL", "workloads[0].name"]),
      }),
    ).toEqual([
      "spire-federation:spire.x509SvidTTL: must be shorter than spire.caTTL ([secret]); SPIRE cannot sign past its CA's expiry",
      "spire-federation:workloads[0].name: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      "spire-federation:spire.caTTL: must not be a secure value; the package uses it in clear (resource inputs, outputs): set it without --secret",
      'spire-federation:workloads[1].name: duplicates workloads[0].name "[secret]"',
    ]);
  });
});
