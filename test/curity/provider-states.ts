/**
 * What the Curity provider test files share beside the harness (test/curity/harness.ts): the
 * profile and trust domain they use, and the provider states they send (trust store entries,
 * clients as the component builds them, client-id mappings), read from the harness at call time.
 */
import { createHash } from "node:crypto";
import { curityPaths } from "../../components/federation/curity/api";
import { curityClientBody } from "../../components/federation/curity/component";
import type { CurityState } from "../../components/federation/curity/provider";
import { CURITY_TEST_PASSWORD, CURITY_TEST_PROFILE, type CurityHarness } from "./harness";

/** The admin password the double accepts. */
export const PASSWORD = CURITY_TEST_PASSWORD;
/** HTTP Basic credentials of the admin user. */
export const BASIC = Buffer.from(`admin:${PASSWORD}`).toString("base64");
/** The token profile every test starts with. */
export const PROFILE = CURITY_TEST_PROFILE;
/** The trust domain of the clients' SPIFFE IDs. */
export const TD = "spiffe://prod.example.com";
/** Hex SHA-256 of a text. */
export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
/** The RESTCONF path of a client of the profile. */
export const CLIENT_PATH = (id: string) => curityPaths.client(PROFILE, id);

/** The profile's authorization-server settings path (where the algorithms live). */
export function PROFILE_AS(): string {
  return `base:profiles/profile=${PROFILE},oauth-service/settings/profile-oauth:authorization-server`;
}

/** The provider states of a harness's connection, and what its server stores. */
export function curityStates(h: CurityHarness) {
  const trust = (
    key: string,
    pem: string,
    kind: CurityState["kind"] = "clientTrustStore",
  ): CurityState => ({
    kind,
    connection: h.conn,
    key,
    pem,
  });

  function clientState(
    workload: string,
    auth: "jwt" | "x509" | "both",
    extra: Partial<Parameters<typeof curityClientBody>[0]> = {},
  ): CurityState {
    const clientId = `spiffe-${workload}`;
    const body = curityClientBody({
      clientId,
      workload,
      spiffeId: `${TD}/ns/apps/sa/${workload}`,
      scopes: ["reports", "orders:read"],
      auth,
      jwksUri: "https://oidc.prod.example.com/keys",
      issuer: "https://oidc.prod.example.com",
      trustedCa: auth === "jwt" ? undefined : "spiffe-root-ca",
      ...extra,
    });
    return {
      kind: "client",
      connection: h.conn,
      profile: PROFILE,
      key: clientId,
      body,
      assertion:
        auth === "x509"
          ? undefined
          : {
              audience: "https://login.example.com/oauth/v2/oauth-token",
              tokenUrl: "https://login.example.com/oauth/v2/oauth-token",
              issuer: "https://oidc.prod.example.com",
              algorithm: "ES256",
            },
    };
  }

  const mapping = (workload: string): CurityState => ({
    kind: "clientIdMapping",
    connection: h.conn,
    profile: PROFILE,
    key: `${TD}/ns/apps/sa/${workload}`,
    body: { sub: `${TD}/ns/apps/sa/${workload}`, "client-id": `spiffe-${workload}` },
  });

  const storedClient = (id: string) => h.server.store.profiles.get(PROFILE)!.clients.get(id);
  return { trust, clientState, mapping, storedClient };
}
