/** Google Cloud workload identity federation: the registry entry and the public API. */
import { defineRelyingParty } from "../contract";
import { GcpFederation } from "./component";
import { GCP_TYPES, gcpPolicies } from "./policies";
import { GCP_JWKS_CACHING } from "./rules";
import { checkGcp, gcpBlockSchema, gcpGrant, gcpGrantSchema, gcpModel } from "./schema";
import { gcpWorkloadFiles } from "./workload-files";

export * from "./component";
export * from "./policies";
export * from "./rules";
export * from "./schema";
export * from "./workload-files";

/** Google Cloud as a relying party. */
export const gcp = defineRelyingParty({
  key: "gcp",
  product: "Google Cloud workload identity federation",
  blockSchema: gcpBlockSchema,
  grantSchema: gcpGrantSchema,
  check: checkGcp,
  publicIssuer: (b) =>
    (b.oidc ?? true)
      ? {
          reason: "Google Cloud fetches the discovery document itself",
          path: ["gcp", "oidc"],
          alternative: "or gcp.oidc to false",
        }
      : undefined,
  jwtAlgorithms: (b) =>
    (b.oidc ?? true)
      ? {
          algorithms: ["RS256", "ES256"],
          reason: "Google Cloud's STS accepts RS256 and ES256 tokens only",
          when: "while gcp.oidc is on",
        }
      : undefined,
  jwks: {
    caching: GCP_JWKS_CACHING,
    verifies: (b) => b.oidc ?? true,
    planned: (type, props) => type === GCP_TYPES.provider && props.oidc !== undefined,
  },
  model: gcpModel,
  grant: gcpGrant,
  anchoredValues: ({ block }) => ({ gcpPool: `${block.project}/${block.poolId}` }),
  build: (name, { core, block, grants, trust }, opts) => {
    const component = new GcpFederation(
      name,
      {
        ...block,
        issuerUrl: core.oidc.issuerUrl,
        trustDomain: core.trustDomain,
        protectAnchors: core.anchors.protect,
        rootCaPem: trust.rootCertificatePem,
        certDir: core.workloadFiles.certDir,
        grants: grants.map(({ workload, grant }) => ({
          workload: workload.name,
          spiffeId: workload.spiffeId,
          roles: grant.roles,
        })),
      },
      opts,
    );
    return { component, logins: component.logins };
  },
  workloadFiles: gcpWorkloadFiles,
  fetchesIssuer: (type, props) => type === GCP_TYPES.provider && props.oidc !== undefined,
  policies: gcpPolicies,
});
