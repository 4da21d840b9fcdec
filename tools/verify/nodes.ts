/**
 * `nodes`: the SPIRE server answers at its exposure address with the bundle the agents carry.
 *
 * Agents outside Kubernetes dial `spire.server.exposure` on port 443 (components/nodes: the
 * ingress `host`, whose controller passes TLS through, or the load balancer's `address`) and
 * authenticate the server as SPIRE 1.15.2's agent does (`pkg/agent/client/dial.go`): a TLS
 * handshake offering ALPN `h2` (gRPC; grpc-go ≥ 1.67 refuses a server that negotiates none,
 * grpc/grpc-go#7535, and SPIRE 1.15.2 builds with grpc-go 1.81.1), the chain verified against the
 * bootstrap bundle only (`/etc/spire/agent/bootstrap.crt` in the `nodes` output: the stable
 * root), and the leaf authorized as `spiffe://<trustDomain>/spire/server`
 * (`idutil.ServerID`, `pkg/common/idutil/spiffeid.go`). The server asks for, but does not
 * require, a client certificate (`tls.RequestClientCert`, `pkg/server/endpoints/endpoints.go`), so
 * the probe sends none and, after the handshake, nothing at all.
 *
 * `SPIRE_SERVER_ADDRESS=host:port` dials another address with the same SNI (a port-forward; the
 * tests' loopback server).
 */
import { SERVER_PORT, NODE_PATHS } from "../../components/nodes/rules";
import { serverSpiffeId } from "../../components/spire-federation/rules";
import { isRecord } from "./http";
import { judgeSvid, probeTls, type SvidFinding } from "./tls-probe";
import type { Check, CheckResult, VerifyContext } from "./types";

const base = { check: "nodes", party: "nodes" } as const;

/** The bootstrap bundles the outputs hand the agents: PEM → where it comes from. */
export function agentBundles(ctx: VerifyContext): Map<string, string> {
  const bundles = new Map<string, string[]>();
  const nodes = isRecord(ctx.outputs.nodes) ? ctx.outputs.nodes : {};
  for (const [name, node] of Object.entries(nodes)) {
    const files = isRecord(node) && isRecord(node.files) ? node.files : {};
    const pem = files[NODE_PATHS.trustBundle];
    if (typeof pem === "string") bundles.set(pem, [...(bundles.get(pem) ?? []), name]);
  }
  const named = new Map<string, string>();
  for (const [pem, names] of bundles) {
    named.set(pem, `the agents' bundle (nodes.${names.join("/")} ${NODE_PATHS.trustBundle})`);
  }
  if (named.size === 0 && typeof ctx.outputs.rootCaPem === "string") {
    named.set(ctx.outputs.rootCaPem, "the agents' bundle (the rootCaPem output: nodes list none)");
  }
  return named;
}

/** What each cause means for the agents, and what to do. */
function fixFor(cause: SvidFinding["cause"], where: string, ingress: boolean): string {
  switch (cause) {
    case "expired":
      return "SPIRE rotates its server SVID itself: an expired one means the server cannot reach its upstream authority (cert-manager) or a clock is wrong; check the spire-server logs and the CertificateRequests in its namespace";
    case "not an X509-SVID":
      return ingress
        ? `something terminates TLS before the SPIRE server: ${where} must reach it with TLS passed through (ingress-nginx started with --enable-ssl-passthrough; the chart sets the ingress annotations)`
        : `something terminates TLS before the SPIRE server: point ${where} at the load balancer of the spire-server Service itself (TCP, no TLS offload)`;
    case "wrong SPIFFE ID":
      return `${where} reaches another SPIRE server (another trust domain, or a stale DNS record): point it at this stack's server`;
    default:
      return "the agents' bootstrap bundle is stale (or the server's upstream authority is another root): copy nodes.<node>.files from `pulumi stack output nodes --json` onto each node again (agents already attested refresh their bundle from the server; new and re-attesting ones need this one)";
  }
}

