/**
 * OpenZiti's token exchange with `--svid-dir`: the workload's own authentication on the Edge
 * Client API (`<controllerUrl>/edge/client/v1`, the `ztAPI` of its login), as the SDKs do it
 * (openziti/edge-api client.yml @87257de, `POST /authenticate?method=…`, carried in
 * test/contracts/openziti/client-authenticate.yml):
 * - JWT path: `method=ext-jwt` with `Authorization: Bearer <JWT-SVID>` (`openziti-jwt-svid.token`,
 *   the file `ZITI_JWT_FILE` names);
 * - X.509 path: `method=cert` with the X509-SVID (`svid.pem`, leaf and intermediates, with
 *   `svid_key.pem`: the identity file's `id.cert` and `id.key`) as the TLS client certificate.
 * The controller tells little: a refused certificate is 401 `INVALID_AUTH` whatever the reason
 * (controller/model/authenticator_mod_cert.go); a refused JWT is 401 `UNAUTHORIZED` with
 * `WWW-Authenticate: Bearer realm="openziti-primary-ext-jwt" error="missing|invalid|expired"` and
 * the enabled signers' issuers (authenticator_mod_ext_jwt.go, openziti/foundation errorz; both
 * openziti/ziti @804f55a). So the cause is found by comparing the SVID with what the openziti
 * check read from the Edge Management API (CA, signer, identity) and with the plan. A session the
 * exchange opens is the workload's own; its token is redacted like every credential.
 */
import { X509Certificate } from "node:crypto";
import type { ZitiEntityData } from "../../components/federation/openziti/api";
import {
  OPENZITI_JWT_SVID_FILE,
  zitiClientApiUrl,
} from "../../components/federation/openziti/component";
import type { OpenZitiBlock } from "../../components/federation/openziti/schema";
import { deployedIssuer } from "./discovery";
import { exchangeSubject } from "./fields";
import { exchangePost, isRecord, shown } from "./http";
import type { CheckResult, VerifyContext } from "./types";
import { certName, chainsTo, pemCertificates, svidValidityProblem, x509Subject } from "./x509-svid";

/** What the openziti check read from the Edge Management API, for the exchange's causes. */
export interface ZitiSeen {
  /** Whether the reads completed (else the causes rest on the plan only). */
  read: boolean;
  /** The CA named `openziti.caName` (X.509 path). */
  ca?: ZitiEntityData;
  /** The external JWT signer `<caName>-jwt` (JWT path). */
  signer?: ZitiEntityData;
  /** Each workload's identity, by workload name. */
  identities: Record<string, ZitiEntityData | undefined>;
}

const base = { check: "openziti", party: "openziti" } as const;
const FIX_UP = "pulumi up restores it (see the openziti field checks above)";

/** The `error` and `issuer` of an ext-jwt `WWW-Authenticate` challenge. */
export function extJwtChallenge(header: unknown): { error?: string; issuers: string[] } {
  const text = Array.isArray(header) ? header.join(", ") : typeof header === "string" ? header : "";
  const field = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(text)?.[1];
  const issuers = field("issuer");
  return { error: field("error"), issuers: issuers ? issuers.split("|") : [] };
}

/** Why the controller refused the JWT-SVID. */
export function extJwtCause(
  challenge: { error?: string; issuers: string[] },
  claims: Record<string, unknown>,
  plan: { issuer: string; audience: string; spiffeId: string; signerName: string },
  seen: ZitiSeen,
  identity: ZitiEntityData | undefined,
): string {
  if (challenge.error === "expired") {
    const exp = typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : "?";
    return `the JWT-SVID expired at ${exp}: check that spiffe-helper refreshes ${OPENZITI_JWT_SVID_FILE}`;
  }
  if (challenge.error === "invalid") {
    return `the controller could not verify the JWT-SVID's signature (kid not in the JWKS it fetched from the signer's jwksEndpoint ${shown(seen.signer?.jwksEndpoint)}): compare signer.jwksEndpoint with the deployed JWKS URI and check that the controller reaches it`;
  }
  const signer = seen.signer;
  if (!challenge.issuers.includes(String(claims.iss))) {
    return `no enabled external JWT signer has the token's iss ${shown(claims.iss)} (the controller's: ${shown(challenge.issuers)}; the plan's signer ${plan.signerName} has ${shown(plan.issuer)}, the controller's ${shown(signer?.issuer)}): ${FIX_UP}`;
  }
  const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
  const expectedAud = typeof signer?.audience === "string" ? signer.audience : plan.audience;
  if (!aud.includes(expectedAud)) {
    return `the token's aud ${shown(claims.aud)} is not the signer's audience ${shown(expectedAud)} (the plan's: ${shown(plan.audience)}): the helper must fetch the JWT-SVID for openziti.audience, or ${FIX_UP}`;
  }
  if (seen.read && identity?.externalId !== claims.sub) {
    return identity === undefined
      ? `no identity has externalId ${shown(claims.sub)} (the workload's identity is missing): ${FIX_UP}`
      : `no identity has externalId ${shown(claims.sub)}: identity ${shown(identity.name)} has ${shown(identity.externalId)}: ${FIX_UP}`;
  }
  return `issuer, audience and externalId agree, so the identity's auth policy does not allow signer ${plan.signerName} (primary.extJwt.allowedSigners): ${FIX_UP}`;
}

