/** The team stack's raw config and its platform's outputs, as the team tests start from them. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT } from "../helpers";

/** Where the plan finds prod's outputs for `acme/spire-federation/prod` (the convention). */
export const PROD_OUTPUTS_FILE = path.join(
  ROOT,
  "stacks",
  "outputs",
  "acme",
  "spire-federation",
  "prod.json",
);

/** prod's outputs, as the fixture holds them (a test holds them equal to prod's plan). */
export function prodOutputs(): Record<string, unknown> {
  return JSON.parse(readFileSync(PROD_OUTPUTS_FILE, "utf8")) as Record<string, unknown>;
}

/** A valid team stack config for team-payments (keys without the namespace). */
export function teamRaw(): Record<string, unknown> {
  return {
    platform: "acme/spire-federation/prod",
    vault: { policies: { "checkout-read": 'path "secret/data/x" { capabilities = ["read"] }' } },
    workloads: [
      {
        name: "checkout-api",
        namespace: "payments-checkout",
        serviceAccount: "checkout-api",
        vault: { policies: ["checkout-read"] },
      },
      {
        name: "refunds-worker",
        namespace: "payments-refunds",
        serviceAccount: "default",
        spiffeIdPath: "/teams/payments/refunds-worker",
        podLabels: { "app.kubernetes.io/name": "refunds-worker" },
      },
    ],
  };
}
