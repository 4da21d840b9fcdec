/**
 * `openziti`: OpenZiti's Edge Management API, live and read-only, against the plan, through the
 * package's own OpenZiti client (components/federation/openziti/api.ts: password login, the
 * hardened HTTP client, redaction):
 * - on the X.509 path, the CA named `openziti.caName`: `isVerified` and `isAuthEnabled` (an
 *   unverified or auth-disabled CA authenticates nobody), and its `externalIdClaim`;
 * - on the JWT path, the external JWT signer `<caName>-jwt`: `issuer` exactly the deployed
 *   issuer, `jwksEndpoint` the deployed JWKS URI, `audience`, `enabled`;
 * - each workload's identity: `externalId` exactly its SPIFFE ID (how OpenZiti maps a
 *   certificate's URI SAN or a JWT's `sub` to the identity).
 * - with `--svid-dir`: the workload's own authentication on the Edge Client API
 *   (openziti-exchange.ts), its refusal explained by what the reads above found.
 * Login: `openziti.username` and `OPENZITI_PASSWORD` (else the password in the stack config);
 * `openziti.controllerCaPem` and `--ca-file` add trust.
 */
import { findByName, type ZitiSession } from "../../components/federation/openziti/api";
import { zitiExchanges, type ZitiSeen } from "./openziti-exchange";
import { SPIFFE_EXTERNAL_ID_CLAIM } from "../../components/federation/openziti/component";
import type { OpenZitiBlock } from "../../components/federation/openziti/schema";
import { deployedIssuer, deployedJwksUri } from "./discovery";
import { adminFailure, adminPassword, mismatchResult } from "./fields";
import { shown } from "./http";
import type { Check, CheckResult, VerifyContext } from "./types";

const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";
const base = { check: "openziti", party: "openziti" } as const;

/** Reads the entities and compares them with the plan. */
async function zitiResults(
  ctx: VerifyContext,
  block: OpenZitiBlock,
  seen: ZitiSeen,
): Promise<CheckResult[]> {
  const pw = await adminPassword(ctx, "OPENZITI_PASSWORD", block.password);
  ctx.secrets.push(pw);
  const caPem = [block.controllerCaPem, ctx.caPem].filter(Boolean).join("\n") || undefined;
  const session: ZitiSession = {
    connection: {
      controllerUrl: block.controllerUrl,
      username: block.username,
      password: pw,
      caPem,
      limits: { deadlineMs: ctx.deadlineMs },
    },
  };
  const results: CheckResult[] = [];
  const missing = (what: string, name: string): CheckResult => ({
    ...base,
    name: what,
    status: "FAIL",
    reason: `no ${what} named ${shown(name)} on the controller`,
    fix: `it is missing: ${FIX_DRIFT}`,
  });
  if (block.x509) {
    ctx.progress(`openziti: GET ${block.controllerUrl} /cas ${block.caName}`);
    const ca = await findByName(session, "ca", block.caName);
    seen.ca = ca;
    if (ca === undefined) results.push(missing("CA", block.caName));
    else {
      results.push(
        ca.isVerified === true
          ? { ...base, name: "CA.isVerified", status: "PASS", reason: "the CA is verified" }
          : {
              ...base,
              name: "CA.isVerified",
              status: "FAIL",
              reason: `CA ${block.caName} is not verified: OpenZiti authenticates no certificate it signs`,
              fix: "pulumi up verifies it (POST /cas/{id}/verify with a certificate whose CN is the CA's verificationToken, signed by the CA); with ca.mode clusterIssuer set openziti.verificationCertPem",
            },
      );
      results.push(
        mismatchResult("openziti", "CA.isAuthEnabled", true, ca.isAuthEnabled, FIX_DRIFT),
      );
      results.push(
        mismatchResult(
          "openziti",
          "CA.externalIdClaim",
          SPIFFE_EXTERNAL_ID_CLAIM,
          ca.externalIdClaim,
          FIX_DRIFT,
        ),
      );
    }
  }
  if (block.jwt) {
    const name = `${block.caName}-jwt`;
    ctx.progress(`openziti: GET ${block.controllerUrl} /external-jwt-signers ${name}`);
    const s = await findByName(session, "extJwtSigner", name);
    seen.signer = s;
    if (s === undefined) results.push(missing("external JWT signer", name));
    else {
      const field = (f: string, expected: unknown) =>
        results.push(mismatchResult("openziti", `signer.${f}`, expected, s[f], FIX_DRIFT));
      field("issuer", deployedIssuer(ctx));
      field("jwksEndpoint", deployedJwksUri(ctx));
      field("audience", block.audience);
      field("enabled", true);
    }
  }
  for (const w of ctx.model.workloads) {
    if (!w.openziti) continue;
    ctx.progress(`openziti: GET ${block.controllerUrl} /identities ${w.name}`);
    const identity = await findByName(session, "identity", w.name);
    seen.identities[w.name] = identity;
    if (identity === undefined) {
      results.push({ ...missing("identity", w.name), workload: w.name });
      continue;
    }
    results.push({
      ...mismatchResult(
        "openziti",
        "identity.externalId",
        w.spiffeId,
        identity.externalId,
        FIX_DRIFT,
      ),
      workload: w.name,
    });
  }
  return results;
}

/** The `openziti` check. */
export const openzitiCheck: Check = {
  name: "openziti",
  applies: (ctx) => ctx.model.openziti !== undefined,
  run: async (ctx) => {
    const block = ctx.model.openziti;
    if (block === undefined) return [];
    const seen: ZitiSeen = { read: false, identities: {} };
    let live: CheckResult[];
    try {
      live = await zitiResults(ctx, block, seen);
      seen.read = true;
    } catch (e) {
      live = adminFailure("openziti", "controller", e, {
        refused: /INVALID_AUTH|401/,
        authFix:
          "the admin login failed (INVALID_AUTH): check openziti.username and OPENZITI_PASSWORD",
        reachFix:
          "check that the controller answers at openziti.controllerUrl and its CA is trusted (openziti.controllerCaPem or --ca-file)",
      });
    }
    return [...live, ...(await zitiExchanges(ctx, block, seen))];
  },
};
