/**
 * The `aws` check's token exchange: the AssumeRoleWithWebIdentity the workload's SDK does with
 * its JWT-SVID (`@aws-sdk/credential-providers`' fromWebToken, the provider behind the SDKs'
 * `AWS_WEB_IDENTITY_TOKEN_FILE`), on the hardened transport, its errors mapped to the cause.
 */
import { issuerHost } from "../../components/federation/aws/rules";
import { awsEndpoint, sdkError, type LiveTrust, type ProvidersLib } from "./aws-sdk";
import { exchangeSubject } from "./fields";
import { shown } from "./http";
import { awsRequestHandler } from "./sdk-transport";
import type { CheckResult, VerifyContext } from "./types";

/** The values of one condition key in a role's live trust statements (every operator). */
function liveValues(statements: Record<string, unknown>[] | undefined, key: string): unknown[] {
  const out: unknown[] = [];
  for (const s of statements ?? []) {
    const c = s.Condition;
    if (typeof c !== "object" || c === null) continue;
    for (const block of Object.values(c as Record<string, unknown>)) {
      const v = (block as Record<string, unknown> | null)?.[key];
      if (v !== undefined) out.push(...(Array.isArray(v) ? (v as unknown[]) : [v]));
    }
  }
  return out;
}

/** Why STS refused the token, with the values it compared side by side. */
export function stsCause(
  code: string,
  message: string,
  claims: Record<string, unknown>,
  plan: { issuer: string; subject: string; audience: string },
  trust: Record<string, unknown>[] | undefined,
): string {
  const host = issuerHost(plan.issuer);
  if (/ExpiredToken/.test(code)) {
    const exp =
      typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : "(no exp)";
    return `the JWT-SVID expired (exp ${exp}): spiffe-helper must refresh aws-jwt-svid.token; check that it runs`;
  }
  if (/InvalidIdentityToken/.test(code)) {
    if (/No OpenIDConnect provider/i.test(message)) {
      return `no IAM OIDC provider for the token's issuer (token iss ${shown(claims.iss)} / plan ${shown(plan.issuer)}): see the oidc provider result above; pulumi up creates it`;
    }
    if (/audience/i.test(message)) {
      return `the provider's client IDs do not list the token's aud (token ${shown(claims.aud)} / plan ${shown(plan.audience)}): see oidc provider ClientIDList above`;
    }
    if (/verification key|thumbprint|retrieve/i.test(message)) {
      return "STS could not get or verify the signing key: the issuer must serve discovery and JWKS over publicly trusted TLS (see the discovery check), with a kid the JWKS holds";
    }
    return `STS rejected the token: issuer (token ${shown(claims.iss)} / plan ${shown(plan.issuer)}), the issuer's TLS certificate (thumbprint) or a missing provider; see the discovery and oidc provider results`;
  }
  if (/AccessDenied/.test(code)) {
    const sub = liveValues(trust, `${host}:sub`);
    const aud = liveValues(trust, `${host}:aud`);
    const auds: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    // Against the role as read, else (not readable) against the plan.
    const subOk = trust ? sub.includes(claims.sub) : claims.sub === plan.subject;
    const audOk = auds.some((a) => (trust ? aud.includes(a) : a === plan.audience));
    return `the role's trust policy does not admit the token: sub: token ${shown(claims.sub)} / role ${trust ? shown(sub) : "(not read)"} / plan ${shown(plan.subject)}${subOk ? "" : " (differs)"}; aud: token ${shown(claims.aud)} / role ${trust ? shown(aud) : "(not read)"} / plan ${shown(plan.audience)}${audOk ? "" : " (differs)"}; see the role's trust results above`;
  }
  if (/IDPCommunicationError/.test(code)) {
    return "STS could not reach the issuer's discovery document or JWKS: check the discovery check and that the issuer is reachable from the internet";
  }
  if (/IDPRejectedClaim/.test(code)) {
    return "the issuer rejected the claims: check the token's issuer and audience";
  }
  return "see STS's message";
}

/** The real exchange with the workload's JWT-SVID. */
export async function awsExchange(
  ctx: VerifyContext,
  o: { issuer: string; audience: string; file: string; live: LiveTrust },
): Promise<CheckResult[]> {
  const subject = await exchangeSubject<ProvidersLib>(ctx, {
    party: "aws",
    name: "token exchange",
    file: o.file,
    sdk: "@aws-sdk/credential-providers",
  });
  if (Array.isArray(subject)) return subject;
  const { token, claims, workload: w, login, lib } = subject;
  const r = { check: "aws", party: "aws", name: "token exchange", workload: w.name };
  const { roleArn, region } = login;
  if (typeof roleArn !== "string" || typeof region !== "string") {
    return [
      {
        ...r,
        status: "FAIL",
        reason: "the outputs lack federation.<workload>.aws roleArn and region",
        fix: "pass the outputs of the deployed stack",
      },
    ];
  }
  const endpoint = awsEndpoint(ctx, "STS");
  const provider = lib.fromWebToken({
    roleArn,
    webIdentityToken: token,
    roleSessionName: "spire-federation-verify",
    clientConfig: {
      region,
      requestHandler: awsRequestHandler(ctx),
      // A POST that may have been processed is never repeated (the hardened client's rule).
      maxAttempts: 1,
      ...(endpoint ? { endpoint } : {}),
    },
  });
  ctx.progress(`aws: AssumeRoleWithWebIdentity for ${w.name} (role ${roleArn})`);
  try {
    const c = await provider();
    ctx.secrets.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : []));
    return [
      {
        ...r,
        status: "PASS",
        reason: `STS issued credentials for ${roleArn} (expiring ${c.expiration?.toISOString() ?? "(no expiry given)"})`,
      },
    ];
  } catch (e) {
    const { code, message } = sdkError(e);
    return [
      {
        ...r,
        status: "FAIL",
        reason: `STS refused the token (${code}): ${message}`,
        fix: stsCause(
          code,
          message,
          claims,
          { issuer: o.issuer, subject: w.spiffeId, audience: o.audience },
          o.live.get(roleArn),
        ),
      },
    ];
  }
}
