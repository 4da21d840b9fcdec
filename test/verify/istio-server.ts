/**
 * A Kubernetes API double on 127.0.0.1 (HTTPS) for the istio check, reached by the real kubectl
 * through a generated kubeconfig. It serves objects by their API path (GET only: verify is
 * read-only) and answers as the API server does: a `Status` with reason NotFound or Forbidden
 * (code 404/403) for a missing or refused object, `404 page not found` for a group whose CRDs are
 * not installed, 401 without the kubeconfig's bearer token. Custom resources are validated
 * against their CRD schemas (ClusterSPIFFEID from test/contracts/spire, PeerAuthentication from
 * Istio's base chart in test/contracts/charts) before they are served.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { crdObjectValidator, crdValidator } from "../crd";
import { ROOT } from "../helpers";
import { startFaultServer, type FaultServer, type Handler } from "../support/fault-server";

const clusterSpiffeId = crdValidator("spire/spire-crds-0.6.0-clusterspiffeids.yaml", "v1alpha1");
const peerAuthentication = crdObjectValidator(
  parse(
    readFileSync(
      path.join(ROOT, "test/contracts/charts/istio-base-1.30.3/files/crd-all.gen.yaml"),
      "utf8",
    )
      .split(/^---$/m)
      .find((d) => /^  name: peerauthentications\.security\.istio\.io$/m.test(d)) ?? "",
  ),
  "v1",
);

/** The token the kubeconfig's user presents. */
export const KUBE_TOKEN = "kube-reader-token-3e8d";

/** What the double serves. */
export interface KubeState {
  /** Objects by API path. */
  objects: Map<string, Record<string, unknown>>;
  /** Paths answered 403 (the user's RBAC does not allow them). */
  forbidden: Set<string>;
  /** API groups not served (their CRDs not installed), e.g. `security.istio.io`. */
  missingGroups: Set<string>;
}

/** The running double. */
export interface KubeDouble {
  server: FaultServer;
  /** Requests or objects the API would not take. */
  violations: string[];
  /** A kubeconfig (file path) whose context `mesh` points here; `current` is the first argument. */
  kubeconfig(current?: string): string;
}

function status(code: number, reason: string, message: string, name: string, kind: string) {
  return {
    status: code,
    body: JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      details: { name, kind },
      code,
    }),
  };
}

/** Starts the double. */
export async function startKube(
  state: KubeState,
  tls: { keyPem: string; certPem: string; caPem: string },
): Promise<KubeDouble> {
  const violations: string[] = [];
  const handler: Handler = (req) => {
    const url = new URL(req.path, "https://x");
    if (req.method !== "GET") violations.push(`${req.method} ${url.pathname}: verify only reads`);
    if (req.headers.authorization !== `Bearer ${KUBE_TOKEN}`) {
      return status(401, "Unauthorized", "Unauthorized", "", "");
    }
    const m =
      /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)\/([^/]+)$/.exec(
        url.pathname,
      );
    if (m === null) {
      violations.push(`GET ${url.pathname}: not a path of one named object`);
      return { status: 404, headers: { "content-type": "text/plain" }, body: "404 page not found" };
    }
    const [, group, namespace, resource, name] = m;
    if (group !== undefined && state.missingGroups.has(group)) {
      return { status: 404, headers: { "content-type": "text/plain" }, body: "404 page not found" };
    }
    const kind = group ? `${resource}.${group}` : resource;
    if (state.forbidden.has(url.pathname)) {
      const where = namespace ? ` in the namespace "${namespace}"` : " at the cluster scope";
      return status(
        403,
        "Forbidden",
        `${kind} "${name}" is forbidden: User "verify-reader" cannot get resource "${resource}" in API group "${group ?? ""}"${where}`,
        name,
        resource,
      );
    }
    const obj = state.objects.get(url.pathname);
    if (obj === undefined)
      return status(404, "NotFound", `${kind} "${name}" not found`, name, resource);
    const validate =
      resource === "clusterspiffeids"
        ? clusterSpiffeId
        : resource === "peerauthentications"
          ? peerAuthentication
          : undefined;
    // apiVersion and kind are the API server's own fields (not every CRD schema lists them).
    const { apiVersion: _v, kind: _k, ...fields } = obj;
    if (validate && !validate(fields)) {
      violations.push(`${url.pathname}: ${JSON.stringify(validate.errors)}`);
    }
    return { status: 200, body: JSON.stringify(obj) };
  };
  const server = await startFaultServer({ tls, handler });
  const dir = mkdtempSync(path.join(tmpdir(), "verify-kube-"));
  let n = 0;
  const kubeconfig = (current = "mesh") => {
    const file = path.join(dir, `kubeconfig-${n++}`);
    const cluster = (server: string) => ({
      server,
      "certificate-authority-data": Buffer.from(tls.caPem).toString("base64"),
    });
    writeFileSync(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "mesh", cluster: cluster(server.url) },
          // A cluster nobody listens on: the default context of the --kube-context test.
          { name: "elsewhere", cluster: cluster("https://127.0.0.1:9") },
        ],
        users: [{ name: "reader", user: { token: KUBE_TOKEN } }],
        contexts: [
          { name: "mesh", context: { cluster: "mesh", user: "reader" } },
          { name: "elsewhere", context: { cluster: "elsewhere", user: "reader" } },
        ],
        "current-context": current,
      }),
    );
    return file;
  };
  return { server, violations, kubeconfig };
}
