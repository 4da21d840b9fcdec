/**
 * OpenZiti federation: the SPIRE root as a verified third-party CA (X.509 path) and SPIRE's OIDC
 * issuer as an external JWT signer (JWT path), an auth policy that admits them, and one identity
 * per workload whose externalId is its SPIFFE ID.
 *
 * What the controller enforces, and how this component meets it:
 * - a CA authenticates only once `isAuthEnabled` and verified: verification posts a certificate
 *   whose CN is the CA's verificationToken, signed directly by the CA's certificate (generated
 *   root: made here with @pulumi/tls; existing ClusterIssuer: a PEM the operator supplies);
 * - the externalIdClaim reads the SPIFFE ID from the client certificate's URI SAN
 *   (SAN_URI + SCHEME "spiffe"; SAN_URI allows only ALL or SCHEME);
 * - enrollment through the CA (auto, OTT) stays off: identities are created here;
 * - external JWT signers match `iss` exactly (unique per controller) and map `sub` to externalId.
 * Order: CA → verification → identities.
 */
import { anchorOptions } from "../../anchors";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { ZitiConnection } from "./api";
import { inDir, SVID_CERT_FILE, SVID_DIR, SVID_KEY_FILE } from "../paths";
import { ZitiEntity, zitiNameProblem, type ExternalIdClaim } from "./provider";
import { rejectProblems } from "../args";

/** Where workloads find the controller's CA bundle (mount `controllerCaPem` there). */
export const ZITI_CONTROLLER_CA_PATH = "/run/openziti/ca.pem";

/** The externalIdClaim for SPIFFE X509-SVIDs: the `spiffe://` URI SAN, verbatim. */
export const SPIFFE_EXTERNAL_ID_CLAIM: ExternalIdClaim = {
  location: "SAN_URI",
  matcher: "SCHEME",
  matcherCriteria: "spiffe",
  parser: "NONE",
  parserCriteria: "",
  index: 0,
};

/** How the CA gets verified. */
export type ZitiVerification =
  | {
      /** Sign the verification certificate here with the generated root's key. */
      mode: "sign";
      /** The root's private key (secret). */
      caPrivateKeyPem: pulumi.Input<string>;
    }
  | {
      /** Use a certificate the operator made (CN = the verification token) with the external CA. */
      mode: "pem";
      /** Its PEM. */
      certPem: string;
    }
  | { /** Leave the CA unverified (it cannot authenticate until verified). */ mode: "none" };

/** One workload identity. */
export interface ZitiIdentityArgs {
  /** Identity name (the workload name). */
  name: string;
  /** The SPIFFE ID, set as externalId. */
  spiffeId: string;
  /** Role attributes for service and router policies. */
  roleAttributes: string[];
  /** Admin identity. */
  admin: boolean;
}

/** Arguments of {@link OpenZitiFederation}. */
export interface OpenZitiFederationArgs {
  /**
   * Protect this component's anchors (the CA) so that the engine refuses to delete or replace
   * them (`anchors.protect`). Default: true.
   */
  protectAnchors?: boolean;
  /** Controller URL and admin credentials (the password a secret). */
  connection: {
    /** Controller base URL. */
    controllerUrl: string;
    /** Admin user. */
    username: string;
    /** Its password. */
    password: pulumi.Input<string>;
    /** CA bundle of the controller's certificate, when not publicly trusted. */
    caPem?: string;
  };
  /** Name of the CA (and prefix of the signer and auth policy). */
  caName: string;
  /** Register the SPIRE root as a CA. */
  x509: boolean;
  /** Register SPIRE's issuer as an external JWT signer. */
  jwt: boolean;
  /** The audience JWT-SVIDs for OpenZiti carry. */
  audience: string;
  /** The OIDC issuer URL. */
  issuerUrl: string;
  /** The JWKS URI. */
  jwksUri: string;
  /** PEM of the root CA. */
  rootCaPem: pulumi.Input<string>;
  /** How to verify the CA. */
  verification: ZitiVerification;
  /** The identities. */
  identities: ZitiIdentityArgs[];
  /**
   * The spiffe-helper's `cert_dir` the identity files point into. Default: `/run/spiffe/certs`.
   */
  certDir?: string;
}

/** The Edge Client API's path below the controller URL: SDKs authenticate and dial there. */
export const ZITI_CLIENT_API_PATH = "/edge/client/v1";

/** The identity file a tunneler or SDK loads (X.509 path: certificate authentication). */
export interface ZitiIdentityFile {
  /** The controller's Edge Client API URL (`<controllerUrl>/edge/client/v1`). */
  ztAPI: string;
  /**
   * Certificate and key locations, and the controller's CA bundle when it is not publicly trusted
   * (without `ca` the SDKs verify the controller with the system's roots).
   */
  id: { cert: string; key: string; ca?: string };
}

/**
 * What a workload on the JWT path only (`x509: false`) uses: no identity file (its `id` would
 * make the SDKs try certificate authentication, which the auth policy forbids), but the token
 * file and the Edge Client API URL, which the SDKs take in code (Go:
 * `edge_apis.NewJwtCredentials(token)` with `ziti.Config{ZtAPI: …}`).
 */
