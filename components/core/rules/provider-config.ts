/**
 * Config outside the `spire-federation:` namespace: the provider keys the package reads and
 * republishes in plain outputs must not be secure, and a key the package would silently ignore
 * (a misspelled provider key, a misspelled project namespace) is an error.
 */
import { CONFIG_NAMESPACE } from "../problems";

/** A provider config key the package reads and republishes, in plain, in its outputs. */
interface RepublishedKey {
  /** What to write in `pulumi config set <key> <value>`. */
  value: string;
  /** Where the value is republished in plain. */
  where: string;
}

/** Every provider config key the package reads; none of them may be secure. */
export const REPUBLISHED_PROVIDER_KEYS: Readonly<Record<string, RepublishedKey>> = {
  "vault:address": {
    value: "<url>",
    where: "workloads get it as VAULT_ADDR in their plain environment",
  },
  "azure-native:subscriptionId": {
    value: "<id>",
    where: "it is part of the role assignments' scopes, in plain in the plan and the state",
  },
};

/** The config keys a provider accepts: the getters of its SDK's `config/vars` module. */
function providerConfigKeys(namespace: string): ReadonlySet<string> | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vars = require(`@pulumi/${namespace}/config/vars`) as Record<string, unknown>;
    return new Set(Object.keys(vars));
  } catch {
    return undefined;
  }
}

/** Levenshtein distance, capped: anything above `max` is `max + 1`. */
function distance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return Math.min(prev[b.length], max + 1);
}

/** The closest of `candidates` within two edits (case-insensitively), if one is. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/**
 * Problems of the config outside the project namespace: `config` is every `<namespace>:<key>`
 * the stack holds (values as the engine hands them), `secret` tells which are secure.
 */
export function providerConfigProblems(
  config: Readonly<Record<string, string>>,
  secret: (fullKey: string) => boolean,
): string[] {
  const problems: string[] = [];
  const namespaces = new Set(Object.keys(REPUBLISHED_PROVIDER_KEYS).map((k) => k.split(":")[0]));
  for (const fullKey of Object.keys(config).sort()) {
    const colon = fullKey.indexOf(":");
    const [namespace, key] = [fullKey.slice(0, colon), fullKey.slice(colon + 1)];
    if (namespace === CONFIG_NAMESPACE) continue;
    const republished = REPUBLISHED_PROVIDER_KEYS[fullKey];
    if (republished !== undefined && secret(fullKey)) {
      problems.push(
        `${fullKey}: must not be secure; ${republished.where} (it is not a secret): set it with pulumi config set ${fullKey} ${republished.value}`,
      );
    }
    if (namespaces.has(namespace)) {
      const known = providerConfigKeys(namespace);
      if (known !== undefined && !known.has(key)) {
        const near = closest(key, known);
        problems.push(
          `${fullKey}: unknown key of the ${namespace} provider` +
            (near === undefined ? "" : `: did you mean ${namespace}:${near}`),
        );
      }
    } else if (distance(namespace, CONFIG_NAMESPACE) <= 2) {
      problems.push(
        `${fullKey}: unknown namespace ${namespace}: did you mean ${CONFIG_NAMESPACE}:${key}`,
      );
    }
  }
  return problems;
}
