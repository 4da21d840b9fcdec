/**
 * Curity Identity Server federation: workloads authenticate to Curity's token endpoint with their
 * SVIDs instead of client secrets, as JWT client assertions (JWT-SVIDs) and over mutual TLS
 * (X509-SVIDs), in the OAuth client credentials flow.
 *
 * What Curity enforces, and how this component meets it:
 * - a JWT-SVID is a client assertion: Curity finds the client by the assertion's `sub` through
 *   the token profile's `client-authentication/using-jwt/client-id-mappings` (here: SPIFFE ID →
 *   the workload's client id, one mapping entry per workload, nothing else of the profile
 *   written), verifies the signature with the client's `jwks-uri` (SPIRE's JWKS, which Curity
 *   fetches itself: publicly trusted, or through an HTTP client that uses the server trust store
 *   holding the discovery endpoint's CA), checks `iss` against the client's
 *   `assertion-jwt-validation/issuer` (RFC 7523 rules: no `jti`, `iss` ≠ `sub` allowed) and
 *   `aud` against its token endpoint, and the algorithm against the profile's allowed list;
 * - the JWT-SVID's `aud` is the token endpoint Curity publishes (`tokenEndpoint`), whatever URL
 *   the workload posts it to (`tokenUrl`, e.g. http inside a mesh);
 * - an X509-SVID authenticates a client whose `mutual-tls` `client-uri` is the SPIFFE ID (its URI
 *   SAN) and whose `trusted-ca` is a client trust store entry holding the stable root: SPIRE's
 *   intermediates rotate under it, and a workload presenting its full chain directly validates
 *   without them (behind a proxy, which forwards the leaf only, it would not: see the README);
 * - a client's scopes must be defined in the token profile (leafref): the provider checks them;
 * - both at once: the X.509 verifier plus the JWT verifier as the client's
 *   `secondary-authentication-method`;
 * - scopes per client; the client credentials capability only.
 * Order: trust stores and the HTTP client → clients → mappings.
 */
import { anchorOptions } from "../../anchors";
import * as pulumi from "@pulumi/pulumi";
import { inDir, SVID_CERT_FILE, SVID_DIR, SVID_KEY_FILE } from "../paths";
import { rejectProblems } from "../args";
import type { CurityConnection } from "./api";
import { CurityEntity } from "./provider";
import {
  clientMarker,
  curityIdProblem,
  curityIds,
  scopeProblem,
  usesJwt,
  usesX509,
  type CurityAuth,
} from "./rules";

/** File name of the JWT-SVID minted for Curity's audience, in the helper's `cert_dir`. */
export const CURITY_JWT_SVID_FILE = "curity-jwt-svid.token";

/** One workload's OAuth client. */
export interface CurityClientArgs {
  /** Workload name (the client id is derived from it). */
  workload: string;
  /** Its SPIFFE ID. */
  spiffeId: string;
  /** OAuth scopes the client may ask for. */
  scopes: string[];
  /** How it authenticates. */
  auth: CurityAuth;
}

/** Arguments of {@link CurityFederation}. */
export interface CurityFederationArgs {
  /**
   * Protect this component's anchors (the trust store entries) so that the engine refuses to delete or replace
   * them (`anchors.protect`). Default: true.
   */
  protectAnchors?: boolean;
  /** Admin service and credentials (the password a secret). */
  connection: {
    /** Admin base URL (https origin). */
    adminUrl: string;
    /** Admin user. */
    username: string;
    /** Its password (a secret). */
    password: pulumi.Input<string>;
    /** CA bundle of the admin service's certificate, when not publicly trusted. */
    caPem?: string;
  };
  /** Token profile id (an `oauth-service` profile). */
  profile: string;
  /** The token endpoint as Curity publishes it (base URL + path): the audience of JWT-SVIDs. */
  tokenEndpoint: string;
  /** The URL workloads post JWT-SVIDs to. Default: `tokenEndpoint`. */
  tokenUrl?: string;
  /** The URL workloads call over mutual TLS with their X509-SVID chain (direct, no proxy). */
  mtlsTokenEndpoint: string;
  /** The spiffe-helper's `cert_dir` in the workloads' containers. Default: `/run/spiffe/certs`. */
  certDir?: string;
  /** Prefix of every id this component gives a Curity entity. */
  idPrefix: string;
  /** SPIRE's JWT issuer (`iss` of JWT-SVIDs). */
  issuerUrl: string;
  /** SPIRE's JWKS URI. */
  jwksUri: string;
  /** The JWS algorithm SPIRE signs JWT-SVIDs with. */
  jwtAlgorithm: string;
  /** The algorithms the token profile allows, when declared in config. */
  allowedAlgorithms?: string[];
  /** PEM of the stable root (SPIRE's upstream authority): an input, it comes from the root of trust. */
  rootCaPem: pulumi.Input<string>;
  /** PEM of the CA of the discovery endpoint's certificate, when it is not publicly trusted. */
  discoveryCaPem?: string;
  /** One client per workload. */
  clients: CurityClientArgs[];
}

