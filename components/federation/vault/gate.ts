/**
 * A readiness gate for an OIDC issuer: polls `<issuer>/.well-known/openid-configuration` with
 * bounded retries until it answers 200 with exactly the expected `issuer`. Vault's JWT backend
 * fetches that document when its config is written and fails on an unreachable endpoint or an
 * issuer mismatch, so it waits on this gate.
 *
 * The check runs as `node -e <script>` (`@pulumi/command`): Node.js is always present where a
 * Pulumi Node.js program runs, and the script is tested here against a local HTTPS server.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** The gate script. Environment: GATE_ISSUER, GATE_ATTEMPTS, GATE_INTERVAL_MS, GATE_CA_PEM. */
export const GATE_SCRIPT = `
const https = require("node:https");
const issuer = process.env.GATE_ISSUER;
const attempts = Number(process.env.GATE_ATTEMPTS || "30");
const intervalMs = Number(process.env.GATE_INTERVAL_MS || "10000");
const ca = process.env.GATE_CA_PEM || undefined;
const url = issuer + "/.well-known/openid-configuration";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function get() {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 10000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out after 10s")));
    req.on("error", reject);
  });
}
(async () => {
  let last = "no attempt made";
  for (let i = 1; i <= attempts; i++) {
    try {
      const res = await get();
      if (res.status !== 200) {
        last = "HTTP " + res.status;
      } else {
        let doc;
        try { doc = JSON.parse(res.body); } catch { doc = undefined; }
        if (!doc || typeof doc !== "object") {
          last = "the response is not a JSON document";
        } else if (doc.issuer !== issuer) {
          last = "issuer mismatch: the document says " + JSON.stringify(doc.issuer) + ", expected " + JSON.stringify(issuer) + " (exact match, trailing slash included)";
        } else {
          console.log("OIDC discovery ready at " + url + " (jwks_uri " + doc.jwks_uri + ")");
          return;
        }
      }
    } catch (e) {
      last = (e && e.message) || String(e);
    }
    if (i < attempts) await sleep(intervalMs);
  }
  console.error("OIDC discovery at " + url + " is not ready after " + attempts + " attempts: " + last);
  process.exit(1);
})();
`;

/** Arguments of {@link OidcReadinessGate}. */
export interface OidcReadinessGateArgs {
  /** The expected issuer, e.g. `https://oidc.example.org` (no trailing slash). */
  issuerUrl: string;
  /** PEM of the CA that signs the endpoint's certificate, when it is not publicly trusted. */
  caPem?: string;
  /** How many times to try (default 30). */
  attempts?: number;
  /** Seconds between attempts (default 10). */
  intervalSeconds?: number;
  /** What must exist before polling makes sense (the SPIRE release). */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

/** Creates the gate command; it re-runs whenever the issuer or what it waits on changes. */
export function oidcReadinessGate(
  name: string,
  args: OidcReadinessGateArgs,
  opts: pulumi.CustomResourceOptions,
): command.local.Command {
  const environment: Record<string, string> = {
    GATE_ISSUER: args.issuerUrl,
    GATE_ATTEMPTS: String(args.attempts ?? 30),
    GATE_INTERVAL_MS: String((args.intervalSeconds ?? 10) * 1000),
  };
  if (args.caPem !== undefined) {
    environment.GATE_CA_PEM = args.caPem;
  }
  return new command.local.Command(
    name,
    {
      interpreter: ["node", "-e"],
      create: GATE_SCRIPT,
      environment,
      triggers: [args.issuerUrl],
    },
    { ...opts, dependsOn: args.waitFor },
  );
}
