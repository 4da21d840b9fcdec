/** What OpenZiti accepts, written once: used by the config schema (and open to the component). */
import { adminOriginProblem, type AdminApi } from "../admin-connection";

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
