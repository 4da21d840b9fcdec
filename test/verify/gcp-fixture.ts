/**
 * What the gcp verify tests share: the stack (Vault's test stack plus Google, payments-api granted
 * a role), the outputs of its deploy, the pool, providers and IAM policy the deploy leaves, and the
 * double (test/verify/gcp-server.ts) with a real HTTPS issuer, started and reset by `useGcp`.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import {
  oidcCredentialConfig,
  oidcProviderAttributes,
  poolPrincipal,
  providerAudience,
  x509ProviderAttributes,
} from "../../components/federation/gcp/component";
import type { IamPolicies } from "./gcp-crm-server";
import { startGcp, type GcpDouble, type GcpState } from "./gcp-server";
import {
  makeKey,
  PAYMENTS_ID,
  runVerify,
  startIssuer,
  svidFiles,
  vaultOutputs,
  vaultStackConfig,
  writeStack,
  type Issuer,
  type Run,
  type SigningKey,
} from "./support";

/** The operator's bearer. */
export const GCP_TOKEN = "ya29.operator-token-1e9f";
/** The project number. */
export const NUMBER = "482915736204";
/** The pool's resource name. */
export const POOL = `projects/acme-platform/locations/global/workloadIdentityPools/spiffe-test`;
/** The OIDC provider's audience. */
export const AUDIENCE = providerAudience(NUMBER, "spiffe-test", "spire-oidc");
/** payments-api's principal. */
export const PRINCIPAL = poolPrincipal(NUMBER, "spiffe-test", PAYMENTS_ID);

/** The stack, payments-api granted `roles` (default: objectViewer on the pool's project). */
export function gcpStack(
  roles: { role: string; project?: string }[] = [{ role: "roles/storage.objectViewer" }],
): Record<string, unknown> {
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  return {
    ...base,
    "spire-federation:gcp": {
      project: "acme-platform",
      projectNumber: NUMBER,
      poolId: "spiffe-test",
      oidcProviderId: "spire-oidc",
      x509ProviderId: "spire-x509",
    },
    "spire-federation:workloads": [{ ...workloads[0], gcp: { roles } }],
  };
}

/** The outputs of the stack's deploy, the issuer at `issuerUrl`. */
export function gcpOutputs(issuerUrl: string): Record<string, unknown> {
  const o = vaultOutputs(issuerUrl);
  const fed = o.federation as Record<string, Record<string, unknown>>;
  fed["payments-api"].gcp = {
    principal: PRINCIPAL,
    audiences: { oidc: AUDIENCE },
    credentialConfigs: { oidc: JSON.stringify(oidcCredentialConfig(AUDIENCE)) },
  };
  return o;
}

/** The pool and providers as IAM holds them after the deploy. */
export function gcpDeployed(issuerUrl: string): Record<string, Record<string, unknown>> {
  return {
    [POOL]: {
      name: POOL,
      displayName: "SPIFFE test.example.com",
      state: "ACTIVE",
      disabled: false,
    },
    [`${POOL}/providers/spire-oidc`]: {
      name: `${POOL}/providers/spire-oidc`,
      state: "ACTIVE",
      disabled: false,
      ...oidcProviderAttributes("test.example.com"),
      oidc: { issuerUri: issuerUrl, allowedAudiences: [AUDIENCE] },
    },
    [`${POOL}/providers/spire-x509`]: {
      name: `${POOL}/providers/spire-x509`,
      state: "ACTIVE",
      disabled: false,
      ...x509ProviderAttributes("test.example.com"),
      x509: { trustStore: { trustAnchors: [{ pemCertificate: "..." }] } },
    },
  };
}

/** The project's IAM policy after the deploy: the grant beside an owner's binding. */
export function gcpPolicies(): IamPolicies {
  return {
    "acme-platform": {
      bindings: [
        { role: "roles/owner", members: ["user:ops@example.com"] },
        { role: "roles/storage.objectViewer", members: ["group:readers@example.com", PRINCIPAL] },
      ],
    },
  };
}

/** A folder with `gcp-jwt-svid.token` holding `token`. */
export const gcpSvidDir = (token: string): string => svidFiles({ "gcp-jwt-svid.token": token });

/** The running double and issuer of a test file. */
export interface GcpFixture {
  issuer: Issuer;
  gcp: GcpDouble;
  state: GcpState;
  key: SigningKey;
  /** The stack folder (`gcpStack()`). */
  dir: string;
  /** Runs `verify --checks gcp` with the double's endpoints and the operator's token. */
  run(o?: {
    extra?: string[];
    env?: Record<string, string>;
    dir?: string;
    deadlineMs?: number;
  }): Promise<Run>;
}

/** Registers the hooks that start, reset (to the deployed state) and stop the double. */
export function useGcp(): GcpFixture {
  const f = { key: makeKey("k1") } as GcpFixture;
  f.run = (o = {}) =>
    runVerify(
      o.dir ?? f.dir,
      "t",
      gcpOutputs(f.issuer.url),
      ["--checks", "gcp", ...(o.extra ?? [])],
      {
        caPem: f.issuer.caPem,
        deadlineMs: o.deadlineMs,
        env: {
          GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN,
          GOOGLE_IAM_URL: f.gcp.server.url,
          GOOGLE_CRM_URL: f.gcp.server.url,
          GOOGLE_STS_TOKEN_URL: `${f.gcp.server.url}/v1/token`,
          ...o.env,
        },
      },
    );
  beforeAll(async () => {
    f.issuer = await startIssuer({ keys: [f.key.jwk] });
    f.state = { token: GCP_TOKEN, resources: {} };
    f.gcp = await startGcp(f.state, f.issuer.tls);
    f.dir = writeStack("t", gcpStack());
  });
  afterAll(async () => {
    await f.gcp.server.close();
    await f.issuer.close();
  });
  beforeEach(() => {
    f.state.resources = gcpDeployed(f.issuer.url);
    f.state.policies = gcpPolicies();
    f.gcp.violations.length = 0;
    f.gcp.stsForms.length = 0;
    f.gcp.server.reset();
  });
  return f;
}
