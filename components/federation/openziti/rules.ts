/** What OpenZiti accepts, written once: used by the config schema (and open to the component). */
import type { JwksCaching } from "../rotation";

/**
 * Why a controller URL is unusable, or `undefined`. It is the base the package appends the Edge
 * Management API's paths to, and it appears in plain outputs (each workload's identity file), so
 * it carries no credentials, path, query or fragment.
 */
export function controllerUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an https:// URL";
  }
  if (url.protocol !== "https:") return "must be an https:// URL";
  if (url.username !== "" || url.password !== "") {
    return "must not carry user info (user:password@); the URL appears in plain outputs: set openziti.username and openziti.password";
  }
  if (url.pathname !== "/" && url.pathname !== "") {
    return `must not have a path (${url.pathname}); the package adds /edge/management/v1 itself: use ${url.origin}`;
  }
  if (url.search !== "" || value.includes("?")) {
    return `must not have a query: use ${url.origin}`;
  }
  if (url.hash !== "" || value.includes("#")) {
    return `must not have a fragment: use ${url.origin}`;
  }
  return undefined;
}

/**
 * How the OpenZiti controller keeps an external JWT signer's JWKS: when a token's `kid` is not
 * among the signer's keys it resolves the JWKS again, then looks once more (openziti/ziti
 * controller/model/token_provider_cache.go @804f55a, `Resolve(true)` on a missing kid).
 */
export const OPENZITI_JWKS_CACHING: JwksCaching = {
  refreshOnUnknownKid: true,
  source:
    "openziti/ziti controller/model/token_provider_cache.go @804f55a (re-resolves on an unknown kid)",
};