/** The handshake and the SVID verdicts for one bundle. */
async function probeWith(
  ctx: VerifyContext,
  target: { host: string; port: number; servername?: string; shown: string; ingress: boolean },
  pem: string,
  source: string,
): Promise<CheckResult[]> {
  ctx.progress(`nodes: TLS handshake with ${target.shown} (ALPN h2)`);
  const r = await probeTls({
    host: target.host,
    port: target.port,
    servername: target.servername,
    trustPem: pem,
    alpn: ["h2"],
    deadlineMs: ctx.deadlineMs,
  });
  if (!r.ok) {
    const fix =
      r.kind === "unreachable"
        ? target.ingress
          ? `DNS of ${target.shown.split(":")[0]} must point at the ingress controller and port 443 be open from the nodes`
          : `point ${target.shown.split(":")[0]} at the load balancer of the spire-server Service (kubectl -n spire-server get svc) and open port 443 from the nodes`
        : target.ingress
          ? "the ingress did not hand the connection to the SPIRE server: start ingress-nginx with --enable-ssl-passthrough (openshift: a passthrough route) and check the ingress of spire-server"
          : "something at that address does not speak TLS: point it at the spire-server Service";
    const reason = `${r.kind === "unreachable" ? "unreachable" : "TLS refused"}: ${r.message}`;
    return [{ ...base, name: "handshake", status: "FAIL", reason, fix }];
  }
  const results: CheckResult[] = [
    {
      ...base,
      name: "handshake",
      status: "PASS",
      reason: `${target.shown} completed a TLS handshake`,
    },
  ];
  results.push(
    r.alpn === "h2"
      ? { ...base, name: "ALPN", status: "PASS", reason: "the server negotiated h2 (gRPC)" }
      : {
          ...base,
          name: "ALPN",
          status: "FAIL",
          reason: `the server negotiated ${r.alpn ?? "no ALPN protocol"}, not h2: SPIRE's server always does, and the agent's gRPC client (grpc-go 1.81) refuses a server that does not`,
          fix: fixFor("not an X509-SVID", target.shown, target.ingress),
        },
  );
  for (const f of judgeSvid(r, serverSpiffeId(ctx.model.trustDomain), source)) {
    results.push({
      ...base,
      name: f.name,
      status: f.ok ? "PASS" : "FAIL",
      reason: f.ok ? f.reason : `${f.cause}: ${f.reason}`,
      ...(f.ok ? {} : { fix: fixFor(f.cause, target.shown, target.ingress) }),
    });
  }
  return results;
}

/** The address agents dial, and where the probe dials (`SPIRE_SERVER_ADDRESS` moves it). */
function target(ctx: VerifyContext) {
  const e = ctx.model.spire.server.exposure;
  if (e === undefined) return undefined;
  const host = e.mode === "ingress" ? e.host : e.address;
  const shown = `${host.includes(":") ? `[${host}]` : host}:${SERVER_PORT}`;
  const moved = ctx.env.SPIRE_SERVER_ADDRESS?.match(/^\[?([^\]]+?)\]?:(\d+)$/);
  return {
    host: moved ? moved[1] : host,
    port: moved ? Number(moved[2]) : SERVER_PORT,
    servername: moved && e.mode === "ingress" ? host : undefined,
    shown: moved ? `${shown} (dialled at ${ctx.env.SPIRE_SERVER_ADDRESS})` : shown,
    ingress: e.mode === "ingress",
  };
}

/** The check. */
export const nodesCheck: Check = {
  name: "nodes",
  applies: (ctx) => ctx.model.spire.server.exposure !== undefined,
  async run(ctx) {
    const t = target(ctx);
    if (t === undefined) {
      return [
        {
          ...base,
          name: "exposure",
          status: "SKIP",
          reason:
            "spire.server.exposure is not set: agents outside the cluster cannot reach the server",
          fix: "set spire.server.exposure (components/nodes/README.md) when nodes join",
        },
      ];
    }
    const bundles = agentBundles(ctx);
    if (bundles.size === 0) {
      return [
        {
          ...base,
          name: "agents' bundle",
          status: "FAIL",
          reason: `the outputs carry no bootstrap bundle (nodes.<node>.files["${NODE_PATHS.trustBundle}"] or rootCaPem)`,
          fix: "pass the deployed stack's outputs: pulumi stack output --json --show-secrets",
        },
      ];
    }
    const results: CheckResult[] = [];
    for (const [pem, source] of bundles) results.push(...(await probeWith(ctx, t, pem, source)));
    return results;
  },
};