export interface ZitiJwtLogin {
  /** The controller's Edge Client API URL (`<controllerUrl>/edge/client/v1`). */
  ztAPI: string;
  /** The JWT-SVID file the helper keeps fresh (read it again before each authentication). */
  jwtFile: string;
  /** The controller's CA bundle, when it is not publicly trusted. */
  ca?: string;
}

/** One workload's OpenZiti login: an identity file (X.509 path) or the JWT path's pieces. */
export type OpenZitiLogin = ZitiIdentityFile | ZitiJwtLogin;

/** The JWT-SVID's file name for the controller, in the helper's `cert_dir`. */
export const OPENZITI_JWT_SVID_FILE = "openziti-jwt-svid.token";

/**
 * The SPIRE root as a third-party CA: authentication on, enrollment through it off (identities
 * are created here), the SPIFFE ID read from the client certificate's URI SAN.
 */
export function spiffeCaBody(name: string, certPem: pulumi.Input<string>) {
  return {
    name,
    certPem,
    isAuthEnabled: true,
    isAutoCaEnrollmentEnabled: false,
    isOttCaEnrollmentEnabled: false,
    identityRoles: [],
    externalIdClaim: { ...SPIFFE_EXTERNAL_ID_CLAIM },
  };
}

/**
 * The auth policy of SPIFFE workloads: certificates (on the X.509 path) and JWTs of the given
 * external signers as primary authentication, no password (updb), no second factor. The API
 * needs every updb field even when updb is off.
 */
export function spiffeAuthPolicyBody(
  name: string,
  certAllowed: boolean,
  allowedSigners: pulumi.Input<string>[],
) {
  return {
    name,
    primary: {
      cert: { allowed: certAllowed, allowExpiredCerts: false },
      extJwt: { allowed: allowedSigners.length > 0, allowedSigners },
      updb: {
        allowed: false,
        minPasswordLength: 5,
        requireSpecialChar: false,
        requireNumberChar: false,
        requireMixedCase: false,
        maxAttempts: 5,
        lockoutDurationMinutes: 0,
      },
    },
    secondary: { requireTotp: false, requireExtJwtSigner: null },
  };
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function openZitiArgsProblems(args: OpenZitiFederationArgs): string[] {
  const problems: string[] = [];
  if (!args.x509 && !args.jwt) problems.push("enable the x509 path, the jwt path or both");
  if (withoutUserInfo(args.connection.controllerUrl) !== args.connection.controllerUrl) {
    problems.push(
      "controllerUrl must not carry user info (user:password@): it would show in plain outputs; give them as username and password",
    );
  }
  const n = zitiNameProblem(args.caName);
  if (n) problems.push(`CA name ${JSON.stringify(args.caName)} ${n}`);
  const names = new Set<string>();
  const ids = new Map<string, string>();
  for (const i of args.identities) {
    const p = zitiNameProblem(i.name);
    if (p) problems.push(`identity name ${JSON.stringify(i.name)} ${p}`);
    if (names.has(i.name)) problems.push(`identity name ${i.name} is used twice`);
    names.add(i.name);
    const other = ids.get(i.spiffeId);
    if (other)
      problems.push(`identities ${other} and ${i.name} share the external ID ${i.spiffeId}`);
    ids.set(i.spiffeId, i.name);
  }
  return problems;
}

/** A URL without user info (`user:password@`), otherwise unchanged. */
function withoutUserInfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1");
}

/**
 * The identity file for one workload, with the files a spiffe-helper sidecar writes, and the
 * controller's CA bundle at {@link ZITI_CONTROLLER_CA_PATH} when there is one (`controllerCaPem`).
 * It is a plain output: the controller URL appears without user info.
 */
export function zitiIdentityFile(
  controllerUrl: string,
  opts: { certDir?: string; controllerCa?: boolean } = { controllerCa: true },
): ZitiIdentityFile {
  const certDir = opts.certDir ?? SVID_DIR;
  return {
    ztAPI: zitiClientApiUrl(controllerUrl),
    id: {
      cert: `file://${inDir(certDir, SVID_CERT_FILE)}`,
      key: `file://${inDir(certDir, SVID_KEY_FILE)}`,
      ...(opts.controllerCa ? { ca: `file://${ZITI_CONTROLLER_CA_PATH}` } : {}),
    },
  };
}

/** The Edge Client API URL of a controller URL, without user info. */
export function zitiClientApiUrl(controllerUrl: string): string {
  return `${withoutUserInfo(controllerUrl).replace(/\/+$/, "")}${ZITI_CLIENT_API_PATH}`;
}

/** The JWT path's login for one workload (see {@link ZitiJwtLogin}). */
export function zitiJwtLogin(
  controllerUrl: string,
  opts: { certDir?: string; controllerCa?: boolean } = { controllerCa: true },
): ZitiJwtLogin {
  return {
    ztAPI: zitiClientApiUrl(controllerUrl),
    jwtFile: inDir(opts.certDir ?? SVID_DIR, OPENZITI_JWT_SVID_FILE),
    ...(opts.controllerCa ? { ca: ZITI_CONTROLLER_CA_PATH } : {}),
  };
}

