/**
 * Istio's CrossGuard rules: the mesh's trust domain is SPIRE's, the injection template mounts
 * SPIRE's socket where istio-agent looks for it, and Istio starts only after SPIRE (the gateway
 * only after its identity).
 */
import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { parse } from "yaml";
import {
  CORE_TYPES,
  isSpireRelease,
  obj,
  resourcePolicy,
  spireChartSettings,
  str,
  waitsOn,
  type Props,
} from "../../policy-kit";
import type { Policy } from "../contract";
import {
  ISTIO_DEFAULT_TRUST_DOMAIN,
  ISTIO_REPO,
  listsSpireTemplate,
  meshNamespaceProblem,
  SPIFFE_CSI_DRIVER,
  SPIRE_TEMPLATE,
  TEMPLATES_ANNOTATION,
  WORKLOAD_SOCKET_DIR,
  WORKLOAD_SOCKET_DIR_DOCUMENTED,
  WORKLOAD_SOCKET_VOLUME,
} from "./rules";

/** Type tokens of the resources Istio's rules look at. */
export const ISTIO_TYPES = {
  helmRelease: CORE_TYPES.helmRelease,
  peerAuthentication: "kubernetes:security.istio.io/v1:PeerAuthentication",
} as const;

/** An Istio chart's release: chart `base`, `istiod` or `gateway` from Istio's repository. */
export function isIstioRelease(type: string, props: Props, chart?: string): boolean {
  return (
    type === CORE_TYPES.helmRelease &&
    str(obj(props.repositoryOpts).repo)?.replace(/\/+$/, "") === ISTIO_REPO &&
    (chart === undefined ? ["base", "istiod", "gateway"] : [chart]).includes(str(props.chart) ?? "")
  );
}

/** The trust domain istiod's values give the mesh, or undefined while the values are unknown. */
function meshTrustDomain(props: Props): string | undefined {
  if (props.values === undefined) return undefined;
  return str(obj(obj(props.values).meshConfig).trustDomain) ?? ISTIO_DEFAULT_TRUST_DOMAIN;
}

/** What is wrong with istiod's spire injection template, one sentence each. */
export function spireTemplateProblems(template: unknown): string[] {
  if (typeof template !== "string") {
    return [
      `sidecarInjectorWebhook.templates.${SPIRE_TEMPLATE} is not set: pods that ask for it fail injection, the others get istiod's certificates instead of SPIRE's`,
    ];
  }
  let doc: unknown;
  try {
    doc = parse(template);
  } catch (e) {
    return [`the ${SPIRE_TEMPLATE} template is not YAML: ${(e as Error).message.split("\n")[0]}`];
  }
  const spec = obj(obj(doc).spec);
  const volumes = Array.isArray(spec.volumes) ? spec.volumes.map(obj) : [];
  const socket = volumes.find((v) => v.name === WORKLOAD_SOCKET_VOLUME);
  const problems: string[] = [];
  const csi = obj(socket?.csi);
  if (str(csi.driver) !== SPIFFE_CSI_DRIVER) {
    problems.push(
      `the ${SPIRE_TEMPLATE} template does not give the ${WORKLOAD_SOCKET_VOLUME} volume the SPIFFE CSI driver (csi: { driver: ${SPIFFE_CSI_DRIVER}, readOnly: true }): istio-agent would find no SPIRE socket and use istiod's CA`,
    );
  } else if (csi.readOnly !== true) {
    problems.push(
      `the ${SPIRE_TEMPLATE} template's CSI volume is not readOnly: the SPIFFE CSI driver mounts read-only volumes only`,
    );
  }
  const containers = [spec.containers, spec.initContainers].flatMap((c) =>
    Array.isArray(c) ? c.map(obj) : [],
  );
  for (const c of containers) {
    const mounts = Array.isArray(c.volumeMounts) ? c.volumeMounts.map(obj) : [];
    for (const m of mounts) {
      const path = str(m.mountPath)?.replace(/\/+$/, "");
      if (
        m.name === WORKLOAD_SOCKET_VOLUME &&
        path !== WORKLOAD_SOCKET_DIR &&
        path !== WORKLOAD_SOCKET_DIR_DOCUMENTED
      ) {
        problems.push(
          `the ${SPIRE_TEMPLATE} template mounts ${WORKLOAD_SOCKET_VOLUME} into ${str(c.name) ?? "a container"} at ${String(m.mountPath)}; istio-agent looks for the socket in ${WORKLOAD_SOCKET_DIR}`,
        );
      }
    }
  }
  return problems;
}