/** What a workload needs to get tokens from Curity (a stack output per workload). */
export interface CurityLogin {
  /** Its OAuth client id. */
  clientId: string;
  /** The URL it posts its JWT-SVID to, on the JWT flow (`curity.tokenUrl`). */
  tokenUrl?: string;
  /** The token endpoint of the mutual TLS flow, when it uses X509-SVIDs. */
  mtlsTokenEndpoint?: string;
  /** The `aud` its JWT-SVID must carry: the token endpoint as Curity publishes it, on the JWT flow. */
  audience?: string;
  /** Where the spiffe-helper writes that JWT-SVID, on the JWT flow. */
  jwtSvidFile?: string;
  /** The scopes it may ask for. */
  scopes: string[];
  /** Each of its flows as a `curl` command run in the workload's container. */
  curl: {
    /** Client credentials with the JWT-SVID as client assertion. */
    jwt?: string;
    /** Client credentials over mutual TLS with the X509-SVID. */
    x509?: string;
  };
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function curityArgsProblems(args: CurityFederationArgs): string[] {
  const problems: string[] = [];
  const p = curityIdProblem(args.profile);
  if (p) problems.push(`profile ${JSON.stringify(args.profile)} ${p}`);
  const ids = new Map<string, string>();
  const subs = new Map<string, string>();
  for (const c of args.clients) {
    const id = curityIds.client(args.idPrefix, c.workload);
    const idp = curityIdProblem(id);
    if (idp) problems.push(`client id ${JSON.stringify(id)} ${idp}`);
    if (ids.has(id))
      problems.push(`workloads ${ids.get(id)} and ${c.workload} share client id ${id}`);
    ids.set(id, c.workload);
    const other = subs.get(c.spiffeId);
    if (other)
      problems.push(`workloads ${other} and ${c.workload} share the SPIFFE ID ${c.spiffeId}`);
    subs.set(c.spiffeId, c.workload);
    if (c.scopes.length === 0) problems.push(`client ${id} has no scope`);
    for (const s of c.scopes) {
      const sp = scopeProblem(s);
      if (sp) problems.push(`scope ${JSON.stringify(s)} of client ${id} ${sp}`);
    }
  }
  return problems;
}

const SINGLE = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The `curl` forms of a workload's flows, as it runs them with the spiffe-helper's files. */
export function curityCurl(
  login: Pick<CurityLogin, "clientId" | "scopes"> & {
    tokenUrl: string;
    mtlsTokenEndpoint: string;
    auth: CurityAuth;
    certDir: string;
  },
): CurityLogin["curl"] {
  const form = `-H 'Content-Type: application/x-www-form-urlencoded'`;
  const scope = `--data-urlencode ${SINGLE(`scope=${login.scopes.join(" ")}`)}`;
  const curl: CurityLogin["curl"] = {};
  if (usesJwt(login.auth)) {
    curl.jwt = [
      `curl -sS -X POST ${SINGLE(login.tokenUrl)} ${form}`,
      `-d grant_type=client_credentials`,
      `-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`,
      `--data-urlencode "client_assertion=$(cat ${inDir(login.certDir, CURITY_JWT_SVID_FILE)})"`,
      scope,
    ].join(" ");
  }
  if (usesX509(login.auth)) {
    // curl presents svid.pem whole (leaf + SPIRE's intermediates): Curity anchors it at the root.
    const cert = `--cert ${inDir(login.certDir, SVID_CERT_FILE)} --key ${inDir(login.certDir, SVID_KEY_FILE)}`;
    curl.x509 = [
      `curl -sS -X POST ${SINGLE(login.mtlsTokenEndpoint)} ${cert} ${form}`,
      `-d grant_type=client_credentials`,
      `--data-urlencode ${SINGLE(`client_id=${login.clientId}`)}`,
      scope,
    ].join(" ");
  }
  return curl;
}

/** A client's entry (YANG JSON) as Curity's RESTCONF takes it. */
export function curityClientBody(c: {
  clientId: string;
  workload: string;
  spiffeId: string;
  scopes: string[];
  auth: CurityAuth;
  jwksUri: string;
  issuer: string;
  httpClient?: pulumi.Input<string>;
  trustedCa?: pulumi.Input<string>;
}): Record<string, pulumi.Input<unknown>> {
  const body: Record<string, pulumi.Input<unknown>> = {
    id: c.clientId,
    "client-name": c.workload,
    description: clientMarker(c.spiffeId),
    scope: [...c.scopes].sort(),
    capabilities: { "client-credentials": [null] },
  };
  const jwt = {
    "jwks-uri": c.httpClient ? { uri: c.jwksUri, "http-client": c.httpClient } : { uri: c.jwksUri },
    "assertion-jwt-validation": { issuer: c.issuer },
  };
  const x509 = { "mutual-tls": { "client-uri": c.spiffeId, "trusted-ca": [c.trustedCa] } };
  if (c.auth === "jwt") return { ...body, ...jwt };
  if (c.auth === "x509") return { ...body, ...x509 };
  return { ...body, ...x509, "secondary-authentication-method": jwt };
}

/** Trust stores, the JWKS HTTP client, one OAuth client and (JWT) one mapping per workload. */
export class CurityFederation extends pulumi.ComponentResource {
  /** The client trust store entry holding the stable root (when a workload uses X509-SVIDs). */
  readonly rootTrustStore?: CurityEntity;
  /** The server trust store entry holding the discovery endpoint's CA (when configured). */
  readonly discoveryTrustStore?: CurityEntity;
  /** The HTTP client that fetches SPIRE's JWKS through the server trust store. */
  readonly jwksHttpClient?: CurityEntity;
  /** OAuth clients by workload name. */
  readonly clients: Record<string, CurityEntity>;
  /** Client-id mappings by workload name (JWT workloads). */
  readonly mappings: Record<string, CurityEntity>;
  /** What each workload needs, by workload name. */
  readonly logins: Record<string, CurityLogin>;

