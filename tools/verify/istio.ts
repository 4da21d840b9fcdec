/**
 * `istio`: Istio on SPIRE, live and read-only through the user's `kubectl get --raw`, against the
 * plan: what the component deploys and what would break the mesh.
 * - istiod's mesh config (ConfigMap `istio[-<revision>]`): `trustDomain` = SPIRE's (a proxy
 *   accepts only peers of it; unset is Istio's `cluster.local`);
 * - istiod's injector (ConfigMap `istio-sidecar-injector[-<revision>]`): the `spire` template
 *   as the component writes it, and `defaultTemplates` `[sidecar, spire]` (else pods get
 *   istiod's certificates, which SPIRE-backed peers reject);
 * - the mesh-wide PeerAuthentication `default` in istio-system (with `istio.mtls`): its mode;
 * - the ClusterSPIFFEIDs that issue the mesh's IDs: the ingress gateway's (spec as planned) and
 *   the spire chart's fallback `default` (sidecars), each reconciled without failures;
 * - the SPIRE agent's config (ConfigMap `spire-agent` in spire-system): its trust domain and the
 *   SDS resource names Istio asks for (`default`, `ROOTCA`; with federation `ROOTCA` = all bundles).
 */
import { parse } from "yaml";
import { ISTIO_NAMESPACE, type IstioBlock } from "../../components/federation/istio/index";
import {
  gatewayClusterSpiffeIdName,
  gatewayClusterSpiffeIdSpec,
  spireInjectionTemplate,
} from "../../components/federation/istio/values";
import { ISTIO_FEDERATED_SDS } from "../../components/spire-federation/values";
import { DEFAULT_SPIFFE_ID_TEMPLATE } from "../../components/spire-rules";
import { SPIRE_MGMT_NAMESPACE, SPIRE_RELEASE_NAME } from "../../components/spire";
import { CONTROLLER_CLASS_NAME } from "../../components/stack";
import { formatSpiffeId } from "../../components/spiffe-id";
import { meshSpiffePath } from "../../components/federation/istio/rules";
import { mismatchResult } from "./fields";
import { isRecord, shown } from "./http";
import { findKubectl, kubeGet } from "./kubectl";
import type { Check, CheckResult, VerifyContext } from "./types";

const base = { check: "istio", party: "istio" } as const;
const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";
/** Namespace of the SPIRE agent (the spire chart's `spire-system`). */
export const SPIRE_AGENT_NAMESPACE = "spire-system";
/** The spire chart's fallback ClusterSPIFFEID (`<namespace>-<release>-default`). */
export const DEFAULT_CLUSTER_SPIFFE_ID = `${SPIRE_MGMT_NAMESPACE}-${SPIRE_RELEASE_NAME}-default`;
/** SPIRE agent's SDS names when its config has no `sds` block (spiffe/spire cmd/spire-agent/cli/run/run.go). */
export const SPIRE_SDS_DEFAULTS = {
  default_svid_name: "default",
  default_bundle_name: "ROOTCA",
  default_all_bundles_name: "ALL",
} as const;

type Reader = (
  apiPath: string,
  what: string,
  missing: string,
) => Promise<Record<string, unknown> | undefined>;

/** A reader that turns kubectl's failures into FAILs naming RBAC or the missing deploy step. */
function reader(ctx: VerifyContext, kubectl: string, results: CheckResult[]): Reader {
  let unreachable = false;
  return async (apiPath, what, missing) => {
    // One unreachable cluster is one FAIL, not one per object.
    if (unreachable) return undefined;
    const res = await kubeGet(ctx, kubectl, apiPath);
    if (res.ok) return res.json;
    unreachable = res.kind === "unreachable";
    const crdMissing =
      res.kind === "not-found" && /could not find the requested resource/.test(res.why);
    results.push({
      ...base,
      name: what,
      status: "FAIL",
      reason: `kubectl get --raw ${apiPath}: ${res.why}`,
      fix:
        res.kind === "forbidden"
          ? `RBAC: the kubeconfig's user may not get ${apiPath}; grant it get on that resource (a ClusterRole bound to it), or use --kube-context with a user that may read it`
          : res.kind === "not-found"
            ? crdMissing && !apiPath.startsWith("/api/v1/")
              ? `the API of ${apiPath.split("/").slice(2, 4).join("/")} is not served: its CRDs are missing (${missing})`
              : missing
            : res.kind === "unreachable"
              ? "kubectl cannot reach the cluster: check KUBECONFIG and --kube-context"
              : "see kubectl's message",
    });
    return undefined;
  };
}

function data(cm: Record<string, unknown>, key: string): string | undefined {
  const d = isRecord(cm.data) ? cm.data[key] : undefined;
  return typeof d === "string" ? d : undefined;
}

