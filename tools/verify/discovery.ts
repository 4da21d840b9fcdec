/**
 * `discovery`: the issuer the relying parties fetch, as they fetch it. GET
 * `<issuer>/.well-known/openid-configuration` over TLS trusted by the public roots (plus
 * `--ca-file`): `issuer` exactly the deployed `issuerUrl`, `jwks_uri` https on the same host;
 * then GET `jwks_uri`: signing keys (`use: sig`), each with a unique `kid`, and an algorithm
 * every configured relying party accepts (each party's `jwtAlgorithms()`, as the config rules).
 */
import { JWT_ALGORITHM } from "../../components/config";
import { getJson, isRecord, shown } from "./http";
import { configuredParties } from "./parties";
import type { Check, CheckResult, VerifyContext } from "./types";

/** The issuer URL the stack deployed (its output), or the one its config names. */
export function deployedIssuer(ctx: VerifyContext): string {
  const out = ctx.outputs.issuerUrl;
  return typeof out === "string" && out !== "" ? out : ctx.model.oidc.issuerUrl;
}

/** The JWKS URI the stack deployed (its output), or the one its config names. */
export function deployedJwksUri(ctx: VerifyContext): string {
  const out = ctx.outputs.jwksUri;
  return typeof out === "string" && out !== "" ? out : ctx.model.oidc.jwksUri;
}

/** The JWS algorithm a JWK is for: its `alg`, else what its key type implies. */
export function jwkAlgorithm(key: Record<string, unknown>): string | undefined {
  if (typeof key.alg === "string") return key.alg;
  if (key.kty === "RSA") return "RS256";
  if (key.kty === "EC") {
    return { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[String(key.crv)];
  }
  return undefined;
}

/** What a JWKS fetch found: the keys, when it found any. */
export interface JwksFinding {
  /** The verdicts. */
  results: CheckResult[];
  /** The keys (objects only), when the JWKS was read. */
  keys?: Record<string, unknown>[];
}

const FIX_TLS =
  "serve the discovery endpoint with a publicly trusted certificate (oidc.tls.acme), or pass --ca-file with the private CA that signs it";

/** Fetches and checks the discovery document and the JWKS. */
export async function checkDiscovery(ctx: VerifyContext): Promise<JwksFinding> {
  const issuer = deployedIssuer(ctx);
  const r = (name: string, ok: boolean, reason: string, fix?: string): CheckResult => ({
    check: "discovery",
    party: "core",
    name,
    status: ok ? "PASS" : "FAIL",
    reason,
    ...(ok ? {} : { fix }),
  });
  const docUrl = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  ctx.progress(`discovery: GET ${docUrl}`);
  const doc = await getJson(ctx, docUrl, "discovery document");
  if (!doc.ok || !isRecord(doc.json)) {
    const why = doc.ok ? "the answer is not a JSON object" : doc.why;
    const fix = /TLS/.test(why)
      ? FIX_TLS
      : "check that the SPIRE OIDC discovery provider runs and its ingress routes the issuer host to it";
    return { results: [r("discovery document", false, `${docUrl}: ${why}`, fix)] };
  }
  const results: CheckResult[] = [r("discovery document", true, `${docUrl} answered`)];
  const seenIssuer = doc.json.issuer;
  results.push(
    seenIssuer === issuer
      ? r("issuer", true, `issuer is ${shown(issuer)}`)
      : r(
          "issuer",
          false,
          `the document says issuer ${shown(seenIssuer)}, the stack deployed ${shown(issuer)}; relying parties compare it exactly (trailing slash included)`,
          "set the chart's jwtIssuer to the issuer URL (the stack does: redeploy with pulumi up) and check that no proxy rewrites the Host header",
        ),
  );
  const jwksUri = doc.json.jwks_uri;
  let jwksUrl: URL | undefined;
  try {
    jwksUrl = typeof jwksUri === "string" ? new URL(jwksUri) : undefined;
  } catch {
    jwksUrl = undefined;
  }
  const issuerHost = new URL(issuer).host;
  if (jwksUrl === undefined || jwksUrl.protocol !== "https:" || jwksUrl.host !== issuerHost) {
    results.push(
      r(
        "jwks_uri",
        false,
        `jwks_uri is ${shown(jwksUri)}; it must be an https URL on the issuer's host ${issuerHost}`,
        "set the discovery provider's domains to the issuer host and serve it over https (the stack's oidc.host and oidc.tls)",
      ),
    );
    return { results };
  }
  const expectedJwks = ctx.outputs.jwksUri;
  if (typeof expectedJwks === "string" && expectedJwks !== jwksUri) {
    results.push(
      r(
        "jwks_uri",
        false,
        `jwks_uri is ${shown(jwksUri)}, the stack output jwksUri is ${shown(expectedJwks)}`,
        "redeploy (pulumi up) so that the discovery provider and the outputs agree",
      ),
    );
  } else {
    results.push(r("jwks_uri", true, `jwks_uri is ${shown(jwksUri)}`));
  }
  ctx.progress(`discovery: GET ${jwksUrl.href}`);
  const jwks = await getJson(ctx, jwksUrl.href, "JWKS");
  const keys = jwks.ok && isRecord(jwks.json) ? jwks.json.keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) {
    results.push(
      r(
        "jwks",
        false,
        `${jwksUrl.href}: ${jwks.ok ? "no keys array with keys" : jwks.why}`,
        "check that SPIRE has a JWT key (its bundle) and the discovery provider reaches the server",
      ),
    );
    return { results };
  }
  const objects = keys.filter(isRecord);
  results.push(...jwksKeyResults(ctx, objects));
  return { results, keys: objects };
}

