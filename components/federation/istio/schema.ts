/**
 * `spire-federation:istio` and `workloads[i].istio`: the schemas and Istio's cross-field rules.
 */
import { z } from "zod";
import { dnsLabel, ruled } from "../../config-fields";
import { formatSpiffeId } from "../../spiffe-id";
import type { CheckContext } from "../contract";
import {
  chartVersionProblem,
  DEFAULT_GATEWAY_NAME,
  DEFAULT_GATEWAY_NAMESPACE,
  DEFAULT_ISTIO_VERSION,
  meshNamespaceProblem,
  meshSpiffePath,
  MTLS_MODES,
  revisionProblem,
  type MtlsMode,
} from "./rules";
import { GATEWAY_SERVICE_TYPES, type GatewayServiceType, type IstioGateway } from "./values";

const SERVICE_TYPE_ERROR = `must be ${GATEWAY_SERVICE_TYPES.slice(0, -1).join(", ")} or ${GATEWAY_SERVICE_TYPES.at(-1)}`;

const gatewaySchema = z.strictObject({
  namespace: dnsLabel.optional(),
  name: dnsLabel.optional(),
  // A refinement, not an enum: its failure keeps the union's message on this key.
  serviceType: z
    .string({ error: SERVICE_TYPE_ERROR })
    .refine((t) => (GATEWAY_SERVICE_TYPES as readonly string[]).includes(t), {
      error: SERVICE_TYPE_ERROR,
    })
    .transform((t) => t as GatewayServiceType)
    .optional(),
});

/** Schema of `spire-federation:istio`. */
export const istioBlockSchema = z.strictObject({
  install: z.boolean({ error: "must be true or false" }).optional(),
  chartVersion: ruled(chartVersionProblem).optional(),
  revision: ruled(revisionProblem).optional(),
  ingressGateway: z
    .union([z.boolean(), gatewaySchema], {
      error: (iss) =>
        iss.code === "invalid_union"
          ? "must be true, false or { namespace?, name?, serviceType? }"
          : undefined,
    })
    .optional(),
  trustDomain: z.string().optional(),
  mtls: z.enum(MTLS_MODES, { error: `must be ${MTLS_MODES.join(" or ")}` }).optional(),
});

/** Schema of `workloads[i].istio`. */
export const istioGrantSchema = z.strictObject({
  mesh: z.boolean({ error: "must be true or false" }).optional(),
});

/** The parsed `spire-federation:istio` block. */
export type IstioBlockInput = z.output<typeof istioBlockSchema>;
/** A parsed `workloads[i].istio` grant. */
export type IstioGrantInput = z.output<typeof istioGrantSchema>;

/** The Istio settings, with defaults applied. */
export interface IstioBlock {
  /** Install Istio's charts (base, istiod, gateway). Default: true. */
  install: boolean;
  /** Version of Istio's charts. Default: 1.30.3. */
  chartVersion: string;
  /** istiod revision; undefined for the default revision. */
  revision?: string;
  /** The ingress gateway; undefined when there is none. Default: none. */
  ingressGateway?: IstioGateway;
  /** Mesh-wide PeerAuthentication mode; undefined: none. */
  mtls?: MtlsMode;
}

/** One workload's Istio grant, with defaults applied. */
export interface IstioGrant {
  /** The workload joins the mesh. Default: true. */
  mesh: boolean;
}

function gatewayOf(g: IstioBlockInput["ingressGateway"]): IstioGateway | undefined {
  if (g === undefined || g === false) return undefined;
  const o = g === true ? {} : g;
  return {
    namespace: o.namespace ?? DEFAULT_GATEWAY_NAMESPACE,
    name: o.name ?? DEFAULT_GATEWAY_NAME,
    ...(o.serviceType === undefined ? {} : { serviceType: o.serviceType }),
  };
}

/** Istio's cross-field rules. */
export function checkIstio(ctx: CheckContext<IstioBlockInput, IstioGrantInput>): void {
  const b = ctx.block;
  const td = ctx.core.trustDomain;
  if (b === undefined) return;
  if (b.trustDomain !== undefined && td !== undefined && b.trustDomain !== td) {
    ctx.report(
      ["istio", "trustDomain"],
      `must equal trustDomain ${JSON.stringify(td)} (it is ${JSON.stringify(b.trustDomain)}); Istio's proxies accept only peers of meshConfig.trustDomain, and SPIRE issues every SVID in ${td}: remove istio.trustDomain or set it to ${td}`,
    );
  }
  if (b.install === false && b.chartVersion !== undefined) {
    ctx.report(
      ["istio", "chartVersion"],
      "is only used with install: true; remove it or install Istio with this stack",
    );
  }
  // Every workload, with or without an Istio grant: its ClusterSPIFFEID could select the gateway.
  const gateway = gatewayOf(b.ingressGateway);
  const workloads = Array.isArray(ctx.raw.workloads) ? (ctx.raw.workloads as unknown[]) : [];
  workloads.forEach((w, index) => {
    const namespace = (w as { namespace?: unknown } | null)?.namespace;
    if (gateway !== undefined && namespace === gateway.namespace) {
      ctx.report(
        ["workloads", index, "namespace"],
        `${gateway.namespace} is the ingress gateway's namespace; give the workload its own, so that no ClusterSPIFFEID but the gateway's selects the gateway's pods`,
      );
    }
  });
  if (gateway !== undefined) {
    const problem = meshNamespaceProblem(gateway.namespace, { gateway: true });
    if (problem !== undefined) ctx.report(["istio", "ingressGateway", "namespace"], problem);
  }
  for (const { index, workload, grant } of ctx.grants) {
    if (workload.mode === "node") {
      ctx.report(
        ["workloads", index, "istio"],
        "is for pod workloads only; Istio's proxies run in Kubernetes pods, and a node workload has no namespace or service account for a /ns/<namespace>/sa/<service account> ID: remove it",
      );
      continue;
    }
    if (grant.mesh === false) continue;
    const nsProblem = meshNamespaceProblem(workload.namespace);
    if (nsProblem !== undefined) ctx.report(["workloads", index, "namespace"], nsProblem);
    if (td === undefined) continue;
    const path = meshSpiffePath(workload.namespace, workload.serviceAccount);
    if (workload.spiffeId !== formatSpiffeId(td, path)) {
      ctx.report(
        ["workloads", index, "spiffeIdPath"],
        `must be unset or ${path} for a mesh workload: Istio accepts only SPIFFE IDs of the form /ns/<namespace>/sa/<service account>`,
      );
    }
  }
}

/** The block with defaults. */
export function istioModel(b: IstioBlockInput): IstioBlock {
  return {
    install: b.install ?? true,
    chartVersion: b.chartVersion ?? DEFAULT_ISTIO_VERSION,
    revision: b.revision,
    ingressGateway: gatewayOf(b.ingressGateway),
    mtls: b.mtls,
  };
}

/** A grant with defaults. */
export function istioGrant(g: IstioGrantInput): IstioGrant {
  return { mesh: g.mesh ?? true };
}
