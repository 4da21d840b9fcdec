/**
 * The stack-config schema: raw values from the `spire-federation:` config namespace in, a validated
 * and typed {@link StackModel} out. Every problem is reported at once, each prefixed with its full
 * key path (`spire-federation:workloads[2].namespace: must be a DNS-1123 label`), before any
 * resource is registered. Nothing here reads Pulumi config itself: the program hands in the raw
 * values and the set of keys Pulumi holds as secrets.
 *
 * This module holds the core (trust domain, OIDC, CA, cert-manager, SPIRE, workloads) and the
 * composition; each relying party's block, grants and cross-field rules live in its folder and
 * are reached through the registry.
 */
import type { z } from "zod";
import { anchorsModel, checkSpireUpgrade } from "./core/anchors";
import { coreModel } from "./core/model-build";
import { ConfigError, fieldOf, isRecord, Problems } from "./core/problems";
import { checkComposition } from "./core/rules/composition";
import { providerConfigProblems, REPUBLISHED_PROVIDER_KEYS } from "./core/rules/provider-config";
import { secrecyProblems, secureTexts } from "./core/rules/secrecy";
import { checkCaValidity, checkSpireTtls } from "./core/rules/spire-ttls";
import { checkWorkloads } from "./core/rules/workloads";
import {
  caValidityHours,
  coreSchemas,
  DEFAULT_VERSIONS,
  oidcTlsModel,
  parseWorkload,
  REQUIRED_KEYS,
  topLevelSchema,
  workloadFilesRaw,
} from "./core/schema";
import { JWT_ALGORITHM } from "./core-policies";
import { parseDuration } from "./duration";
import type { AnyRelyingParty } from "./federation/contract";
import {
  relyingParties,
  type RelyingPartyBlocks,
  type RelyingPartyGrants,
} from "./federation/registry";
import type { CoreModel, CoreWorkload } from "./model";
import { checkNodes, parseNodes, type NodesContext } from "./nodes/schema";
import { checkFederation } from "./spire-federation/schema";
import { platformReservedNamespaces, teamStacksProblems } from "./platform/rules";

export type { CaModel, DatastoreModel, OidcTls } from "./model";
export { CONFIG_NAMESPACE, ConfigError, MAX_LISTED_PROBLEMS } from "./core/problems";
export { MAX_JWT_SVID_TTL_SECONDS } from "./core/rules/spire-ttls";
export { DEFAULT_VERSIONS } from "./core/schema";

export { JWT_ALGORITHM, parseDuration };

// ---------------------------------------------------------------------------------------------
// The model the components consume.

/** One workload: its SPIFFE ID and its grants in each relying party. */
export type WorkloadModel = CoreWorkload & RelyingPartyGrants;

/** The validated stack config: the core plus each configured relying party's block. */
export type StackModel = Omit<CoreModel, "workloads"> &
  RelyingPartyBlocks & {
    /** Workloads with their SPIFFE IDs and grants. */
    workloads: WorkloadModel[];
  };

/** Options of {@link parseStackConfig}. */
export interface ParseOptions {
  /**
   * Keys (without namespace) that Pulumi holds as secrets. A key that carries a password must be
   * among them; when omitted, no secrecy check is made (for callers outside a Pulumi program).
   */
  secretKeys?: ReadonlySet<string>;
  /**
   * Key paths (without namespace, in the syntax of `pulumi config set --path`, e.g.
   * `spire.datastore.password`) of the values the stack file holds as `secure:`. The engine only
   * tells a program which top-level keys hold a secret; with these paths each value is checked
   * on its own (see {@link secrecyProblems}). Paths under a key not in `secretKeys` are ignored.
   */
  secretPaths?: ReadonlySet<string>;
  /** `azure-native:subscriptionId` from the stack config (needed by the `azure` block). */
  azureSubscriptionId?: string;
  /** Other config values of other namespaces that blocks read, e.g. `vault:address`. */
  providerConfig?: Readonly<Record<string, string | undefined>>;
  /**
   * Every config value outside the namespace (`vault:address` → value) and which of them are
   * secure: checked by {@link providerConfigProblems}; the keys the blocks read come from here.
   */
  otherConfig?: {
    values: Readonly<Record<string, string>>;
    secretKeys: ReadonlySet<string>;
  };
}

/**
 * Validates the raw stack config (keys without the namespace prefix, values already
 * JSON-decoded) and returns the typed model.
 * @throws ConfigError listing every problem, each with its full key path.
 */
