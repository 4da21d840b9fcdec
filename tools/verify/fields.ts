/** Field-by-field comparison and token reading shared by the relying parties' live checks. */
import * as pulumi from "@pulumi/pulumi";
import { isRecord, shown } from "./http";
import { readTokens } from "./rotation";
import { optionalSdk } from "./sdk-transport";
import type { CheckResult, VerifyContext } from "./types";

/**
 * An admin API's password: the environment variable `envName`, else the stack config's (a plain
 * value; a secure one reads as the offline placeholder, which the caller treats as absent).
 */
export async function adminPassword(
  ctx: VerifyContext,
  envName: string,
  fromConfig: pulumi.Input<string>,
): Promise<string> {
  const fromEnv = ctx.env[envName];
  if (fromEnv) return fromEnv;
  return new Promise<string>((resolve) => pulumi.output(fromConfig).apply((v) => resolve(v)));
}

/**
 * The FAIL of an admin API that could not be read (`e`, already redacted by the party's client):
 * `authFix` when the message says the login was refused (`refused`), else `reachFix`.
 */
export function adminFailure(
  party: string,
  name: string,
  e: unknown,
  o: { refused: RegExp; authFix: string; reachFix: string },
): CheckResult[] {
  const message = e instanceof Error ? e.message : String(e);
  const fix = o.refused.test(message) ? o.authFix : o.reachFix;
  return [{ check: party, party, name, status: "FAIL", reason: message, fix }];
}

/** PASS when `actual` equals `expected` (as JSON), else FAIL naming field, both values and fix. */
export function mismatchResult(
  party: string,
  field: string,
  expected: unknown,
  actual: unknown,
  fix: string,
): CheckResult {
  const same = JSON.stringify(expected) === JSON.stringify(actual);
  return {
    check: party,
    party,
    name: field,
    status: same ? "PASS" : "FAIL",
    reason: same
      ? `${field} is ${shown(expected)}`
      : `${field}: expected ${shown(expected)}, found ${shown(actual)}`,
    ...(same ? {} : { fix }),
  };
}

/** The claims of a compact JWT (unverified: for messages only), or `{}`. */
export function jwtClaims(token: string): Record<string, unknown> {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    ) as unknown;
    return typeof payload === "object" && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** What a token exchange starts from: the workload's SVID, its deployed login, the SDK. */
export interface ExchangeSubject<T> {
  /** The JWT-SVID from `--svid-dir`. */
  token: string;
  /** Its claims (unverified). */
  claims: Record<string, unknown>;
  /** The workload whose SPIFFE ID is the token's `sub`. */
  workload: { name: string; spiffeId: string };
  /** Its login in the outputs (`federation.<workload>.<party>`). */
  login: Record<string, unknown>;
  /** The relying party's SDK. */
  lib: T;
}

/**
 * The subject of `party`'s token exchange, or the verdicts that stop it: no SVID file (nothing),
 * a `sub` that is no workload with this party's grant, no login in the outputs, the SDK missing.
 */
export async function exchangeSubject<T>(
  ctx: VerifyContext,
  o: { party: string; name: string; file: string; sdk: string },
): Promise<ExchangeSubject<T> | CheckResult[]> {
  const token = readTokens(ctx).get(o.file);
  if (token === undefined) return [];
  const claims = jwtClaims(token);
  const r = { check: o.party, party: o.party, name: o.name };
  const w = ctx.model.workloads.find(
    (x) => (x as unknown as Record<string, unknown>)[o.party] && x.spiffeId === claims.sub,
  );
  if (w === undefined) {
    return [
      {
        ...r,
        status: "FAIL",
        reason: `the token's sub ${shown(claims.sub)} is no workload with a ${o.party} grant`,
        fix: `point --svid-dir at the files of a workload with a ${o.party} grant`,
      },
    ];
  }
  const fed = isRecord(ctx.outputs.federation) ? ctx.outputs.federation[w.name] : undefined;
  const login = isRecord(fed) ? fed[o.party] : undefined;
  if (!isRecord(login)) {
    return [
      {
        ...r,
        workload: w.name,
        status: "FAIL",
        reason: `the outputs lack federation.${w.name}.${o.party}`,
        fix: "pass the outputs of the deployed stack (pulumi stack output --json --show-secrets)",
      },
    ];
  }
  const lib = await optionalSdk<T>(o.sdk);
  if (lib === undefined) {
    return [
      {
        ...r,
        workload: w.name,
        status: "SKIP",
        reason: `${o.sdk} is not installed`,
        fix: `npm install ${o.sdk} (the SDK the workload uses)`,
      },
    ];
  }
  return { token, claims, workload: w, login, lib };
}
