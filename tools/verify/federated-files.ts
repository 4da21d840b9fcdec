/**
 * What a workload holds of a peer trust domain, read from the files spiffe-helper writes
 * (`--svid-dir`), against the bundle the peer's endpoint serves now:
 * - `jwt_bundle.json` (`jwt_bundle_file_name`): spiffe-helper writes every JWT bundle the Workload
 *   API hands the workload, keyed by trust domain name, each a base64 JWKS
 *   (spiffe/spiffe-helper `pkg/disk/json.go` `WriteJWTBundleSet`); SPIRE's agent includes the
 *   federated trust domains' bundles for a workload whose entry federates with them
 *   (spiffe/spire v1.15.2 `pkg/agent/endpoints/workload/handler.go` `composeJWTBundlesResponse`).
 *   The peer's JWT keys there must be the ones its endpoint serves;
 * - `svid_bundle.pem` (`svid_bundle_file_name`): only with `include_federated_domains = true` does
 *   spiffe-helper append the federated X.509 authorities (`pkg/disk/x509.go`
 *   `WriteX509Context`); this package's helper.conf does not set it, so its absence is a SKIP;
 * - `svid.pem`: its SPIFFE ID names the workload; one without the peer in `federatesWith` is
 *   handed no bundle of it (a SKIP, not a failure).
 * Whether the PEER holds THIS trust domain's bundle is the same check run on the peer's stack with
 * a peer workload's files; from here, SPIRE's side is `spire-server bundle list` on the peer.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  JWT_BUNDLE_FILE,
  SVID_BUNDLE_FILE,
  SVID_CERT_FILE,
} from "../../components/federation/paths";
import type { Endpoint } from "./federation";
import { isRecord } from "./http";
import type { ServedBundle } from "./spiffe-bundle";
import { shareOne } from "./spiffe-bundle";
import { pemCertificates, uriSans } from "./tls-probe";
import type { CheckResult, VerifyContext } from "./types";

function read(dir: string, file: string): string | undefined {
  try {
    return readFileSync(path.join(dir, file), "utf8");
  } catch {
    return undefined;
  }
}

/** The JWT kids per trust domain in `jwt_bundle.json`, or why it cannot be read. */
function heldJwtKids(text: string): Map<string, string[]> | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return `${JWT_BUNDLE_FILE} is not JSON`;
  }
  if (!isRecord(doc)) return `${JWT_BUNDLE_FILE} is not a JSON object of trust domains`;
  const held = new Map<string, string[]>();
  for (const [td, b64] of Object.entries(doc)) {
    try {
      const jwks = JSON.parse(Buffer.from(String(b64), "base64").toString("utf8")) as unknown;
      const keys = isRecord(jwks) && Array.isArray(jwks.keys) ? jwks.keys.filter(isRecord) : [];
      held.set(
        td,
        keys.map((k) => String(k.kid)),
      );
    } catch {
      return `${JWT_BUNDLE_FILE}: the bundle of ${td} is not base64 JSON`;
    }
  }
  return held;
}

/** The verdicts on what the workload in `--svid-dir` holds of the peer `ep`. */
export function federatedFileResults(
  ctx: VerifyContext,
  ep: Endpoint,
  served: ServedBundle,
): CheckResult[] {
  const dir = ctx.svidDir;
  if (dir === undefined) return [];
  const td = ep.trustDomain;
  const base = { check: "federation", party: "federation" } as const;
  const leaf = pemCertificates(read(dir, SVID_CERT_FILE) ?? "")[0];
  const id = leaf === undefined ? undefined : uriSans(leaf)[0];
  const w = ctx.model.workloads.find((x) => x.spiffeId === id);
  const who = w === undefined ? "the workload" : `workload ${w.name}`;
  const federates = w !== undefined && w.mode === "pod" && (w.federatesWith ?? []).includes(td);
  if (w !== undefined && !federates) {
    return [
      {
        ...base,
        workload: w.name,
        name: `${td} held`,
        status: "SKIP",
        reason: `${who} does not federate with ${td} (workloads[].federatesWith), so SPIRE hands it no bundle of ${td}`,
        fix: `point --svid-dir at the files of a workload that federates with ${td}`,
      },
    ];
  }
  const r = (o: Omit<CheckResult, "check" | "party">): CheckResult => ({
    ...base,
    ...(w ? { workload: w.name } : {}),
    ...o,
  });
  const results: CheckResult[] = [];
  const text = read(dir, JWT_BUNDLE_FILE);
  const held = text === undefined ? `no ${JWT_BUNDLE_FILE} in ${dir}` : heldJwtKids(text);
  if (typeof held === "string") {
    results.push(
      r({
        name: `${td} JWT bundle held`,
        status: "SKIP",
        reason: held,
        fix: "point --svid-dir at the folder spiffe-helper writes (jwt_bundle_file_name)",
      }),
    );
  } else {
    const kids = held.get(td);
    const missing = kids === undefined ? [] : served.jwtKids.filter((k) => !kids.includes(k));
    results.push(
      kids === undefined
        ? r({
            name: `${td} JWT bundle held`,
            status: "FAIL",
            reason: `${who} holds no bundle of ${td} (${JWT_BUNDLE_FILE} has ${[...held.keys()].join(", ") || "none"})`,
            fix: `SPIRE has not fetched ${td}'s bundle (spire-server bundle list -id spiffe://${td}; its logs name the fetch error), or the workload's entry does not federate with it`,
          })
        : missing.length > 0
          ? r({
              name: `${td} JWT bundle held`,
              status: "FAIL",
              reason: `${who} holds an older bundle of ${td}: the endpoint serves JWT keys ${missing.join(", ")} that it lacks`,
              fix: `SPIRE refreshes ${td}'s bundle every ${served.refreshHint ?? "?"} s: if this lasts longer, its refresh fails (spire-server logs on this side)`,
            })
          : r({
              name: `${td} JWT bundle held`,
              status: "PASS",
              reason: `${who} holds ${td}'s current JWT keys (${kids.length})`,
            }),
    );
  }
  const pem = pemCertificates(read(dir, SVID_BUNDLE_FILE) ?? "");
  results.push(
    shareOne(pem, served.x509)
      ? r({
          name: `${td} X.509 bundle held`,
          status: "PASS",
          reason: `${SVID_BUNDLE_FILE} holds an X.509 authority ${td} serves`,
        })
      : r({
          name: `${td} X.509 bundle held`,
          status: "SKIP",
          reason: `${SVID_BUNDLE_FILE} holds none of ${td}'s X.509 authorities: spiffe-helper writes them there only with include_federated_domains = true (this package's helper.conf does not set it)`,
          fix: `the JWT bundle line above is the evidence; workloads that verify ${td}'s X509-SVIDs take its bundle from the Workload API`,
        }),
  );
  return results;
}
