/** The Curity config the tests start from: a stack config with a `curity` block, and its problems. */
import { baseConfig } from "../fixtures";
import { problemsOf } from "../support/config-problems";

/** The token endpoint of the example config (also the audience by default). */
export const TOKEN = "https://login.example.com/oauth/v2/oauth-token";
/** The token endpoint as workloads in the mesh reach it. */
export const MESH =
  "http://curity-idsvr-runtime-svc.curity.svc.cluster.local:8443/oauth/v2/oauth-token";

/** The base config with a curity block and workloads[0] granted the `reports` scope. */
export function ccfg(): Record<string, any> {
  const c: Record<string, any> = baseConfig();
  c.curity = {
    adminUrl: "https://curity-admin.example.com:6749",
    username: "admin",
    password: "admin-pw-123",
    profile: "token-service",
    tokenEndpoint: TOKEN,
  };
  c.workloads[0].curity = { scopes: ["reports"] };
  return c;
}

/** The config problems of `c`, the curity block secret unless `secret` is false. */
export function problems(c: Record<string, unknown>, secret = true): string[] {
  return problemsOf(c, secret ? ["curity"] : []);
}
