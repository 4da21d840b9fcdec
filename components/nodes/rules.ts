/**
 * What SPIRE enforces for agents outside Kubernetes, as constants and pure functions shared by
 * the schema, the component, the chart values and the policy rules (spiffe/spire v1.15.2, the
 * image chart spire 0.30.0 runs: its spire-server subchart's appVersion; the umbrella's says
 * 1.14.5; the http_challenge code is the same in both):
 *
 * - `http_challenge` (server, `pkg/server/plugin/nodeattestor/httpchallenge`): each of
 *   `allowed_dns_patterns` is a Go regexp matched with `FindAllStringSubmatch`, i.e. anywhere in
 *   the hostname. An unanchored `vm1.example.com` also admits `vm1xexample.com.evil.net`, so
 *   every pattern here is the regex-escaped hostname anchored `^…$`.
 * - The server fetches `http://<hostname>:<port>/.well-known/spiffe/nodeattestor/http_challenge/
 *   <agentname>/challenge`. Any process that can listen on the port of a listed host can answer;
 *   with `required_port` 80 and `allow_non_root_ports` false only root (or CAP_NET_BIND_SERVICE)
 *   can.
 * - The agent's SPIFFE ID is `spiffe://<td>/spire/agent/http_challenge/<hostname>`
 *   (`pkg/common/plugin/httpchallenge` `MakeAgentID`); a node workload's entry has it as parent.
 * - `tofu` (trust on first use, the chart's default true): the plugin refuses a hostname whose agent
 *   is already in the datastore (`base.AssessTOFU`), so an agent that lost or let expire its SVID
 *   can never attest again. With `tofu = false` (allowed only with `required_port` < 1024 and
 *   `allow_non_root_ports = false`) it answers `CanReattest`: the server updates the existing
 *   agent (`pkg/server/api/agent/v1/service.go` AttestAgent), the agent re-attests instead of
 *   renewing (`RenewAgent` refuses: "agent must reattest") and, started with an expired SVID,
 *   attests afresh (`pkg/agent/attestor/node/node.go` loadSVID). Banned agents stay refused.
 * - `unix` workload attestor selectors: `unix:uid:<n>`, `unix:user:<name>`, `unix:gid:<n>`, and
 *   with `discover_workload_path = true` `unix:path:<abs path>`. An entry matches a process when
 *   all of its selectors are among the process's.
 */
import { isIP } from "node:net";
import type { UnixSelectors } from "../model";

/** Port the SPIRE server fetches the HTTP challenge from (privileged, so only root answers). */
export const HTTP_CHALLENGE_PORT = 80;
/** Port of the server's Service and ingress (`spire-server.service.port`, chart default 443). */
export const SERVER_PORT = 443;

/** Where the agent's files go on the node. */
export const NODE_PATHS = {
  /** The agent configuration (HCL). */
  agentConfig: "/etc/spire/agent/agent.conf",
  /** The bootstrap trust bundle: the stable root (PEM). */
  trustBundle: "/etc/spire/agent/bootstrap.crt",
  /** The systemd unit. */
  systemdUnit: "/etc/systemd/system/spire-agent.service",
  /** The agent's data and key directory (systemd `StateDirectory=spire/agent`). */
  dataDir: "/var/lib/spire/agent",
  /** The Workload API socket workloads (and spiffe-helper) connect to. */
  socket: "/run/spire/agent/public/api.sock",
  /** The spire-agent binary (from the SPIRE release tarball). */
  binary: "/opt/spire/bin/spire-agent",
} as const;

/** POSIX portable user names (as `useradd` accepts them), at most 32 characters. */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Regex metacharacters of Go's RE2 syntax. */
const RE2_META = /[\\.+*?()|[\]{}^$]/g;

/** The `allowed_dns_patterns` entry that admits exactly this hostname. */
export function dnsPatternFor(hostname: string): string {
  return `^${hostname.replace(RE2_META, "\\$&")}$`;
}

/**
 * The hostname an `allowed_dns_patterns` entry admits when it has exactly the shape
 * `dnsPatternFor` gives (`^<escaped hostname>$`, nothing else), or undefined: an alternation
 * (`^a\.b|.*$`), a class or any other regexp admits hosts nobody listed.
 */
