/** Curity Identity Server: the registry entry and the public API of this folder. */
import { defineRelyingParty } from "../contract";
import { CurityFederation, type CurityLogin } from "./component";
import { CURITY_TYPES, curityPolicies, jwtVerifier } from "./policies";
import { JWT_ALGORITHM } from "../../core-policies";
import { CURITY_JWKS_CACHING, usesJwt } from "./rules";
import {
  checkCurity,
  curityBlockSchema,
  curityGrant,
  curityGrantSchema,
  curityModel,
} from "./schema";
import { obj } from "../../policy-kit";
import { curityWorkloadFiles } from "./workload-files";

export { CurityApiError, curityPaths, type CurityConnection } from "./api";
export * from "./component";
export * from "./policies";
export {
  CurityEntity,
  curityProvider,
  type CurityAssertion,
  type CurityEntityArgs,
  type CurityKind,
  type CurityState,
} from "./provider";
export * from "./rules";
export * from "./schema";
export * from "./workload-files";

/** Curity as a relying party. */
export const curity = defineRelyingParty({
  key: "curity",
  product: "Curity Identity Server",
  blockSchema: curityBlockSchema,
  grantSchema: curityGrantSchema,
  check: checkCurity,
  // Not `publicIssuer`: that hook sees the block only, and Curity fetches SPIRE's JWKS only for
  // JWT grants; checkCurity reports the need where the grants are known.
  jwtAlgorithms: (b, grants) =>
    b.signatureAlgorithms !== undefined && grants.some((g) => usesJwt(g.grant.auth ?? "jwt"))
      ? {
          algorithms: b.signatureAlgorithms,
          reason: `the token profile allows ${b.signatureAlgorithms.join(", ")} for client assertions (curity.signatureAlgorithms)`,
          when: "while workloads send Curity JWT-SVIDs",
        }
      : undefined,
  jwks: {
    caching: CURITY_JWKS_CACHING,
    verifies: (_b, grants) => grants.some((g) => usesJwt(g.grant.auth ?? "jwt")),
    planned: (type, props) => type === CURITY_TYPES.client && props.assertion !== undefined,
  },
  model: curityModel,
  grant: curityGrant,
  build: (name, { core, block, grants, trust }, opts) => {
    const component = new CurityFederation(
      name,
      {
        connection: {
          adminUrl: block.adminUrl,
          username: block.username,
          password: block.password,
          caPem: block.adminCaPem,
        },
        profile: block.profile,
        tokenEndpoint: block.tokenEndpoint,
        tokenUrl: block.tokenUrl,
        mtlsTokenEndpoint: block.mtlsTokenEndpoint,
        certDir: core.workloadFiles.certDir,
        idPrefix: block.idPrefix,
        issuerUrl: core.oidc.issuerUrl,
        protectAnchors: core.anchors.protect,
        jwksUri: core.oidc.jwksUri,
        jwtAlgorithm: JWT_ALGORITHM[core.spire.caKeyType],
        allowedAlgorithms: block.signatureAlgorithms,
        rootCaPem: trust.rootCertificatePem,
        discoveryCaPem: block.discoveryCaPem,
        clients: grants.map(({ workload, grant }) => ({
          workload: workload.name,
          spiffeId: workload.spiffeId,
          scopes: grant.scopes,
          auth: grant.auth,
        })),
      },
      opts,
    );
    const logins: Record<string, CurityLogin> = component.logins;
    return { component, logins };
  },
  // A JWT client without an HTTP client of its own fetches the JWKS with the JVM's public trust.
  fetchesIssuer: (type, props) => {
    if (type !== CURITY_TYPES.client) return false;
    const verifier = jwtVerifier(obj(props.body));
    return verifier !== undefined && obj(verifier["jwks-uri"])["http-client"] === undefined;
  },
  workloadFiles: curityWorkloadFiles,
  policies: curityPolicies,
});
