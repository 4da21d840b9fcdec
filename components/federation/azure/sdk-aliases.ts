/**
 * azure-native's API-version aliases, dropped from the Entra component's resources.
 *
 * Every class of @pulumi/azure-native (3.x) declares one alias per API version of its type, e.g.
 * `managedidentity.UserAssignedIdentity` aliases `azure-native:managedidentity/v20230131:UserAssignedIdentity`
 * and eight more (9 for an identity, 6 for a federated credential, 9 for a role assignment: 24
 * per workload). They let a stack that once registered a resource from a versioned module (v1/v2
 * of the SDK) move to the unversioned class in place. This package has only ever registered the
 * unversioned types, so no state holds a URN with a versioned type under these names: the
 * aliases can never match, yet the SDK turns each into Outputs and a registration field, about a
 * third of the plan's CPU time and half its memory at 1000 workloads (bench/README.md).
 *
 * Only aliases that are exactly `{ type: "<package>:<module>/v<date>[suffix]:<Resource>" }` for the
 * resource's own package, module and name are dropped; every other alias (a name or parent
 * change the package declares, and those the SDK derives from a parent's aliases) is kept.
 */
import type * as pulumi from "@pulumi/pulumi";

/** True when `alias` is nothing but an API-version variant of `type` (an azure-native alias). */
export function isApiVersionAlias(alias: unknown, type: string): boolean {
  if (alias === null || typeof alias !== "object") return false;
  const keys = Object.keys(alias);
  if (keys.length !== 1 || keys[0] !== "type") return false;
  const aliasType = (alias as { type: unknown }).type;
  const [pkg, mod, name, ...rest] = type.split(":");
  if (typeof aliasType !== "string" || rest.length > 0 || pkg !== "azure-native") return false;
  const versioned = aliasType.split(":");
  return (
    versioned.length === 3 &&
    versioned[0] === pkg &&
    versioned[2] === name &&
    new RegExp(`^${mod}/v\\d{8}[a-z]*$`).test(versioned[1])
  );
}

/** A resource transformation that drops azure-native's API-version aliases (see above). */
export const dropApiVersionAliases: pulumi.ResourceTransformation = ({ type, props, opts }) => {
  const aliases = opts.aliases;
  if (!aliases?.some((a) => isApiVersionAlias(a, type))) return undefined;
  return { props, opts: { ...opts, aliases: aliases.filter((a) => !isApiVersionAlias(a, type)) } };
};
