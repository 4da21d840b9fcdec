/**
 * `curity`: the Curity Identity Server's RESTCONF admin API, live and read-only, against the
 * plan, through the package's own RESTCONF client (components/federation/curity/api.ts: HTTP
 * Basic, the hardened HTTP client, redaction), GETs only:
 * - each workload's OAuth client (`client-store/config-backed/client=<idPrefix><workload>`),
 *   field by field against the body the component writes (`curityClientBody`): name, marker,
 *   scopes, capabilities, and its authentication: `jwks-uri` (and its HTTP client),
 *   `assertion-jwt-validation/issuer`, `mutual-tls` `client-uri` and `trusted-ca`, the JWT
 *   verifier as `secondary-authentication-method`;
 * - each JWT workload's client-id mapping (`sub` = its SPIFFE ID → its client id);
 * - every scope the clients name, defined in the token profile (a client's `scope` is a leafref);
 * - the trust store entries (the stable root in the client trust store for X509-SVIDs, the
 *   discovery CA in the server trust store and the JWKS HTTP client for JWT-SVIDs): present
 *   (Curity shows keystores encrypted, so their content cannot be compared).
 * With `--svid-dir`, the workload's own token requests (curity-exchange.ts).
 * RESTCONF writes that an admin node does not persist are lost on its restart: this check names
 * what is gone. Login: `curity.username` and `CURITY_PASSWORD` (else the stack config's password);
 * `curity.adminCaPem` and `--ca-file` add trust.
 */
import {
  CURITY_MEMBERS,
  curityPaths,
  getEntry,
  type CurityConnection,
} from "../../components/federation/curity/api";
import { curityClientBody } from "../../components/federation/curity/component";
import { curityIds, usesJwt, usesX509 } from "../../components/federation/curity/rules";
import type { CurityBlock, CurityGrant } from "../../components/federation/curity/schema";
import { curityExchanges } from "./curity-exchange";
import { SECRET_PLACEHOLDER } from "../stack-config";
import { deployedIssuer, deployedJwksUri } from "./discovery";
import { adminFailure, adminPassword, mismatchResult } from "./fields";
import { isRecord, shown } from "./http";
import type { Check, CheckResult, VerifyContext } from "./types";

const FIX_LOST =
  "pulumi up restores it; an admin restart without persisted RESTCONF writes loses them (persist the admin node's configuration)";
const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";
const base = { check: "curity", party: "curity" } as const;

/** The client body fields compared, in order (the others are not the package's). */
const CLIENT_FIELDS = [
  "client-name",
  "description",
  "scope",
  "capabilities",
  "jwks-uri",
  "assertion-jwt-validation",
  "mutual-tls",
  "secondary-authentication-method",
] as const;

interface Grant {
  workload: { name: string; spiffeId: string };
  grant: CurityGrant;
}

function grantsOf(ctx: VerifyContext): Grant[] {
  return ctx.model.workloads.flatMap((w) => (w.curity ? [{ workload: w, grant: w.curity }] : []));
}