function yamlOf(text: string | undefined): Record<string, unknown> {
  try {
    const v: unknown = text === undefined ? undefined : parse(text);
    return isRecord(v) ? v : {};
  } catch {
    return {};
  }
}

/** istiod's mesh config and injector. */
async function istiodResults(
  ctx: VerifyContext,
  block: IstioBlock,
  read: Reader,
  out: CheckResult[],
) {
  const rev = block.revision ? `-${block.revision}` : "";
  const install = block.install
    ? `istiod is not installed: pulumi up installs the istiod${rev} release`
    : "istiod is not installed: install Istio with the istioValues output merged";
  const meshCm = await read(
    `/api/v1/namespaces/${ISTIO_NAMESPACE}/configmaps/istio${rev}`,
    "mesh config",
    install,
  );
  if (meshCm) {
    const mesh = yamlOf(data(meshCm, "mesh"));
    const td = mesh.trustDomain ?? "cluster.local";
    out.push(
      mismatchResult(
        "istio",
        "mesh config trustDomain",
        ctx.model.trustDomain,
        td,
        `proxies accept only peers of ${shown(td)} while SPIRE issues ${ctx.model.trustDomain}: set meshConfig.trustDomain (pulumi up, or merge istioValues)`,
      ),
    );
  }
  const injCm = await read(
    `/api/v1/namespaces/${ISTIO_NAMESPACE}/configmaps/istio-sidecar-injector${rev}`,
    "injector",
    install,
  );
  if (injCm) {
    const config = yamlOf(data(injCm, "config"));
    const templates = isRecord(config.templates) ? config.templates : {};
    const spire = templates.spire;
    const fix =
      "pods injected without the spire template take istiod's certificates, which SPIRE-backed peers reject: pulumi up (or merge istioValues into istiod)";
    out.push(
      mismatchResult(
        "istio",
        "injector template spire",
        parse(spireInjectionTemplate()),
        typeof spire === "string" ? yamlOf(spire) : undefined,
        fix,
      ),
    );
    const defaults = Array.isArray(config.defaultTemplates) ? config.defaultTemplates : [];
    const ok = defaults.includes("sidecar") && defaults.includes("spire");
    out.push({
      ...base,
      name: "injector defaultTemplates",
      status: ok ? "PASS" : "FAIL",
      reason: `defaultTemplates is ${shown(defaults)}`,
      ...(ok ? {} : { fix }),
    });
  }
}

/** One ClusterSPIFFEID: the planned spec fields and its reconciliation stats. */
function clusterSpiffeIdResults(
  name: string,
  obj: Record<string, unknown>,
  spec: Record<string, unknown>,
  needsPods: boolean,
): CheckResult[] {
  const live = isRecord(obj.spec) ? obj.spec : {};
  const out = Object.entries(spec).map(([k, v]) =>
    mismatchResult("istio", `ClusterSPIFFEID ${name} ${k}`, v, live[k], FIX_DRIFT),
  );
  const stats = isRecord(obj.status) && isRecord(obj.status.stats) ? obj.status.stats : undefined;
  const n = (k: string) => (typeof stats?.[k] === "number" ? stats[k] : 0);
  const failures = n("entryFailures") + n("podEntryRenderFailures");
  const status =
    stats === undefined
      ? `no status: the controller manager of class ${String(spec.className)} has not reconciled it; is spire-controller-manager running?`
      : failures > 0
        ? `${n("entryFailures")} entry failures, ${n("podEntryRenderFailures")} render failures: pods it selects get no SVID; see spire-controller-manager's log`
        : needsPods && n("podsSelected") === 0
          ? "selects no pod: the gateway's pods are not running, or their labels (app, istio) or namespace differ"
          : undefined;
  out.push({
    ...base,
    name: `ClusterSPIFFEID ${name} status`,
    status: status === undefined ? "PASS" : "FAIL",
    reason:
      status ??
      `${n("podsSelected")} pods selected, ${n("entriesToSet")} entries to set, ${n("entriesMasked")} masked, no failures`,
    ...(status === undefined
      ? {}
      : {
          fix: "the mesh's proxies wait for an SVID that never comes (not ready): fix what the status says",
        }),
  });
  return out;
}

