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

/** A workload with `party`'s grant and its deployed login. */
export interface GrantedWorkload {
  /** The workload whose SPIFFE ID the SVID carries. */
  workload: { name: string; spiffeId: string };
  /** Its login in the outputs (`federation.<workload>.<party>`). */
  login: Record<string, unknown>;
}

/**
 * The workload with `party`'s grant whose SPIFFE ID is `id` (the JWT-SVID's `sub`, the X509-SVID's
 * URI SAN, named by `what`) and its login, or the FAIL that stops the exchange.
 */
export function grantedWorkload(
  ctx: VerifyContext,
  o: { party: string; name: string },
  id: unknown,
  what = "the token's sub",
): GrantedWorkload | CheckResult[] {
  const r = { check: o.party, party: o.party, name: o.name };
  const w = ctx.model.workloads.find(
    (x) => (x as unknown as Record<string, unknown>)[o.party] && x.spiffeId === id,
  );
  if (w === undefined) {
    return [
      {
        ...r,
        status: "FAIL",
        reason: `${what} ${shown(id)} is no workload with a ${o.party} grant`,
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
  return { workload: w, login };
}

/**
 * The subject of `party`'s token exchange, or the verdicts that stop it: no SVID file (nothing),
 * a `sub` that is no workload with this party's grant, no login in the outputs, the SDK missing
 * (when the workload uses one: `sdk`).
 */
export async function exchangeSubject<T>(
  ctx: VerifyContext,
  o: { party: string; name: string; file: string; sdk?: string },
): Promise<ExchangeSubject<T> | CheckResult[]> {
  const token = readTokens(ctx).get(o.file);
  if (token === undefined) return [];
  const claims = jwtClaims(token);
  const granted = grantedWorkload(ctx, o, claims.sub);
  if (Array.isArray(granted)) return granted;
  const { workload: w, login } = granted;
  if (o.sdk === undefined) return { token, claims, workload: w, login, lib: undefined as T };
  const lib = await optionalSdk<T>(o.sdk);
  if (lib === undefined) {
    return [
      {
        check: o.party,
        party: o.party,
        name: o.name,
        workload: w.name,
        status: "SKIP",
        reason: `${o.sdk} is not installed`,
        fix: `npm install ${o.sdk} (the SDK the workload uses)`,
      },
    ];
  }
  return { token, claims, workload: w, login, lib };
}