/** Why the controller refused the X509-SVID (`INVALID_AUTH`). */
export function certCause(
  chain: X509Certificate[],
  spiffeId: string | undefined,
  caName: string,
  seen: ZitiSeen,
  identity: ZitiEntityData | undefined,
): string {
  const validity = svidValidityProblem({ certPem: "", keyPem: "", chain });
  if (validity) return validity;
  if (!seen.read)
    return `the CA, its verification and the identity could not be read: see the controller line above`;
  const ca = seen.ca;
  if (ca === undefined) return `there is no CA named ${shown(caName)}: ${FIX_UP}`;
  if (ca.isVerified !== true) {
    return `CA ${shown(caName)} is not verified: the controller trusts no certificate it signs until it is (pulumi up verifies it; with ca.mode clusterIssuer set openziti.verificationCertPem)`;
  }
  if (ca.isAuthEnabled !== true) return `CA ${shown(caName)} has isAuthEnabled false: ${FIX_UP}`;
  const anchor = typeof ca.certPem === "string" ? pemCertificates(ca.certPem)[0] : undefined;
  if (anchor !== undefined && !chainsTo(chain, anchor)) {
    return `the X509-SVID does not chain to CA ${shown(caName)}'s certificate ${certName(anchor)}: the CA holds another root than SPIRE's upstream (compare rootCaPem), or svid.pem lacks SPIRE's intermediates`;
  }
  if (identity?.externalId !== spiffeId) {
    return identity === undefined
      ? `no identity has externalId ${shown(spiffeId)} (the workload's identity is missing): ${FIX_UP}`
      : `no identity has externalId ${shown(spiffeId)}, the certificate's URI SAN: identity ${shown(identity.name)} has ${shown(identity.externalId)}: ${FIX_UP}`;
  }
  return `the chain, the CA and the externalId agree, so the CA's externalIdClaim or the identity's auth policy (primary.cert.allowed) refuses it: ${FIX_UP}`;
}

/** One authentication; PASS, or the FAIL with its cause from `cause`. */
async function authenticate(
  ctx: VerifyContext,
  block: OpenZitiBlock,
  o: {
    method: "ext-jwt" | "cert";
    workload: string;
    headers?: Record<string, string>;
    clientCert?: { certPem: string; keyPem: string };
    cause: (status: number, code: string, headers: Record<string, unknown>) => string;
  },
): Promise<CheckResult> {
  const r = { ...base, name: `authenticate ${o.method}`, workload: o.workload };
  const url = `${zitiClientApiUrl(block.controllerUrl)}/authenticate?method=${o.method}`;
  ctx.progress(`openziti: POST ${url} as ${o.workload}`);
  const caPem = [block.controllerCaPem, ctx.caPem].filter(Boolean).join("\n") || undefined;
  const res = await exchangePost(
    { ...ctx, caPem },
    r,
    url,
    "OpenZiti authentication",
    {
      headers: { "content-type": "application/json", ...o.headers },
      body: "{}",
      accept: [400, 401, 429],
      clientCert: o.clientCert,
    },
    "check that the controller's Edge Client API answers at openziti.controllerUrl and its CA is trusted (openziti.controllerCaPem or --ca-file)",
  );
  if ("check" in res) return res;
  const body = res.body;
  const data = isRecord(body.data) ? body.data : undefined;
  if (res.status === 200 && data !== undefined && typeof data.token === "string") {
    ctx.secrets.push(data.token);
    const who = isRecord(data.identity) ? data.identity.name : undefined;
    return who === o.workload
      ? { ...r, status: "PASS", reason: `authenticated as identity ${shown(who)}` }
      : {
          ...r,
          status: "FAIL",
          reason: `authenticated as identity ${shown(who)}, not ${shown(o.workload)}`,
          fix: `another identity has this externalId: give the externalId to ${o.workload} only (pulumi up)`,
        };
  }
  const error = isRecord(body.error) ? body.error : {};
  const code = typeof error.code === "string" ? error.code : `HTTP ${res.status}`;
  return {
    ...r,
    status: "FAIL",
    reason: `the controller refused it: HTTP ${res.status} ${code}${typeof error.message === "string" ? `: ${error.message}` : ""}`,
    fix: o.cause(res.status, code, res.headers),
  };
}

/** The workload's authentications (JWT and X.509 paths, each as the stack enables it). */
export async function zitiExchanges(
  ctx: VerifyContext,
  block: OpenZitiBlock,
  seen: ZitiSeen,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const signerName = `${block.caName}-jwt`;
  if (block.jwt) {
    const subject = await exchangeSubject<undefined>(ctx, {
      party: "openziti",
      name: "authenticate ext-jwt",
      file: OPENZITI_JWT_SVID_FILE,
    });
    if (Array.isArray(subject)) results.push(...subject);
    else {
      const { token, claims, workload: w } = subject;
      const plan = {
        issuer: deployedIssuer(ctx),
        audience: block.audience,
        spiffeId: w.spiffeId,
        signerName,
      };
      results.push(
        await authenticate(ctx, block, {
          method: "ext-jwt",
          workload: w.name,
          headers: { authorization: `Bearer ${token}` },
          cause: (status, code, headers) =>
            status === 429
              ? "the controller rate-limits authentication: run verify again later"
              : extJwtCause(
                  extJwtChallenge(headers["www-authenticate"]),
                  claims,
                  plan,
                  seen,
                  seen.identities[w.name],
                ) + (code === "UNAUTHORIZED" || code === "INVALID_AUTH" ? "" : ` (${code})`),
        }),
      );
    }
  }
  if (block.x509) {
    const subject = x509Subject(ctx, { party: "openziti", name: "authenticate cert" });
    if (Array.isArray(subject)) results.push(...subject);
    else {
      const { svid, workload: w } = subject;
      results.push(
        await authenticate(ctx, block, {
          method: "cert",
          workload: w.name,
          clientCert: { certPem: svid.certPem, keyPem: svid.keyPem },
          cause: (status) =>
            status === 429
              ? "the controller rate-limits authentication: run verify again later"
              : certCause(svid.chain, svid.spiffeId, block.caName, seen, seen.identities[w.name]),
        }),
      );
    }
  }
  return results;
}
