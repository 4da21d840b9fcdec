/**
 * The admin connection of a relying party that the package configures through its admin API
 * (OpenZiti's Edge Management API, Curity's RESTCONF): the API's origin, an admin user, its
 * password (a secure value) and, when the API's certificate is not publicly trusted, a CA
 * bundle. One schema for every such party; each keeps its own key names for the URL and the CA
 * (`openziti.controllerUrl`/`controllerCaPem`, `curity.adminUrl`/`adminCaPem`).
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { pemBundle, ruled, secureString } from "../config-fields";

/** How a party's admin API is reached and why its URL must be a bare origin. */
export interface AdminApi {
  /** The party's config key, e.g. `openziti`: messages name `<key>.username`. */
  key: string;
  /** The path the package appends to the origin, e.g. `/edge/management/v1`. */
  apiPath: string;
  /** Why the URL must carry no credentials besides their being secret, e.g. "; the URL appears in plain outputs". */
  exposure?: string;
}

/**
 * Why an admin API URL is unusable, or `undefined`: an https origin (the package appends the
 * API's path), without user info, path, query or fragment.
 */
export function adminOriginProblem(api: AdminApi, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an https:// URL";
  }
  if (url.protocol !== "https:") return "must be an https:// URL";
  if (url.username !== "" || url.password !== "") {
    return `must not carry user info (user:password@)${api.exposure ?? ""}: set ${api.key}.username and ${api.key}.password`;
  }
  if (url.pathname !== "/" && url.pathname !== "") {
    return `must not have a path (${url.pathname}); the package adds ${api.apiPath} itself: use ${url.origin}`;
  }
  if (url.search !== "" || value.includes("?")) return `must not have a query: use ${url.origin}`;
  if (url.hash !== "" || value.includes("#")) return `must not have a fragment: use ${url.origin}`;
  return undefined;
}

/** The admin login of a parsed block (its URL and CA keep the party's own names). */
export interface AdminLogin {
  /** Admin user. */
  username: string;
  /** Its password: a Pulumi secret. */
  password: pulumi.Output<string>;
}

/** The zod fields of an admin connection, under the party's key names for the URL and the CA. */
export type AdminConnectionFields<U extends string, C extends string> = {
  [K in U]: z.ZodType<string>;
} & {
  [K in C]: z.ZodOptional<typeof pemBundle>;
} & {
  /** Admin user. */
  username: z.ZodString;
  /** Its password: a secure value (the core checks its secrecy per value). */
  password: typeof secureString;
};

/**
 * The admin connection's fields, to spread into a party's block schema: `<url>` (checked by
 * {@link adminOriginProblem}), `username`, `password` (secure), `<caPem>` (optional PEM bundle).
 */
export function adminConnectionFields<const U extends string, const C extends string>(
  api: AdminApi & { urlKey: U; caKey: C },
): AdminConnectionFields<U, C> {
  return {
    [api.urlKey]: ruled((s) => adminOriginProblem(api, s)),
    username: z.string().min(1, { error: "must not be empty" }),
    password: secureString,
    [api.caKey]: pemBundle.optional(),
  } as AdminConnectionFields<U, C>;
}