/** The per-key verdicts: use, kid, algorithm against every configured relying party. */
export function jwksKeyResults(
  ctx: VerifyContext,
  keys: readonly Record<string, unknown>[],
): CheckResult[] {
  const results: CheckResult[] = [];
  const fail = (name: string, reason: string, fix: string, party = "core"): void => {
    results.push({ check: "discovery", party, name, status: "FAIL", reason, fix });
  };
  const counts = new Map<string, number>();
  keys.forEach((k, i) => {
    if (typeof k.kid !== "string" || k.kid === "") {
      fail(
        "kid",
        `key #${i + 1} (${shown(k.kty)}) has no kid; relying parties pick the key by the token's kid`,
        "use the SPIRE OIDC discovery provider, which publishes each key with its kid",
      );
    } else counts.set(k.kid, (counts.get(k.kid) ?? 0) + 1);
    if (k.use !== "sig") {
      fail(
        "use",
        `key ${shown(k.kid)} has use ${shown(k.use)}; strict consumers take only keys with use "sig"`,
        "set the discovery provider's config.setKeyUse to true",
      );
    }
  });
  for (const [kid, n] of counts) {
    if (n > 1) {
      fail(
        "kid",
        `kid ${JSON.stringify(kid)} appears ${n} times; a relying party cannot tell the keys apart`,
        "publish each key once (one discovery provider per trust domain behind the issuer host)",
      );
    }
  }
  const parties = configuredParties(ctx.model);
  for (const p of parties) {
    if (p.jwt === undefined) continue;
    for (const k of keys) {
      const alg = jwkAlgorithm(k);
      if (alg !== undefined && p.jwt.algorithms.includes(alg)) continue;
      const allowed = Object.entries(JWT_ALGORITHM)
        .filter(([, a]) => p.jwt?.algorithms.includes(a))
        .map(([t]) => t);
      fail(
        "algorithm",
        `key ${shown(k.kid)} is ${alg ?? "of an unknown algorithm"}; ${p.jwt.reason}`,
        `set spire.caKeyType to ${allowed.join(" or ")} and redeploy (the next CA rotation signs with the new type)`,
        p.key,
      );
    }
  }
  if (results.length === 0) {
    const algs = [...new Set(keys.map(jwkAlgorithm))].join(", ");
    const who = parties.filter((p) => p.jwt).map((p) => p.key);
    results.push({
      check: "discovery",
      party: "core",
      name: "jwks",
      status: "PASS",
      reason: `${keys.length} signing key(s), unique kids, ${algs}${who.length ? ` (accepted by ${who.join(", ")})` : ""}`,
    });
  }
  return results;
}

/** The `discovery` check. */
export const discoveryCheck: Check = {
  name: "discovery",
  applies: () => true,
  run: async (ctx) => (await checkDiscovery(ctx)).results,
};
