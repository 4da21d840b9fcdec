/**
 * The relying parties composed with the core: each party's own cross-field rules (its `check`),
 * then the needs the core checks once for all of them — a publicly trusted discovery endpoint
 * (not SPIRE's own certificate, not a staging ACME server) and a JWT signing algorithm the party
 * verifies, and a signing-key lead its JWKS cache can follow (rotation-lead.ts). A party whose
 * block is invalid still runs its `check` (with `block` undefined); the needs, which read the
 * block, skip it.
 */
import { acmeStagingHost } from "../../config-fields";
import { JWT_ALGORITHM } from "../../core-policies";
import type { AnyRelyingParty, CheckContext, GrantEntry } from "../../federation/contract";
import type { CaKeyType } from "../../model";
import type { Report } from "../problems";
import { checkRotationLead } from "./rotation-lead";

/** What the composition rules read. */
export interface CompositionInput {
  /** The raw stack config (keys without namespace). */
  raw: Readonly<Record<string, unknown>>;
  /** The relying parties, in registry order. */
  parties: readonly AnyRelyingParty[];
  /** Each party's parsed block (undefined when unset or invalid). */
  blocks: ReadonlyMap<string, unknown>;
  /** Each party's valid grants. */
  grants: ReadonlyMap<string, GrantEntry<unknown>[]>;
  /** The core fields the parties read. */
  core: CheckContext<unknown, unknown>["core"];
  /** `spire.caTTL` (its default when unset), or undefined when invalid: for the rotation rule. */
  caTTL?: string;
  /** Whether `spire.caKeyType` is valid (or unset): the JWT algorithm rule skips otherwise. */
  caKeyTypeValid: boolean;
  /** The keys under `oidc.tls` as written (whatever their values). */
  tlsKind: readonly string[];
  /** Config values of other namespaces the blocks read. */
  providerConfig: Readonly<Record<string, string | undefined>>;
  /** Reports a problem with a key of another namespace. */
  reportOther: (fullKey: string, message: string) => void;
}

/** Runs every party's rules and the needs the core checks for them. */
export function checkComposition(input: CompositionInput, report: Report): void {
  const { core } = input;
  const { caKeyType, oidcTls } = core;
  const stagingHost = oidcTls?.kind === "acme" ? acmeStagingHost(oidcTls.server) : undefined;
  for (const p of input.parties) {
    const block = input.blocks.get(p.key);
    const partyGrants = input.grants.get(p.key) ?? [];
    p.check?.({
      raw: input.raw,
      block,
      core,
      grants: partyGrants,
      providerConfig: input.providerConfig,
      report,
      reportOther: input.reportOther,
    });
    if (block === undefined) continue;
    const publicNeed = p.publicIssuer?.(block);
    if (publicNeed !== undefined && input.tlsKind.includes("spire")) {
      report(publicNeed.path, publicIssuerProblem(publicNeed));
    }
    if (publicNeed !== undefined && stagingHost !== undefined) {
      report(["oidc", "tls", "acme", "server"], stagingServerProblem(stagingHost, publicNeed));
    }
    const jwtNeed = p.jwtAlgorithms?.(block, partyGrants);
    if (
      input.caKeyTypeValid &&
      jwtNeed !== undefined &&
      !jwtNeed.algorithms.includes(JWT_ALGORITHM[caKeyType])
    ) {
      const allowed = (Object.keys(JWT_ALGORITHM) as CaKeyType[]).filter((k) =>
        jwtNeed.algorithms.includes(JWT_ALGORITHM[k]),
      );
      report(
        ["spire", "caKeyType"],
        `must be ${joinOr(allowed)} ${jwtNeed.when}: ${jwtNeed.reason}, and SPIRE signs JWT-SVIDs with its CA key (${caKeyType})`,
      );
    }
  }
  checkRotationLead(input, report);
}

/** The message for a relying party that needs a publicly trusted discovery endpoint. */
function publicIssuerProblem(need: { reason: string; alternative?: string }): string {
  const fix =
    need.alternative === undefined
      ? "use acme or secretName, not spire"
      : `set oidc.tls to acme or secretName, ${need.alternative}`;
  return `${need.reason} and needs a publicly trusted certificate: ${fix}`;
}

/** The message for a relying party that needs a public certificate while ACME is on staging. */
function stagingServerProblem(
  host: string,
  need: { reason: string; alternative?: string },
): string {
  const fix =
    "set oidc.tls.acme.server to a production ACME directory (or remove it: Let's Encrypt production is the default)";
  return (
    `is the staging ACME server ${host}, whose certificates no client trusts; ` +
    `${need.reason} and needs a publicly trusted certificate: ${fix}` +
    (need.alternative === undefined ? "" : `, ${need.alternative}`)
  );
}

function joinOr(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