/** Reads the entities and compares them with the plan. */
async function curityResults(
  ctx: VerifyContext,
  block: CurityBlock,
  conn: CurityConnection,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const grants = grantsOf(ctx);
  const anyJwt = grants.some((g) => usesJwt(g.grant.auth));
  const anyX509 = grants.some((g) => usesX509(g.grant.auth));
  const get = (what: string, path: string, member: string) => {
    ctx.progress(`curity: GET ${block.adminUrl} ${what}`);
    return getEntry(conn, what, path, member);
  };
  const presence = (name: string, found: boolean, what: string, fix = FIX_LOST): CheckResult =>
    found
      ? { ...base, name, status: "PASS", reason: `${what} exists` }
      : { ...base, name, status: "FAIL", reason: `${what} is missing`, fix };

  // Trust stores and the JWKS HTTP client: what the clients refer to.
  const rootId = anyX509 ? curityIds.rootTrustStore(block.idPrefix) : undefined;
  const trustEntry = async (kind: "clientTrustStore" | "serverTrustStore", id: string) => {
    const what = `${kind === "clientTrustStore" ? "client" : "server"} trust store entry ${shown(id)}`;
    const e = await get(what, curityPaths[kind](id), CURITY_MEMBERS[kind]);
    results.push(presence(kind, e !== undefined, what));
  };
  if (rootId !== undefined) await trustEntry("clientTrustStore", rootId);
  const httpId =
    anyJwt && block.discoveryCaPem !== undefined
      ? curityIds.jwksHttpClient(block.idPrefix)
      : undefined;
  if (httpId !== undefined) {
    await trustEntry("serverTrustStore", curityIds.discoveryTrustStore(block.idPrefix));
    const httpWhat = `HTTP client ${shown(httpId)}`;
    const h = await get(httpWhat, curityPaths.httpClient(httpId), CURITY_MEMBERS.httpClient);
    if (h === undefined) results.push(presence("httpClient", false, httpWhat));
    else
      results.push(
        mismatchResult("curity", "httpClient.tls", { "use-truststore": true }, h.tls, FIX_DRIFT),
      );
  }

  // The scopes the clients name, in the token profile.
  const scopesWhat = `scopes of token profile ${shown(block.profile)}`;
  const scopeDoc = await get(scopesWhat, curityPaths.scopes(block.profile), CURITY_MEMBERS.scopes);
  const defined = new Set(
    (Array.isArray(scopeDoc?.scope) ? scopeDoc.scope : []).flatMap((s: unknown) =>
      isRecord(s) && typeof s.id === "string" ? [s.id] : [],
    ),
  );
  for (const scope of [...new Set(grants.flatMap((g) => g.grant.scopes))].sort()) {
    const users = grants.filter((g) => g.grant.scopes.includes(scope)).map((g) => g.workload.name);
    results.push(
      defined.has(scope)
        ? {
            ...base,
            name: "scope",
            status: "PASS",
            reason: `the token profile defines ${shown(scope)}`,
          }
        : {
            ...base,
            name: "scope",
            status: "FAIL",
            reason: `the token profile ${shown(block.profile)} defines no scope ${shown(scope)} (authorization-server/scopes/scope), which ${users.join(", ")} may ask for`,
            fix: `define it in the token profile (an admin restart without persisted configuration loses it), or remove it from the workload's curity.scopes and run pulumi up`,
          },
    );
  }

  // Each client, field by field, and each JWT workload's mapping.
  const mappingsWhat = `client-id mappings of token profile ${shown(block.profile)}`;
  const mappingDoc = anyJwt
    ? await get(
        mappingsWhat,
        curityPaths.clientIdMappings(block.profile),
        CURITY_MEMBERS.clientIdMappings,
      )
    : undefined;
  const mappings = Array.isArray(mappingDoc?.["client-id-mapping"])
    ? (mappingDoc["client-id-mapping"] as unknown[]).filter(isRecord)
    : [];
  for (const { workload, grant } of grants) {
    const clientId = curityIds.client(block.idPrefix, workload.name);
    const what = `OAuth client ${shown(clientId)} of token profile ${shown(block.profile)}`;
    const actual = await get(
      what,
      curityPaths.client(block.profile, clientId),
      CURITY_MEMBERS.client,
    );
    const w = { workload: workload.name };
    if (actual === undefined) {
      results.push({ ...presence("client", false, what), ...w });
    } else {
      const expected = curityClientBody({
        clientId,
        workload: workload.name,
        spiffeId: workload.spiffeId,
        scopes: grant.scopes,
        auth: grant.auth,
        jwksUri: deployedJwksUri(ctx),
        issuer: deployedIssuer(ctx),
        httpClient: httpId,
        trustedCa: rootId,
      });
      for (const f of CLIENT_FIELDS) {
        if (expected[f] === undefined && actual[f] === undefined) continue;
        results.push({
          ...mismatchResult("curity", `client.${f}`, expected[f], actual[f], FIX_DRIFT),
          ...w,
        });
      }
    }
    if (usesJwt(grant.auth)) {
      const m = mappings.find((x) => x.sub === workload.spiffeId);
      const mWhat = `client-id mapping of sub ${shown(workload.spiffeId)}`;
      results.push(
        m === undefined
          ? { ...presence("mapping", false, mWhat), ...w }
          : {
              ...mismatchResult("curity", "mapping.client-id", clientId, m["client-id"], FIX_DRIFT),
              ...w,
            },
      );
    }
  }
  return results;
}

/** The `curity` check. */
export const curityCheck: Check = {
  name: "curity",
  applies: (ctx) => ctx.model.curity !== undefined,
  run: async (ctx) => {
    const block = ctx.model.curity;
    if (block === undefined) return [];
    return [...(await adminResults(ctx, block)), ...(await curityExchanges(ctx, block))];
  },
};

/** The RESTCONF reads, or the SKIP/FAIL that stops them. */
async function adminResults(ctx: VerifyContext, block: CurityBlock): Promise<CheckResult[]> {
  const pw = await adminPassword(ctx, "CURITY_PASSWORD", block.password);
  if (pw === "" || pw === SECRET_PLACEHOLDER) {
    return [
      {
        ...base,
        name: "admin",
        status: "SKIP",
        reason:
          "no Curity admin password: curity.password is a secure value verify cannot decrypt, and CURITY_PASSWORD is not set",
        fix: "set CURITY_PASSWORD to the password of curity.username (the value of pulumi config get curity.password --path)",
      },
    ];
  }
  ctx.secrets.push(pw);
  const conn: CurityConnection = {
    adminUrl: block.adminUrl,
    username: block.username,
    password: pw,
    caPem: [block.adminCaPem, ctx.caPem].filter(Boolean).join("\n") || undefined,
    limits: { deadlineMs: ctx.deadlineMs },
  };
  try {
    return await curityResults(ctx, block, conn);
  } catch (e) {
    return adminFailure("curity", "admin", e, {
      refused: /HTTP 401/,
      authFix: "the admin login failed (HTTP 401): check curity.username and CURITY_PASSWORD",
      reachFix:
        "check that the admin service answers at curity.adminUrl and its CA is trusted (curity.adminCaPem or --ca-file)",
    });
  }
}