/** The CA, its verification, the JWT signer, the auth policy and the identities. */
export class OpenZitiFederation extends pulumi.ComponentResource {
  /** The CA, on the X.509 path. */
  readonly ca?: ZitiEntity;
  /** Its verification, when made. */
  readonly verification?: ZitiEntity;
  /** The external JWT signer, on the JWT path. */
  readonly jwtSigner?: ZitiEntity;
  /** The auth policy identities use, on the JWT path. */
  readonly authPolicy?: ZitiEntity;
  /** Identities by workload name. */
  readonly identities: Record<string, ZitiEntity>;
  /** The token to sign when the operator verifies the CA (existing ClusterIssuer). */
  readonly verificationToken?: pulumi.Output<string | undefined>;
  /** Identity files by workload name (X.509 path; none when `x509` is off). */
  readonly identityFiles: Record<string, ZitiIdentityFile>;
  /** Each workload's login: its identity file, or on the JWT path only its JWT pieces. */
  readonly logins: Record<string, OpenZitiLogin>;

  constructor(name: string, args: OpenZitiFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("OpenZitiFederation", name, openZitiArgsProblems(args));
    super("spire-federation:federation:OpenZiti", name, {}, opts);

    const connection = pulumi.secret(
      pulumi.output(args.connection).apply((c): ZitiConnection => ({ ...c })),
    );
    let identitiesAfter: pulumi.Resource[] = [];

    if (args.x509) {
      this.ca = new ZitiEntity(
        `${name}-ca`,
        {
          kind: "ca",
          connection,
          body: spiffeCaBody(args.caName, args.rootCaPem),
        },
        anchorOptions(this, args.protectAnchors),
      );
      this.verificationToken = this.ca.verificationToken;
      identitiesAfter = [this.ca];

      let certPem: pulumi.Input<string> | undefined;
      const v = args.verification;
      if (v.mode === "sign") {
        const key = new tls.PrivateKey(
          `${name}-verify-key`,
          { algorithm: "ECDSA", ecdsaCurve: "P256" },
          { parent: this },
        );
        const csr = new tls.CertRequest(
          `${name}-verify-csr`,
          {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: this.ca.verificationToken.apply((t) => t ?? "") },
          },
          { parent: this },
        );
        certPem = new tls.LocallySignedCert(
          `${name}-verify-cert`,
          {
            certRequestPem: csr.certRequestPem,
            caCertPem: args.rootCaPem,
            caPrivateKeyPem: v.caPrivateKeyPem,
            validityPeriodHours: 24,
            allowedUses: ["digital_signature", "client_auth"],
          },
          { parent: this },
        ).certPem;
      } else if (v.mode === "pem") {
        certPem = v.certPem;
      }
      if (certPem !== undefined) {
        this.verification = new ZitiEntity(
          `${name}-ca-verification`,
          { kind: "caVerification", connection, body: { caId: this.ca.id, certPem } },
          { parent: this, dependsOn: [this.ca] },
        );
        identitiesAfter = [this.verification];
      }
    }

    if (args.jwt) {
      this.jwtSigner = new ZitiEntity(
        `${name}-jwt-signer`,
        {
          kind: "extJwtSigner",
          connection,
          body: {
            name: `${args.caName}-jwt`,
            enabled: true,
            issuer: args.issuerUrl,
            audience: args.audience,
            jwksEndpoint: args.jwksUri,
            claimsProperty: "sub",
            useExternalId: true,
          },
        },
        { parent: this },
      );
      this.authPolicy = new ZitiEntity(
        `${name}-auth-policy`,
        {
          kind: "authPolicy",
          connection,
          body: spiffeAuthPolicyBody(`${args.caName}-spiffe`, args.x509, [this.jwtSigner.id]),
        },
        { parent: this },
      );
    }

    this.identities = {};
    this.identityFiles = {};
    this.logins = {};
    for (const i of args.identities) {
      const body: Record<string, pulumi.Input<unknown>> = {
        name: i.name,
        type: "Default",
        isAdmin: i.admin,
        externalId: i.spiffeId,
        roleAttributes: i.roleAttributes,
      };
      if (this.authPolicy) body.authPolicyId = this.authPolicy.id;
      this.identities[i.name] = new ZitiEntity(
        `${name}-identity-${i.name}`,
        { kind: "identity", connection, body },
        { parent: this, dependsOn: identitiesAfter },
      );
      const where = { certDir: args.certDir, controllerCa: args.connection.caPem !== undefined };
      if (args.x509) {
        this.identityFiles[i.name] = zitiIdentityFile(args.connection.controllerUrl, where);
        this.logins[i.name] = this.identityFiles[i.name];
      } else {
        this.logins[i.name] = zitiJwtLogin(args.connection.controllerUrl, where);
      }
    }
    this.registerOutputs({ identityFiles: this.identityFiles });
  }
}
