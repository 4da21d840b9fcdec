/** OpenZiti: the registry entry and the public API of this folder. */
import { defineRelyingParty } from "../contract";
import { OpenZitiFederation, type OpenZitiLogin } from "./component";
import { OPENZITI_TYPES, openzitiPolicies } from "./policies";
import { OPENZITI_JWKS_CACHING } from "./rules";
import {
  checkOpenZiti,
  openzitiBlockSchema,
  openzitiGrant,
  openzitiGrantSchema,
  openzitiModel,
} from "./schema";
import { openzitiWorkloadFiles } from "./workload-files";

export * from "./api";
export * from "./component";
export * from "./policies";
export * from "./provider";
export * from "./schema";
export * from "./workload-files";

/** OpenZiti as a relying party. */
export const openziti = defineRelyingParty({
  key: "openziti",
  product: "OpenZiti",
  blockSchema: openzitiBlockSchema,
  grantSchema: openzitiGrantSchema,
  check: checkOpenZiti,
  publicIssuer: (b) =>
    b.jwt === true
      ? {
          reason: "the controller fetches the JWKS itself",
          path: ["openziti", "jwt"],
          alternative: "or use the x509 path only",
        }
      : undefined,
  jwks: {
    caching: OPENZITI_JWKS_CACHING,
    verifies: (b) => b.jwt === true,
    planned: (type) => type === OPENZITI_TYPES.extJwtSigner,
  },
  model: openzitiModel,
  grant: openzitiGrant,
  build: (name, { core, block: z, grants, trust }, opts) => {
    const root = trust.rootPrivateKeyPem;
    const component = new OpenZitiFederation(
      name,
      {
        connection: {
          controllerUrl: z.controllerUrl,
          username: z.username,
          password: z.password,
          caPem: z.controllerCaPem,
        },
        caName: z.caName,
        x509: z.x509,
        jwt: z.jwt,
        audience: z.audience,
        issuerUrl: core.oidc.issuerUrl,
        protectAnchors: core.anchors.protect,
        jwksUri: core.oidc.jwksUri,
        certDir: core.workloadFiles.certDir,
        rootCaPem: trust.rootCertificatePem,
        verification: root
          ? { mode: "sign", caPrivateKeyPem: root }
          : z.verificationCertPem
            ? { mode: "pem", certPem: z.verificationCertPem }
            : { mode: "none" },
        identities: grants.map(({ workload, grant }) => ({
          name: workload.name,
          spiffeId: workload.spiffeId,
          roleAttributes: grant.roleAttributes,
          admin: grant.admin,
        })),
      },
      opts,
    );
    const logins: Record<string, OpenZitiLogin> = component.logins;
    return {
      component,
      logins,
      outputs: component.verificationToken
        ? { openzitiCaVerificationToken: component.verificationToken }
        : undefined,
    };
  },
  workloadFiles: openzitiWorkloadFiles,
  policies: openzitiPolicies,
});
