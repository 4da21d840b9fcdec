/**
 * What the azure verify tests share: the stack (Vault's test stack plus Azure, payments-api
 * granted in both), the outputs of its deploy, the federated credential it plans, and the ARM and
 * Entra double (test/verify/azure-server.ts) with a real HTTPS issuer, started and reset to the
 * deployed state by `useAzure`.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { ENTRA_AUDIENCE } from "../../components/federation/azure/rules";
import { startAzure, type AzureDouble, type AzureState, type Fic } from "./azure-server";
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

/** The operator's ARM bearer. */
export const ARM_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.arm-operator-9d2e";
/** The subscription. */
export const SUB = "3f2c9a51-7d4e-4b8a-9c61-2e5f0a7b1d93";
/** payments-api's client ID. */
export const CLIENT = "5b1f0c2e-8a4d-4e6f-9b3a-1c2d3e4f5a6b";
/** The tenant. */
export const TENANT = "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f7a";

/** The stack: Vault's test stack plus Azure, payments-api granted in both. */
export function azureStack(): Record<string, unknown> {
  const base = vaultStackConfig();
  const workloads = base["spire-federation:workloads"] as Record<string, unknown>[];
  return {
    ...base,
    "azure-native:subscriptionId": SUB,
    "spire-federation:azure": { resourceGroupName: "rg-spiffe", location: "westeurope" },
    "spire-federation:workloads": [{ ...workloads[0], azure: { roleAssignments: [] } }],
  };
}

/** The outputs of the stack's deploy, the issuer at `issuerUrl`. */
export function azureOutputs(issuerUrl: string): Record<string, unknown> {
  const o = vaultOutputs(issuerUrl);
  const fed = o.federation as Record<string, Record<string, unknown>>;
  fed["payments-api"].azure = { clientId: CLIENT, tenantId: TENANT, principalId: "p" };
  return o;
}

/** The federated credential the plan makes for payments-api. */
export function plannedFic(issuerUrl: string): Fic {
  return {
    name: "payments-api",
    issuer: issuerUrl,
    subject: PAYMENTS_ID,
    audiences: [ENTRA_AUDIENCE],
  };
}

/** A folder with `azure-jwt-svid.token` holding `token`. */
export const azureSvidDir = (token: string): string => svidFiles({ "azure-jwt-svid.token": token });

/** The running double and issuer of a test file. */
export interface AzureFixture {
  issuer: Issuer;
  azure: AzureDouble;
  state: AzureState;
  key: SigningKey;
  /** The stack folder (`azureStack()`). */
  dir: string;
  /** Runs `verify --checks azure` against the double with the operator's token. */
  run(o?: { extra?: string[]; deadlineMs?: number }): Promise<Run>;
}

/** Registers the hooks that start, reset (to the deployed state) and stop the double. */
export function useAzure(): AzureFixture {
  const f = { key: makeKey("k1") } as AzureFixture;
  f.run = (o = {}) =>
    runVerify(f.dir, "t", azureOutputs(f.issuer.url), ["--checks", "azure", ...(o.extra ?? [])], {
      caPem: f.issuer.caPem,
      deadlineMs: o.deadlineMs,
      env: {
        AZURE_ARM_TOKEN: ARM_TOKEN,
        AZURE_RESOURCE_MANAGER_URL: f.azure.server.url,
        AZURE_AUTHORITY_HOST: f.azure.server.url,
      },
    });
  beforeAll(async () => {
    f.issuer = await startIssuer({ keys: [f.key.jwk] });
    f.state = { armToken: ARM_TOKEN, identities: {}, pageSize: 100 };
    f.azure = await startAzure(f.state, f.issuer.tls);
    f.dir = writeStack("t", azureStack());
  });
  afterAll(async () => {
    await f.azure.server.close();
    await f.issuer.close();
  });
  beforeEach(() => {
    f.state.pageSize = 100;
    f.state.identities = {
      "rg-spiffe/payments-api": {
        clientId: CLIENT,
        tenantId: TENANT,
        principalId: "p",
        fics: [plannedFic(f.issuer.url)],
      },
    };
    f.azure.violations.length = 0;
    f.azure.tokenForms.length = 0;
    f.azure.server.reset();
  });
  return f;
}
