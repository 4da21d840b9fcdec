/**
 * What a workload with an Azure grant needs in its pods: a JWT-SVID for the federated
 * credentials' one audience, and the variables the Azure Identity SDKs' workload identity
 * credential reads (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`).
 */
import type { WorkloadContribution, WorkloadFilesContext } from "../contract";
import { inDir } from "../paths";
import type { EntraLogin } from "./component";
import type { AzureBlock, AzureGrant } from "./schema";

/** File name of the JWT-SVID for Entra ID, in the helper's `cert_dir`. */
export const AZURE_JWT_SVID_FILE = "azure-jwt-svid.token";

/**
 * The helper fetches a JWT-SVID for `azure.audience` (exactly every federated credential's
 * audience). Client and tenant ID exist only once the identity is deployed: they stay Outputs
 * (the workload's env ConfigMap carries them).
 */
export function azureWorkloadFiles(
  ctx: WorkloadFilesContext<AzureBlock, AzureGrant, EntraLogin>,
): WorkloadContribution {
  const { block, login, paths } = ctx;
  return {
    jwtSvids: [{ audience: block.audience, fileName: AZURE_JWT_SVID_FILE }],
    env: {
      AZURE_CLIENT_ID: login.clientId,
      AZURE_TENANT_ID: login.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: inDir(paths.certDir, AZURE_JWT_SVID_FILE),
    },
  };
}
