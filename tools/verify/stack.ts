/**
 * `stack`: the deployed outputs against the stack config as the plan reads it. A difference
 * means the stack file changed and was not deployed yet (or the outputs are of another stack):
 * every other check would compare against the wrong expectation.
 */
import { relyingParties } from "../../components/federation/registry";
import { isRecord, shown } from "./http";
import type { Check, CheckResult, VerifyContext } from "./types";

const FIX = "run pulumi up for this stack (or pass the outputs of the stack the config belongs to)";

/** The verdicts of the `stack` check. */
export function stackResults(ctx: VerifyContext): CheckResult[] {
  const { model, outputs } = ctx;
  const results: CheckResult[] = [];
  const compare = (name: string, actual: unknown, expected: unknown, workload?: string): void => {
    const same = JSON.stringify(actual) === JSON.stringify(expected);
    results.push({
      check: "stack",
      party: "core",
      ...(workload ? { workload } : {}),
      name,
      status: same ? "PASS" : "FAIL",
      reason: same
        ? `${name} is ${shown(expected)} in both`
        : `the outputs say ${shown(actual)}, the stack config says ${shown(expected)}`,
      ...(same ? {} : { fix: actual === undefined ? `the outputs lack ${name}: ${FIX}` : FIX }),
    });
  };
  compare("trustDomain", outputs.trustDomain, model.trustDomain);
  compare("issuerUrl", outputs.issuerUrl, model.oidc.issuerUrl);
  compare("jwksUri", outputs.jwksUri, model.oidc.jwksUri);
  const deployed = isRecord(outputs.workloads) ? outputs.workloads : {};
  const federation = isRecord(outputs.federation) ? outputs.federation : {};
  const configured = new Set(model.workloads.map((w) => w.name));
  for (const w of model.workloads) {
    compare("spiffeId", deployed[w.name], w.spiffeId, w.name);
    const entry = federation[w.name];
    const logins: Record<string, unknown> = isRecord(entry) ? entry : {};
    const expectedParties = relyingParties
      .map((p) => p.key)
      .filter((k) => (w as unknown as Record<string, unknown>)[k] !== undefined);
    const deployedParties = relyingParties.map((p) => p.key).filter((k) => k in logins);
    compare("relying parties", deployedParties, expectedParties, w.name);
  }
  for (const name of Object.keys(deployed)) {
    if (!configured.has(name)) {
      results.push({
        check: "stack",
        party: "core",
        workload: name,
        name: "spiffeId",
        status: "FAIL",
        reason: `the outputs have workload ${name}, the stack config does not`,
        fix: FIX,
      });
    }
  }
  return results;
}

/** The `stack` check. */
export const stackCheck: Check = {
  name: "stack",
  applies: () => true,
  run: (ctx) => Promise.resolve(stackResults(ctx)),
};
