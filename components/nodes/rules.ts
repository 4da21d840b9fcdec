/**
 * What SPIRE enforces for agents outside Kubernetes, as constants and pure functions shared by
 * the schema, the component, the chart values and the policy rules (spiffe/spire v1.14.5, the
 * appVersion of chart spire 0.30.0):
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
 * - `unix` workload attestor selectors: `unix:uid:<n>`, `unix:user:<name>`, `unix:gid:<n>`, and
 *   with `discover_workload_path = true` `unix:path:<abs path>`. An entry matches a process when
 *   all of its selectors are among the process's.
 */
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

/** Whether a pattern is anchored at both ends (what `dnsPatternFor` yields). */
export function isAnchoredPattern(pattern: string): boolean {
  return pattern.startsWith("^") && pattern.endsWith("$") && !pattern.endsWith("\\$");
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
