/**
 * What the curity verify tests share: the stack (Vault's test stack plus Curity, payments-api
 * with auth `both`) pointing at a test file's RESTCONF double, and the entities pulumi up makes
 * for it, made through the package's own provider.
 */
import { curityClientBody } from "../../components/federation/curity/component";
import { curityProvider, type CurityState } from "../../components/federation/curity/provider";
import { CURITY_TEST_PROFILE, type CurityHarness } from "../curity/harness";
import { PAYMENTS_ID, vaultStackConfig } from "./support";

const p = curityProvider as Required<typeof curityProvider>;
/** The issuer the stack names. */
export const ISSUER = "https://oidc.test.example.com";
const TOKEN = "https://login.example.com/oauth/v2/oauth-token";

/** The stack, its admin API the harness's double, logging in with `password`. */
export function curityStack(h: CurityHarness, password: unknown): Record<string, unknown> {
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  return {
    ...base,
    "spire-federation:curity": {
      adminUrl: h.fault.url,
      username: "admin",
      password,
      profile: CURITY_TEST_PROFILE,
      tokenEndpoint: TOKEN,
      discoveryCaPem: h.root,
    },
    "spire-federation:workloads": [
      { ...workloads[0], curity: { scopes: ["reports", "orders:read"], auth: "both" } },
    ],
  };
}

/**
 * Makes what pulumi up makes for payments-api (auth both), through the package's provider. The
 * trust stores hold `rootPem` (default: the harness's root) and the client's assertions name
 * `tokenEndpoint` (default: the stack's).
 */
export async function deployCurity(
  h: CurityHarness,
  { rootPem = h.root, tokenEndpoint = TOKEN }: { rootPem?: string; tokenEndpoint?: string } = {},
): Promise<void> {
  const conn = h.conn;
  const trust = (kind: CurityState["kind"], key: string): CurityState => ({
    kind,
    connection: conn,
    key,
    pem: rootPem,
  });
  await p.create(trust("clientTrustStore", "spiffe-root-ca"));
  await p.create(trust("serverTrustStore", "spiffe-discovery-ca"));
  await p.create({
    kind: "httpClient",
    connection: conn,
    key: "spiffe-jwks",
    body: { id: "spiffe-jwks", tls: { "use-truststore": true } },
  });
  await p.create({
    kind: "client",
    connection: conn,
    profile: CURITY_TEST_PROFILE,
    key: "spiffe-payments-api",
    body: curityClientBody({
      clientId: "spiffe-payments-api",
      workload: "payments-api",
      spiffeId: PAYMENTS_ID,
      scopes: ["reports", "orders:read"],
      auth: "both",
      jwksUri: `${ISSUER}/keys`,
      issuer: ISSUER,
      httpClient: "spiffe-jwks",
      trustedCa: "spiffe-root-ca",
    }),
    assertion: {
      audience: tokenEndpoint,
      tokenUrl: tokenEndpoint,
      issuer: ISSUER,
      algorithm: "RS256",
    },
  });
  await p.create({
    kind: "clientIdMapping",
    connection: conn,
    profile: CURITY_TEST_PROFILE,
    key: PAYMENTS_ID,
    body: { sub: PAYMENTS_ID, "client-id": "spiffe-payments-api" },
  });
}