/** Whether `r` waits on a ClusterSPIFFEID that issues `/ns/<namespace>/sa/<serviceAccount>`. */
function waitsOnIdentity(r: PolicyResource, namespace: string, serviceAccount: string): boolean {
  const suffix = `/ns/${namespace}/sa/${serviceAccount}`;
  return waitsOn(r).some(
    (d) =>
      d.type === CORE_TYPES.clusterSpiffeId &&
      (str(obj(d.props.spec).spiffeIDTemplate) ?? "").endsWith(suffix),
  );
}

/** The rules. */
export const istioPolicies: Policy[] = [
  {
    name: "istio-trust-domain",
    description:
      "istiod's meshConfig.trustDomain equals SPIRE's trust domain: proxies accept only peers of the mesh's trust domain.",
    severity: "high",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const spire = args.resources.find((r) => isSpireRelease(r.type, r.props));
      if (spire === undefined) return;
      const spireTd = spireChartSettings(spire.props).trustDomain;
      for (const r of args.resources) {
        if (!isIstioRelease(r.type, r.props, "istiod")) continue;
        const meshTd = meshTrustDomain(r.props);
        if (meshTd !== undefined && meshTd !== spireTd) {
          report(
            `meshConfig.trustDomain is ${meshTd} but SPIRE issues SVIDs in ${spireTd}: every proxy would reject its peers' certificates; set meshConfig.trustDomain to ${spireTd}`,
            r.urn,
          );
        }
      }
    },
  },
  resourcePolicy({
    name: "istio-spire-template",
    description:
      "istiod's spire injection template mounts SPIRE's Workload API socket (CSI csi.spiffe.io) where istio-agent looks for it, and the gateway's pods ask for it in a namespace that Istio injects and SPIRE's controller manager does not ignore.",
    severity: "high",
    enforcementLevel: "mandatory",
    types: [CORE_TYPES.helmRelease],
    check: (props, args, report) => {
      if (props.values === undefined) return;
      const values = obj(props.values);
      if (isIstioRelease(args.type, props, "istiod")) {
        const templates = obj(obj(values.sidecarInjectorWebhook).templates);
        for (const p of spireTemplateProblems(templates[SPIRE_TEMPLATE])) report(p);
      } else if (isIstioRelease(args.type, props, "gateway")) {
        // The chart's default annotation is "gateway" alone.
        const annotation = str(obj(values.podAnnotations)[TEMPLATES_ANNOTATION]) ?? "gateway";
        if (!listsSpireTemplate(annotation)) {
          report(
            `the gateway's pods are injected with "${annotation}" only: their proxy would use istiod's certificates, which SPIRE-backed peers reject; set podAnnotations["${TEMPLATES_ANNOTATION}"] to "gateway,${SPIRE_TEMPLATE}"`,
          );
        }
        const namespace = str(props.namespace) ?? "default";
        const problem = meshNamespaceProblem(namespace, { gateway: true });
        if (problem !== undefined) report(`the gateway's namespace ${problem}`);
      }
    },
  }),
  {
    name: "istio-waits-on-spire",
    description:
      "Istio's releases wait on the SPIRE release (its CSI driver), and the gateway on the ClusterSPIFFEID of its service account.",
    severity: "medium",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const hasSpire = args.resources.some((r) => isSpireRelease(r.type, r.props));
      for (const r of args.resources) {
        if (!isIstioRelease(r.type, r.props)) continue;
        if (hasSpire && !waitsOn(r).some((d) => isSpireRelease(d.type, d.props))) {
          report(
            `${r.name} does not wait on the spire release: injected pods would mount the SPIFFE CSI driver before it exists`,
            r.urn,
          );
        }
        if (!isIstioRelease(r.type, r.props, "gateway")) continue;
        const values = obj(r.props.values);
        const namespace = str(r.props.namespace) ?? "default";
        const sa =
          str(obj(values.serviceAccount).name) || str(values.name) || str(r.props.name) || "";
        if (!waitsOnIdentity(r, namespace, sa)) {
          report(
            `${r.name} does not wait on a ClusterSPIFFEID for /ns/${namespace}/sa/${sa}: the gateway could start before SPIRE knows its identity`,
            r.urn,
          );
        }
      }
    },
  },
];
