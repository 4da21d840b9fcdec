/**
 * Role trust policies: built by the component (one statement per path a role serves) and read
 * back by the policies, so that what the component writes and what the rules demand are one
 * shape. Every subject is an exact SPIFFE ID under `StringEquals`; nothing here ever writes
 * `StringLike` or a wildcard.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  ROLES_ANYWHERE_ACTIONS,
  ROLES_ANYWHERE_SERVICE,
  WEB_IDENTITY_ACTION,
  X509_SAN_URI_KEY,
} from "./rules";

/** One statement of a trust policy (IAM's JSON names). */
export interface TrustStatement {
  /** Statement ID. */
  Sid: string;
  /** Always `Allow`. */
  Effect: "Allow";
  /** Who may assume the role. */
  Principal: { Federated: pulumi.Input<string> } | { Service: string };
  /** What it may call. */
  Action: string | string[];
  /** Exact matches only. */
  Condition: Record<string, Record<string, pulumi.Input<string> | string[]>>;
}

/** A role's trust policy. */
export interface TrustPolicy {
  /** IAM policy language version. */
  Version: "2012-10-17";
  /** One statement per path. */
  Statement: TrustStatement[];
}

/** One value, or the list when several (IAM ORs the values of one condition key). */
function oneOrMany(values: readonly string[]): string | string[] {
  return values.length === 1 ? values[0] : [...values];
}

/**
 * `sts:AssumeRoleWithWebIdentity` for the OIDC provider only, for exactly these SPIFFE IDs and
 * the audience (`<issuer host>:sub`, `<issuer host>:aud`).
 */
export function webIdentityStatement(
  providerArn: pulumi.Input<string>,
  host: string,
  subjects: readonly string[],
  audience: string,
): TrustStatement {
  return {
    Sid: "SpiffeJwtSvid",
    Effect: "Allow",
    Principal: { Federated: providerArn },
    Action: WEB_IDENTITY_ACTION,
    Condition: {
      StringEquals: { [`${host}:sub`]: oneOrMany(subjects), [`${host}:aud`]: audience },
    },
  };
}

/**
 * Roles Anywhere for exactly these SPIFFE IDs (the certificate's URI SAN), through this trust
 * anchor only.
 */
export function rolesAnywhereStatement(
  trustAnchorArn: pulumi.Input<string>,
  subjects: readonly string[],
): TrustStatement {
  return {
    Sid: "SpiffeX509Svid",
    Effect: "Allow",
    Principal: { Service: ROLES_ANYWHERE_SERVICE },
    Action: [...ROLES_ANYWHERE_ACTIONS],
    Condition: {
      StringEquals: { [X509_SAN_URI_KEY]: oneOrMany(subjects) },
      ArnEquals: { "aws:SourceArn": trustAnchorArn },
    },
  };
}

type Json = Record<string, unknown>;

function asList(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function record(v: unknown): Json {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

/** The statements of a trust policy as a resource's input holds it (object or JSON string). */
export function trustStatements(policy: unknown): Json[] | string {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return "is not JSON";
    }
  }
  return asList(record(doc).Statement).map(record);
}

/** The condition operators of a statement whose keys end with `suffix` (or equal it). */
function operatorsOn(statement: Json, matches: (key: string) => boolean): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const [operator, block] of Object.entries(record(statement.Condition))) {
    for (const [key, value] of Object.entries(record(block))) {
      if (matches(key.toLowerCase()))
        out.set(operator, [...(out.get(operator) ?? []), ...asList(value)]);
    }
  }
  return out;
}

/** Why one condition key's match is not exact, or `undefined`. */
function exactMatchProblem(operators: Map<string, unknown[]>, label: string): string | undefined {
  const loose = [...operators.keys()].filter((op) => op !== "StringEquals");
  if (loose.length > 0) {
    return `matches ${label} with ${loose.join(", ")}: only StringEquals on exact values`;
  }
  const values = operators.get("StringEquals");
  if (values === undefined || values.length === 0)
    return `has no StringEquals condition on ${label}`;
  const wild = values.filter((v) => typeof v === "string" && /[*?]/.test(v));
  if (wild.length > 0)
    return `has a wildcard in ${label} (${wild.join(", ")}): exact SPIFFE IDs only`;
  return undefined;
}

/** True when a statement lets web identities (an IAM OIDC provider) assume the role. */
export function isWebIdentityStatement(s: Json): boolean {
  const federated = asList(record(s.Principal).Federated);
  return (
    asList(s.Action).includes(WEB_IDENTITY_ACTION) ||
    federated.some((f) => typeof f === "string" && f.includes(":oidc-provider/"))
  );
}

/** True when a statement lets Roles Anywhere assume the role. */
export function isRolesAnywhereStatement(s: Json): boolean {
  return asList(record(s.Principal).Service).includes(ROLES_ANYWHERE_SERVICE);
}

/**
 * Why a web identity statement admits more than exact SPIFFE IDs with the exact audience, one
 * sentence each: `sub` and `aud` under `StringEquals` only (keys `<issuer host>:sub|aud`).
 */
export function webIdentityProblems(s: Json): string[] {
  if (record(s).Effect !== "Allow") return [];
  const problems: string[] = [];
  const federated = asList(record(s.Principal).Federated).filter((f) => typeof f === "string");
  const host = federated
    .map((f) => /:oidc-provider\/(.+)$/.exec(f)?.[1])
    .find((h) => h !== undefined);
  for (const claim of ["sub", "aud"]) {
    const key = host === undefined ? `<issuer>:${claim}` : `${host}:${claim}`;
    const ops = operatorsOn(s, (k) =>
      host === undefined ? k.endsWith(`:${claim}`) : k === `${host}:${claim}`.toLowerCase(),
    );
    const p = exactMatchProblem(ops, key);
    if (p !== undefined) problems.push(p);
  }
  return problems;
}

/**
 * Why a Roles Anywhere statement admits more than exact SPIFFE IDs through one trust anchor:
 * `aws:PrincipalTag/x509SAN/URI` under `StringEquals`, `aws:SourceArn` under `ArnEquals`.
 */
export function rolesAnywhereProblems(s: Json): string[] {
  if (record(s).Effect !== "Allow") return [];
  const problems: string[] = [];
  const san = exactMatchProblem(
    operatorsOn(s, (k) => k === X509_SAN_URI_KEY.toLowerCase()),
    X509_SAN_URI_KEY,
  );
  if (san !== undefined) problems.push(san);
  const source = operatorsOn(s, (k) => k === "aws:sourcearn");
  const arns = source.get("ArnEquals");
  // During a preview the trust anchor's ARN is unknown and its key is absent: an empty ArnEquals.
  const pending =
    Object.keys(record(record(s.Condition).ArnEquals)).length === 0 &&
    "ArnEquals" in record(s.Condition);
  if (pending && source.size === 0) return problems;
  if (arns === undefined || [...source.keys()].some((op) => op !== "ArnEquals")) {
    problems.push("does not pin aws:SourceArn to the trust anchor with ArnEquals");
  } else if (arns.some((a) => typeof a === "string" && a.includes("*"))) {
    problems.push("has a wildcard in aws:SourceArn: name the trust anchor");
  }
  return problems;
}
