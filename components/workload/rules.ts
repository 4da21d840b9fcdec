/**
 * What the workload's half accepts, written once: defaults, the fixed places in the pod, names,
 * and the pure checks the config schema and the component share.
 */
import * as path from "node:path";
import { SVID_DIR, WORKLOAD_CONFIG_DIR } from "../federation/paths";

/** The spiffe-helper release the configuration is written for (its keys are checked in tests). */
export const SPIFFE_HELPER_VERSION = "0.11.0";
/** The helper image: spiffe/spiffe-helper's release image (tags carry no `v`). */
export const DEFAULT_HELPER_IMAGE = `ghcr.io/spiffe/spiffe-helper:${SPIFFE_HELPER_VERSION}`;
/** The helper's default `cert_dir`. */
export const DEFAULT_CERT_DIR = SVID_DIR;

/** The SPIFFE CSI driver of the spire chart (`spiffe-csi-driver.pluginName`). */
export const CSI_DRIVER = "csi.spiffe.io";
/** Where the helper mounts the CSI volume (the agent's socket directory). */
export const WORKLOAD_API_DIR = "/spiffe-workload-api";
/** The agent's socket inside the CSI volume (the chart's `spire-agent.socketPath` file name). */
export const AGENT_SOCKET_PATH = `${WORKLOAD_API_DIR}/spire-agent.sock`;
/** Where the helper reads its configuration. */
export const HELPER_CONFIG_DIR = "/etc/spiffe-helper";
/** The ConfigMap key (and file name) of the helper's configuration. */
export const HELPER_CONF_KEY = "helper.conf";
/** Port of the helper's health listener (its `/ready` gates the workload's start). */
export const HELPER_HEALTH_PORT = 8081;
/** The helper's readiness path: ready once every file is written. */
export const HELPER_READY_PATH = "/ready";
/** The helper's liveness path: failing once a write failed. */
export const HELPER_LIVE_PATH = "/live";
/** Name of the helper's container in the pod. */
export const HELPER_CONTAINER_NAME = "spiffe-helper";
/** Names of the volumes the pod patch adds. */
export const VOLUMES = {
  workloadApi: "spiffe-workload-api",
  certs: "spiffe-certs",
  config: "spiffe-config",
} as const;

/** Directories whose contents an image needs: a volume mounted there would hide them. */
const SYSTEM_DIRS = new Set(
  ["bin", "boot", "dev", "etc", "home", "lib", "lib64", "opt", "proc", "root", "run"]
    .concat(["sbin", "srv", "sys", "tmp", "usr", "var", "var/run", "var/lib"])
    .map((d) => `/${d}`),
);
const PATH_CHARS = /^[A-Za-z0-9._/-]+$/;

/** The files ConfigMap of a workload. */
export function configMapName(workload: string): string {
  return `${workload}-spiffe`;
}

/** The ConfigMap of a workload's environment values that exist only after deploy. */
export function envConfigMapName(workload: string): string {
  return `${workload}-spiffe-env`;
}

/** True when `a` is `b` or lies below it (normalized POSIX paths). */
export function within(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`);
}

/** Why a path is unusable as an absolute path in a container, or `undefined`. */
export function absolutePathProblem(p: string): string | undefined {
  const normal = p.startsWith("/") && PATH_CHARS.test(p) && path.posix.normalize(p) === p;
  return normal && p !== "/" && !p.endsWith("/")
    ? undefined
    : "must be an absolute path such as /run/spiffe/certs (letters, digits, . _ - and /; no trailing /, no . or .. segments)";
}

/** Why a `cert_dir` is unusable, or `undefined`. */
export function certDirProblem(dir: string): string | undefined {
  const p = absolutePathProblem(dir);
  if (p !== undefined) return p;
  if (SYSTEM_DIRS.has(dir)) {
    return `must not be ${dir}: the in-memory volume mounted there would hide what the image keeps in it`;
  }
  for (const [fixed, what] of [
    [WORKLOAD_API_DIR, "the SPIFFE CSI volume"],
    [HELPER_CONFIG_DIR, "the helper's configuration"],
    [WORKLOAD_CONFIG_DIR, "the workload's ConfigMap"],
  ] as const) {
    if (within(dir, fixed) || within(fixed, dir)) {
      return `must not overlap ${fixed}, where the pod patch mounts ${what}`;
    }
  }
  return undefined;
}

const IMAGE_NAME =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Why an image reference is unusable for the helper, or `undefined`. */
export function helperImageProblem(ref: string): string | undefined {
  const at = ref.indexOf("@");
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const nameTag = at === -1 ? ref : ref.slice(0, at);
  const slash = nameTag.lastIndexOf("/");
  const colon = nameTag.indexOf(":", slash + 1);
  const name = colon === -1 ? nameTag : nameTag.slice(0, colon);
  const tag = colon === -1 ? undefined : nameTag.slice(colon + 1);
  if (
    !IMAGE_NAME.test(name) ||
    (tag !== undefined && !TAG.test(tag)) ||
    (digest !== undefined && !DIGEST.test(digest))
  ) {
    return `must be an image reference such as ${DEFAULT_HELPER_IMAGE}`;
  }
  if (tag === undefined && digest === undefined) {
    return "must pin a tag or a digest (an image without one means latest)";
  }
  if (tag === "latest" && digest === undefined) {
    return "must pin a version or a digest, not latest";
  }
  return undefined;
}

const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a ConfigMap key or file name in `cert_dir` is unusable, or `undefined`. */
export function fileNameProblem(name: string): string | undefined {
  return CONFIG_MAP_KEY.test(name) && name !== "." && name !== ".." && name.length <= 253
    ? undefined
    : "must be a file name of letters, digits, . _ and - (at most 253)";
}

/** Why an environment variable name is unusable, or `undefined`. */
export function envNameProblem(name: string): string | undefined {
  return ENV_NAME.test(name)
    ? undefined
    : "must be letters, digits and _, not starting with a digit";
}

export { audienceProblem } from "../config-fields";