export function parseStackConfig(
  raw: Readonly<Record<string, unknown>>,
  options: ParseOptions = {},
): StackModel {
  const problems = new Problems();
  const report = problems.report;
  const parties: readonly AnyRelyingParty[] = relyingParties;
  const known = new Set<string>([...Object.keys(coreSchemas), ...parties.map((p) => p.key)]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      problems.add([key], "unknown key");
    }
  }
  for (const key of REQUIRED_KEYS) {
    if (raw[key] === undefined) {
      problems.add([key], "required");
    }
  }
  const get = <T>(key: string, schema: z.ZodType<T>): T | undefined =>
    raw[key] === undefined ? undefined : problems.parse(schema, raw[key], [key]);
  const trustDomain = get("trustDomain", coreSchemas.trustDomain);
  const clusterName = get("clusterName", coreSchemas.clusterName);
  const oidc = get("oidc", coreSchemas.oidc);
  const ca = get("ca", coreSchemas.ca);
  const certManager = get("certManager", coreSchemas.certManager) ?? {};
  const spire = raw.spire === undefined ? {} : get("spire", coreSchemas.spire);
  const workloadList = get("workloads", coreSchemas.workloads);
  const workloadFiles = get("workloadFiles", coreSchemas.workloadFiles) ?? {};
  const teamStacks = get("teamStacks", coreSchemas.teamStacks) ?? {};
  if (raw.platform !== undefined) {
    problems.add(
      ["platform"],
      "a team stack's config is parsed by parseTeamConfig (components/platform)",
    );
  }
  const anchors = get("anchors", coreSchemas.anchors);
  const nodesCtx: NodesContext = {
    report,
    parse: (schema, value, path) => problems.parse(schema, value, path),
  };
  const { nodes, names: nodeNames } = parseNodes(raw.nodes, nodesCtx);

  // Cross-field rules read each field on its own, so that one bad field in a section does not
  // hide another rule's problem in the same section; a rule whose field is invalid skips.
  const spireRaw = isRecord(raw.spire) ? raw.spire : {};
  type SpireShape = typeof coreSchemas.spire.shape;
  const spireField = <K extends keyof SpireShape>(key: K) =>
    fieldOf(coreSchemas.spire.shape[key], spireRaw[key]) as {
      valid: boolean;
      value: z.output<SpireShape[K]> | undefined;
    };
  const caTTL = spireField("caTTL");
  const x509SvidTTL = spireField("x509SvidTTL");
  const jwtSvidTTL = spireField("jwtSvidTTL");
  const datastoreField = spireField("datastore");
  const replicas = spireField("replicas");
  const caKeyType = spireField("caKeyType");
  const valid = <T>(f: { valid: boolean; value: T | undefined }, fallback: T): T | undefined =>
    f.valid ? (f.value ?? fallback) : undefined;
  const ttls = {
    caTTL: valid(caTTL, "24h"),
    x509SvidTTL: valid(x509SvidTTL, "4h"),
    jwtSvidTTL: valid(jwtSvidTTL, "1h"),
    replicas: valid(replicas, 1),
    datastoreType: valid(datastoreField, { type: "sqlite3" as const })?.type,
    caValidityHours: caValidityHours(raw.ca),
  };
  const blocks = new Map<string, unknown>();
  for (const p of parties) {
    blocks.set(p.key, get(p.key, p.blockSchema));
  }
  checkSpireTtls(ttls, report);
  const spireChart = spireField("chartVersion");
  if (spireChart.valid) {
    checkSpireUpgrade(
      anchors?.deployedSpireChart,
      spireChart.value ?? DEFAULT_VERSIONS.spire,
      report,
    );
  }
  if (options.secretKeys !== undefined) {
    const problemsOfSecrecy = secrecyProblems(
      raw,
      topLevelSchema,
      options.secretKeys,
      options.secretPaths,
    );
    for (const [path, message] of problemsOfSecrecy) problems.addUnquoted(path, message);
  }
  checkCaValidity(ttls, report);

  const filesEnabled = fieldOf(coreSchemas.workloadFiles.shape.enabled, workloadFilesRaw(raw));
  const { workloads, grants, nodeWorkloads } = checkWorkloads(
    {
      entries: workloadList ?? [],
      trustDomain,
      filesEnabled: filesEnabled.value ?? true,
      nodeNames,
      parties,
      hasKey: (key) => raw[key] !== undefined,
      parse: (entry, i) => parseWorkload(problems, entry, i),
    },
    report,
  );

  // The namespaces the platform gives its team stacks (components/platform/rules.ts).
  for (const p of teamStacksProblems(
    teamStacks,
    platformReservedNamespaces(certManager.namespace, workloads),
  )) {
    problems.add(p.path, p.message);
  }

  const oidcRaw = isRecord(raw.oidc) ? raw.oidc : {};
  checkNodes(
    {
      nodes,
      server: spireRaw.server,
      oidc: {
        host: typeof oidcRaw.host === "string" ? oidcRaw.host : undefined,
        ingressControllerType:
          typeof oidcRaw.ingressControllerType === "string"
            ? oidcRaw.ingressControllerType
            : undefined,
      },
      nodeWorkloads,
    },
    nodesCtx,
  );

  const federation = checkFederation(
    get("federation", coreSchemas.federation),
    raw.federation !== undefined,
    {
      ...nodesCtx,
      trustDomain,
      caTTL: ttls.caTTL,
      otherHosts: {
        "oidc.host": typeof oidcRaw.host === "string" ? oidcRaw.host : undefined,
        "spire.server.exposure.host":
          isRecord(spireRaw.server) &&
          isRecord(spireRaw.server.exposure) &&
          typeof spireRaw.server.exposure.host === "string"
            ? spireRaw.server.exposure.host
            : undefined,
      },
      oidcIngressClassName:
        typeof oidcRaw.ingressClassName === "string" ? oidcRaw.ingressClassName : undefined,
      ingressControllerType:
        typeof oidcRaw.ingressControllerType === "string"
          ? oidcRaw.ingressControllerType
          : "ingress-nginx",
      workloads: workloadList ?? [],
    },
  );

  // Each relying party's own rules, then the needs the core checks once for all of them.
  const other = options.otherConfig;
  const providerConfig: Record<string, string | undefined> = {
    ...options.providerConfig,
    ...(other === undefined
      ? {}
      : Object.fromEntries(
          Object.keys(REPUBLISHED_PROVIDER_KEYS).map((k) => [k, other.values[k]]),
        )),
  };
  providerConfig["azure-native:subscriptionId"] ??= options.azureSubscriptionId;
  if (other !== undefined) {
    problems.lines.push(
      ...providerConfigProblems(other.values, (key) => other.secretKeys.has(key)),
    );
  }
  const tls = fieldOf(coreSchemas.oidc.shape.tls, oidcRaw.tls).value;
  const oidcTls = tls === undefined ? undefined : oidcTlsModel(tls);
  checkComposition(
    {
      raw,
      parties,
      blocks,
      grants,
      core: { trustDomain, caMode: ca?.mode, caKeyType: caKeyType.value ?? "rsa-2048", oidcTls },
      caKeyTypeValid: caKeyType.valid,
      caTTL: ttls.caTTL,
      tlsKind: isRecord(oidcRaw.tls) ? Object.keys(oidcRaw.tls) : [],
      providerConfig,
      reportOther: (fullKey, message) => problems.lines.push(`${fullKey}: ${message}`),
    },
    report,
  );

  if (
    problems.lines.length > 0 ||
    trustDomain === undefined ||
    clusterName === undefined ||
    oidc === undefined ||
    tls === undefined ||
    ca === undefined ||
    spire === undefined
  ) {
    const texts = [
      ...(options.secretKeys === undefined
        ? []
        : secureTexts(raw, topLevelSchema, options.secretKeys, options.secretPaths)),
      ...[...(other?.secretKeys ?? [])].flatMap((k) => other?.values[k] ?? []),
    ];
    throw new ConfigError(problems.redacted(texts));
  }

  const model: StackModel = {
    ...coreModel({
      trustDomain,
      clusterName,
      oidc,
      tls,
      ca,
      certManager,
      spire,
      workloadFiles,
      nodes,
      teamStacks,
    }),
    ...(federation === undefined ? {} : { federation }),
    anchors: anchorsModel(anchors),
    workloads,
  };
  // Each configured relying party's block, and each workload's grants, with defaults.
  const blockModels = model as Record<string, unknown>;
  for (const p of parties) {
    const block = blocks.get(p.key);
    if (block === undefined) continue;
    const blockModel: unknown = p.model(block, { providerConfig });
    blockModels[p.key] = blockModel;
    for (const { workload, grant } of grants.get(p.key) ?? []) {
      (workload as unknown as Record<string, unknown>)[p.key] = p.grant(
        grant,
        workload,
        blockModel,
      );
    }
  }
  return model;
}
