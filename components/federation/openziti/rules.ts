/** What OpenZiti accepts, written once: used by the config schema (and open to the component). */
import { adminOriginProblem, type AdminApi } from "../admin-connection";
import type { JwksCaching } from "../rotation";

/** OpenZiti's admin connection: the Edge Management API below the controller's origin. */
export const OPENZITI_ADMIN_API = {
  key: "openziti",
  apiPath: "/edge/management/v1",
  exposure: "; the URL appears in plain outputs",
  urlKey: "controllerUrl",
  caKey: "controllerCaPem",
} as const satisfies AdminApi & { urlKey: string; caKey: string };

/**
 * Why a controller URL is unusable, or `undefined`. It is the base the package appends the Edge
 * Management API's paths to, and it appears in plain outputs (each workload's identity file), so
 * it carries no credentials, path, query or fragment.
 */
export function controllerUrlProblem(value: string): string | undefined {
  return adminOriginProblem(OPENZITI_ADMIN_API, value);
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