export function patternHostname(pattern: string): string | undefined {
  if (!isAnchoredPattern(pattern)) return undefined;
  const host = pattern.slice(1, -1).replace(/\\\./g, ".");
  const dnsName =
    host.length <= DNS_NAME_MAX &&
    host.split(".").every((l) => l.length <= DNS_LABEL_MAX && DNS_LABEL.test(l));
  return dnsName && dnsPatternFor(host) === pattern ? host : undefined;
}

/** Whether a pattern is anchored at both ends (`^…$`, the `$` not escaped). */
export function isAnchoredPattern(pattern: string): boolean {
  return pattern.startsWith("^") && pattern.endsWith("$") && !pattern.endsWith("\\$");
}

/** DNS limits (RFC 1035 2.3.4): a name of at most 253 characters, labels of at most 63. */
export const DNS_NAME_MAX = 253;
/** Longest DNS label. */
export const DNS_LABEL_MAX = 63;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NODE_HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

/**
 * Problem with a node's hostname, or undefined: a lowercase DNS name with a dot, within DNS's
 * limits, and not an IP address (the server would fetch the challenge from whatever machine holds
 * that address; an all-digit last label is an IPv4 address to resolvers).
 */
export function nodeHostnameProblem(hostname: string): string | undefined {
  if (hostname.length > DNS_NAME_MAX) {
    return `must be at most ${DNS_NAME_MAX} characters (a DNS name); it has ${hostname.length}`;
  }
  if (isIP(hostname) !== 0 || /(^|\.)[0-9]+$/.test(hostname)) {
    return "must be a DNS name, not an IP address; the agent's SPIFFE ID and the allowed pattern are made from it, and whoever holds the address next would answer the challenge";
  }
  const long = hostname.split(".").find((l) => l.length > DNS_LABEL_MAX);
  if (long !== undefined) {
    return `has a label of ${long.length} characters (${long.slice(0, 16)}…); DNS allows ${DNS_LABEL_MAX}, so the server could never resolve it`;
  }
  if (!NODE_HOSTNAME.test(hostname)) {
    // The same words as every other DNS name of the config (config-fields `hostName`).
    return "must be a fully qualified DNS name such as oidc.example.org (lowercase, with a dot)";
  }
  return undefined;
}

/** The SPIFFE ID SPIRE gives the agent of a node attested by `http_challenge`. */
export function agentSpiffeId(trustDomain: string, hostname: string): string {
  return `spiffe://${trustDomain}/spire/agent/http_challenge/${hostname}`;
}

/** The entry's selectors, in a fixed order: uid, user, gid, path. */
export function unixSelectors(unix: UnixSelectors): string[] {
  const out: string[] = [];
  if (unix.uid !== undefined) out.push(`unix:uid:${unix.uid}`);
  if (unix.user !== undefined) out.push(`unix:user:${unix.user}`);
  if (unix.gid !== undefined) out.push(`unix:gid:${unix.gid}`);
  if (unix.path !== undefined) out.push(`unix:path:${unix.path}`);
  return out;
}

/**
 * Whether one process can match both workloads' selectors: no selector kind that both set to
 * different values (selectors are a conjunction). `uid` and `user` are separate kinds: a uid
 * and a user name cannot be compared without the node's passwd, so they never rule out overlap.
 */
export function unixSelectorsOverlap(a: UnixSelectors, b: UnixSelectors): boolean {
  return (["uid", "user", "gid", "path"] as const).every(
    (k) => a[k] === undefined || b[k] === undefined || a[k] === b[k],
  );
}

/** Problem with a user name, or undefined. */
export function unixUserProblem(user: string): string | undefined {
  return USER_NAME.test(user)
    ? undefined
    : "must be a user name (lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters)";
}

/** Problem with an executable path, or undefined. */
export function unixPathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return "must be an absolute path such as /usr/local/bin/app";
  if (/[\s\u0000-\u001f]/.test(path)) return "must not contain whitespace or control characters";
  if (path.split("/").some((s, i) => s === "." || s === ".." || (s === "" && i > 0))) {
    return "must be a clean path (no //, . or .. segments, no trailing /): the attestor compares the executable's resolved path literally";
  }
  return undefined;
}
