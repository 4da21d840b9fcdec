/**
 * Helpers shared by every CrossGuard rule (the core's and each relying party's): typed reads of
 * resource inputs, the spire chart's settings with the chart's defaults, dependency walks.
 *
 * Rules match resources by type token (no provider SDK is loaded) and read the inputs the
 * program sets. Values unknown during a preview are `undefined`; rules stay silent on them.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "./policy-types";

/** Type tokens of the core resources the rules look at. */
export const CORE_TYPES = {
  helmRelease: "kubernetes:helm.sh/v3:Release",
  clusterSpiffeId: "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID",
  tlsKey: "tls:index/privateKey:PrivateKey",
  command: "command:local:Command",
} as const;

/** Type token of a team stack's component (components/platform): its stack has no SPIRE. */
export const TEAM_STACK_TYPE = "spire-federation:platform:TeamStack";

/** A resource's inputs. */
export type Props = Record<string, unknown>;

/** The value as an object, or `{}`. */
export function obj(v: unknown): Props {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Props) : {};
}

/** The value when it is a string. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The spire chart release: a Helm release of chart `spire`. */
export function isSpireRelease(type: string, props: Props): boolean {
  return type === CORE_TYPES.helmRelease && props.chart === "spire";
}

/** Values of the spire chart that the rules read, with the chart's defaults. */
export function spireChartSettings(props: Props) {
  const values = obj(props.values);
  const global = obj(obj(values.global).spire);
  const server = obj(values["spire-server"]);
  const oidc = obj(values["spiffe-oidc-discovery-provider"]);
  const oidcTls = obj(oidc.tls);
  const sql = obj(obj(server.dataStore).sql);
  return {
    trustDomain: str(global.trustDomain) ?? str(server.trustDomain) ?? "example.org",
    jwtIssuer: str(global.jwtIssuer) ?? str(server.jwtIssuer),
    jwtSvidTtl: str(server.defaultJwtSvidTTL) ?? "1h",
    replicas: typeof server.replicaCount === "number" ? server.replicaCount : 1,
    databaseType: str(sql.databaseType) ?? "sqlite3",
    recommendations: obj(global.recommendations).enabled === true,
    caKeyType: str(server.caKeyType) ?? "rsa-2048",
    caTTL: str(server.caTTL) ?? "24h",
    // The chart defaults to SPIRE's own TLS unless cert-manager, an external secret or an
    // ingress TLS secret provides a certificate.
    oidcOnSpireTls:
      obj(oidcTls.spire).enabled !== false &&
      obj(oidcTls.certManager).enabled !== true &&
      obj(oidcTls.externalSecret).enabled !== true &&
      !str(obj(oidc.ingress).tlsSecret),
  };
}

/** A resource rule that only sees resources of the given types. */
export function resourcePolicy(
  p: Omit<ResourceValidationPolicy, "validateResource"> & {
    types: readonly string[];
    check: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void;
  },
): ResourceValidationPolicy {
  const { types, check, ...rest } = p;
  return {
    ...rest,
    validateResource: (args, report) => {
      if (types.includes(args.type)) check(args.props, args, report);
    },
  };
}

/** A resource rule on the spire chart release, given its settings. */
export function spireReleasePolicy(
  p: Omit<ResourceValidationPolicy, "validateResource"> & {
    check: (
      s: ReturnType<typeof spireChartSettings>,
      args: ResourceValidationArgs,
      report: ReportViolation,
    ) => void;
  },
): ResourceValidationPolicy {
  const { check, ...rest } = p;
  return resourcePolicy({
    ...rest,
    types: [CORE_TYPES.helmRelease],
    check: (props, args, report) => {
      if (isSpireRelease(args.type, props)) check(spireChartSettings(props), args, report);
    },
  });
}

/**
 * A stack rule (mandatory, medium): every resource of `type` waits on the spire release, directly
 * or through others (the controller manager that takes it runs only then).
 */
export function waitsOnSpirePolicy(p: {
  name: string;
  description: string;
  type: string;
}): StackValidationPolicy {
  return {
    name: p.name,
    description: p.description,
    severity: "medium",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      // A team stack's resources wait on nothing here: the platform stack deployed SPIRE.
      if (args.resources.some((r) => r.type === TEAM_STACK_TYPE)) return;
      for (const r of args.resources) {
        if (r.type !== p.type) continue;
        if (!waitsOn(r).some((d) => isSpireRelease(d.type, d.props))) {
          report(`${r.name} does not wait on the spire release`, r.urn);
        }
      }
    },
  };
}

/** Every resource a resource waits on, directly or through others. */
export function waitsOn(resource: PolicyResource): PolicyResource[] {
  const seen = new Map<string, PolicyResource>();
  const todo = [...resource.dependencies];
  while (todo.length > 0) {
    const next = todo.pop() as PolicyResource;
    if (seen.has(next.urn)) continue;
    seen.set(next.urn, next);
    todo.push(...next.dependencies);
  }
  return [...seen.values()];
}