  constructor(name: string, args: CurityFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("CurityFederation", name, curityArgsProblems(args));
    super("spire-federation:federation:Curity", name, {}, opts);

    const connection = pulumi.secret(
      pulumi.output(args.connection).apply((c): CurityConnection => ({ ...c })),
    );
    const tokenUrl = args.tokenUrl ?? args.tokenEndpoint;
    const certDir = args.certDir ?? SVID_DIR;
    const anyJwt = args.clients.some((c) => usesJwt(c.auth));
    const anyX509 = args.clients.some((c) => usesX509(c.auth));

    if (anyX509) {
      this.rootTrustStore = new CurityEntity(
        `${name}-root-ca`,
        {
          kind: "clientTrustStore",
          connection,
          key: curityIds.rootTrustStore(args.idPrefix),
          pem: args.rootCaPem,
        },
        anchorOptions(this, args.protectAnchors),
      );
    }
    if (anyJwt && args.discoveryCaPem !== undefined) {
      this.discoveryTrustStore = new CurityEntity(
        `${name}-discovery-ca`,
        {
          kind: "serverTrustStore",
          connection,
          key: curityIds.discoveryTrustStore(args.idPrefix),
          pem: args.discoveryCaPem,
        },
        anchorOptions(this, args.protectAnchors),
      );
      const httpId = curityIds.jwksHttpClient(args.idPrefix);
      this.jwksHttpClient = new CurityEntity(
        `${name}-jwks-http`,
        {
          kind: "httpClient",
          connection,
          key: httpId,
          body: { id: httpId, tls: { "use-truststore": true } },
        },
        // uses the whole server trust store, so it waits for the entry it needs
        { parent: this, dependsOn: [this.discoveryTrustStore] },
      );
    }

    this.clients = {};
    this.mappings = {};
    this.logins = {};
    for (const c of args.clients) {
      const clientId = curityIds.client(args.idPrefix, c.workload);
      const jwt = usesJwt(c.auth);
      const client = new CurityEntity(
        `${name}-client-${c.workload}`,
        {
          kind: "client",
          connection,
          profile: args.profile,
          key: clientId,
          body: curityClientBody({
            clientId,
            workload: c.workload,
            spiffeId: c.spiffeId,
            scopes: c.scopes,
            auth: c.auth,
            jwksUri: args.jwksUri,
            issuer: args.issuerUrl,
            httpClient: this.jwksHttpClient?.key,
            trustedCa: this.rootTrustStore?.key,
          }),
          assertion: jwt
            ? {
                audience: args.tokenEndpoint,
                tokenUrl,
                issuer: args.issuerUrl,
                algorithm: args.jwtAlgorithm,
                allowedAlgorithms: args.allowedAlgorithms,
              }
            : undefined,
        },
        { parent: this },
      );
      this.clients[c.workload] = client;
      if (jwt) {
        this.mappings[c.workload] = new CurityEntity(
          `${name}-mapping-${c.workload}`,
          {
            kind: "clientIdMapping",
            connection,
            profile: args.profile,
            key: c.spiffeId,
            body: { sub: c.spiffeId, "client-id": client.key },
          },
          { parent: this },
        );
      }
      const x509 = usesX509(c.auth);
      this.logins[c.workload] = {
        clientId,
        ...(jwt
          ? {
              tokenUrl,
              audience: args.tokenEndpoint,
              jwtSvidFile: inDir(certDir, CURITY_JWT_SVID_FILE),
            }
          : {}),
        ...(x509 ? { mtlsTokenEndpoint: args.mtlsTokenEndpoint } : {}),
        scopes: [...c.scopes].sort(),
        curl: curityCurl({
          clientId,
          tokenUrl,
          mtlsTokenEndpoint: args.mtlsTokenEndpoint,
          scopes: [...c.scopes].sort(),
          auth: c.auth,
          certDir,
        }),
      };
    }
    this.registerOutputs({ logins: this.logins });
  }
}