/** The SPIRE agent's trust domain and SDS names. */
function agentResults(ctx: VerifyContext, cm: Record<string, unknown>): CheckResult[] {
  let conf: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(data(cm, "agent.conf") ?? "");
    if (isRecord(v)) conf = v;
  } catch {
    // An unreadable config reads as empty: every field below fails.
  }
  const agent = isRecord(conf.agent) ? conf.agent : {};
  const sds = isRecord(agent.sds) ? agent.sds : {};
  const federates = (ctx.model.federation?.trustDomains.length ?? 0) > 0;
  const want = federates
    ? {
        default_svid_name: ISTIO_FEDERATED_SDS.defaultSVIDName,
        default_bundle_name: ISTIO_FEDERATED_SDS.defaultBundleName,
        default_all_bundles_name: ISTIO_FEDERATED_SDS.defaultAllBundlesName,
      }
    : { default_svid_name: "default", default_bundle_name: "ROOTCA" };
  const fix = federates
    ? "Istio asks SDS for default and ROOTCA; with federation ROOTCA must name all bundles: pulumi up (spire-agent.sds)"
    : "Istio asks SDS for the certificate default and the bundle ROOTCA: remove the spire-agent.sds override, or pulumi up";
  return [
    mismatchResult(
      "istio",
      "spire-agent trust_domain",
      ctx.model.trustDomain,
      agent.trust_domain,
      FIX_DRIFT,
    ),
    ...Object.entries(want).map(([k, v]) =>
      mismatchResult(
        "istio",
        `spire-agent sds ${k}`,
        v,
        sds[k] ?? SPIRE_SDS_DEFAULTS[k as keyof typeof SPIRE_SDS_DEFAULTS],
        fix,
      ),
    ),
  ];
}

/** The `istio` check. */
export const istioCheck: Check = {
  name: "istio",
  applies: (ctx) => ctx.model.istio !== undefined,
  run: async (ctx) => {
    const block = ctx.model.istio;
    if (block === undefined) return [];
    const kubectl = findKubectl(ctx);
    if (kubectl === undefined) {
      return [
        {
          ...base,
          name: "kubectl",
          status: "SKIP",
          reason: "no kubectl on PATH (nor KUBECTL)",
          fix: "install kubectl and point KUBECONFIG (or --kube-context) at the cluster, or set KUBECTL to its path",
        },
      ];
    }
    const out: CheckResult[] = [];
    const read = reader(ctx, kubectl, out);
    await istiodResults(ctx, block, read, out);
    if (block.mtls) {
      const pa = await read(
        `/apis/security.istio.io/v1/namespaces/${ISTIO_NAMESPACE}/peerauthentications/default`,
        "PeerAuthentication default",
        `the mesh-wide PeerAuthentication is missing: pulumi up creates it (istio.mtls ${block.mtls}); its CRD comes with Istio's base release`,
      );
      const mtls =
        pa && isRecord(pa.spec) && isRecord(pa.spec.mtls) ? pa.spec.mtls.mode : undefined;
      if (pa) {
        out.push(
          mismatchResult(
            "istio",
            "PeerAuthentication default mtls.mode",
            block.mtls,
            mtls,
            FIX_DRIFT,
          ),
        );
      }
    }
    const ids = "/apis/spire.spiffe.io/v1alpha1/clusterspiffeids";
    const gw = block.ingressGateway;
    if (gw) {
      const name = gatewayClusterSpiffeIdName(gw);
      const obj = await read(
        `${ids}/${name}`,
        `ClusterSPIFFEID ${name}`,
        "the gateway's identity is missing: pulumi up creates it (its pods wait for an SVID until it exists); the CRD comes with the spire-crds release",
      );
      const spec = gatewayClusterSpiffeIdSpec({
        gateway: gw,
        spiffeId: formatSpiffeId(ctx.model.trustDomain, meshSpiffePath(gw.namespace, gw.name)),
        className: CONTROLLER_CLASS_NAME,
      });
      if (obj) out.push(...clusterSpiffeIdResults(name, obj, spec, true));
    }
    if (ctx.model.workloads.some((w) => w.istio?.mesh)) {
      const obj = await read(
        `${ids}/${DEFAULT_CLUSTER_SPIFFE_ID}`,
        `ClusterSPIFFEID ${DEFAULT_CLUSTER_SPIFFE_ID}`,
        "the spire chart's fallback ClusterSPIFFEID, which issues the sidecars' IDs, is missing: pulumi up (the spire release's controllerManager.identities.clusterSPIFFEIDs.default)",
      );
      const spec = {
        className: CONTROLLER_CLASS_NAME,
        spiffeIDTemplate: DEFAULT_SPIFFE_ID_TEMPLATE,
        fallback: true,
      };
      if (obj) out.push(...clusterSpiffeIdResults(DEFAULT_CLUSTER_SPIFFE_ID, obj, spec, false));
    }
    const agent = await read(
      `/api/v1/namespaces/${SPIRE_AGENT_NAMESPACE}/configmaps/spire-agent`,
      "spire-agent config",
      "the SPIRE agent is not installed: pulumi up installs the spire release",
    );
    if (agent) out.push(...agentResults(ctx, agent));
    return out;
  },
};
