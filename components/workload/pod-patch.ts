/**
 * The pod patch a user applies to a workload's Deployment (a strategic-merge patch of
 * `spec.template`): the spiffe-helper as a native sidecar (an init container with
 * `restartPolicy: Always`, so the workload container starts only once every file is written),
 * the SPIFFE CSI volume, the shared in-memory cert volume, the ConfigMap volume, and the
 * workload container's mounts and environment, and a checksum of the ConfigMaps on the pod
 * template (a changed `helper.conf` or credential file rolls the pods: the helper reads its
 * configuration once, at start). It names no secret and no value that exists only after deploy
 * (those come from the env ConfigMap), so it is known at plan time.
 *
 * Each variable carries the other form as `null` (`value` with `valueFrom: null` and the
 * reverse): a strategic merge keeps the fields of an item the patch does not name, so a variable
 * the container already sets in the other form would end up with both, which the API server
 * rejects. With the `null` the patch's form replaces the container's.
 */
import type { WorkloadPaths } from "../federation/paths";
import { blockYaml } from "./block-yaml";
import {
  CSI_DRIVER,
  HELPER_CONF_KEY,
  HELPER_CONFIG_DIR,
  HELPER_CONTAINER_NAME,
  HELPER_HEALTH_PORT,
  HELPER_READY_PATH,
  VOLUMES,
  WORKLOAD_API_DIR,
} from "./rules";

/**
 * One environment variable: a literal (with `valueFrom: null`) or a key of the env ConfigMap
 * (with `value: null`); the `null` removes the other form from a container that set it.
 */
export type PatchEnvVar =
  | {
      /** Variable name. */
      name: string;
      /** Literal value (known at plan time). */
      value: string;
      /** Removes a `valueFrom` the container had. */
      valueFrom: null;
    }
  | {
      /** Variable name. */
      name: string;
      /** Removes a `value` the container had. */
      value: null;
      /** A key of the workload's env ConfigMap (values that exist only after deploy). */
      valueFrom: { configMapKeyRef: { name: string; key: string } };
    };

/** Pod-template annotation holding the checksum of the workload's ConfigMaps. */
export const CONFIG_CHECKSUM_ANNOTATION = "spire-federation/config-sha256";

/** One volume mount. */
export interface PatchVolumeMount {
  /** Volume name. */
  name: string;
  /** Absolute path in the container. */
  mountPath: string;
  /** One key of a ConfigMap volume, mounted as a file. */
  subPath?: string;
  /** Mounted read-only. */
  readOnly?: boolean;
}

/** The spiffe-helper sidecar. */
export interface PatchHelperContainer {
  /** `spiffe-helper`. */
  name: string;
  /** The pinned helper image. */
  image: string;
  /** `Always`: a native sidecar that runs beside the workload container (Kubernetes ≥ 1.29). */
  restartPolicy: "Always";
  /** `-config <helper.conf>`. */
  args: string[];
  /** Waits for `/ready` (every file written) before the workload container starts. */
  startupProbe: {
    httpGet: { path: string; port: number };
    periodSeconds: number;
    failureThreshold: number;
  };
  /** Small requests; a memory limit. */
  resources: {
    requests: { cpu: string; memory: string };
    limits: { memory: string };
  };
  /** Non-root, no privilege escalation, read-only root file system, no capabilities. */
  securityContext: {
    runAsNonRoot: true;
    runAsUser: number;
    runAsGroup: number;
    allowPrivilegeEscalation: false;
    readOnlyRootFilesystem: true;
    capabilities: { drop: string[] };
    seccompProfile: { type: "RuntimeDefault" };
  };
  /** The CSI socket (read-only), the cert volume, the configuration (read-only). */
  volumeMounts: PatchVolumeMount[];
}

/** The workload container's part: merged into the container of that name. */
export interface PatchWorkloadContainer {
  /** The workload container's name (the workload's name). */
  name: string;
  /** What each relying party's SDK reads. */
  env: PatchEnvVar[];
  /** The cert volume and the ConfigMap's files. */
  volumeMounts: PatchVolumeMount[];
}

/** One volume the patch adds. */
export type PatchVolume =
  | { name: string; csi: { driver: string; readOnly: true } }
  | { name: string; emptyDir: { medium: "Memory" } }
  | { name: string; configMap: { name: string } };

/** A strategic-merge patch of a Deployment (or StatefulSet, DaemonSet, Job) pod template. */
export interface PodPatch {
  /** `spec.template.spec` of the workload. */
  spec: {
    /** The pod template. */
    template: {
      /** The checksum annotation ({@link CONFIG_CHECKSUM_ANNOTATION}). */
      metadata: { annotations: Record<string, string> };
      /** The pod spec additions. */
      spec: {
        /** The helper (a native sidecar). */
        initContainers: PatchHelperContainer[];
        /** The workload container's mounts and environment. */
        containers: PatchWorkloadContainer[];
        /** CSI, cert and ConfigMap volumes. */
        volumes: PatchVolume[];
      };
    };
  };
}

/** What one workload's pod patch is made from. */
export interface PodPatchArgs {
  /** The workload container's name. */
  container: string;
  /** The helper image. */
  helperImage: string;
  /** Where the helper writes and where the ConfigMap is mounted. */
  paths: WorkloadPaths;
  /** The files ConfigMap. */
  configMap: string;
  /** The environment, in order: a literal, or a key of the env ConfigMap. */
  env: ({ name: string; value: string } | { name: string; configMap: string; key: string })[];
  /** ConfigMap keys mounted as files at their own paths (outside the config directory). */
  fileMounts: { key: string; path: string }[];
  /** `sha256:<hex>` of what the workload's ConfigMaps hold, for the pod template. */
  configChecksum: string;
}

/** The helper's user and group: distroless's `nonroot`. */
export const HELPER_USER = 65532;

/** One workload's pod patch. */
export function podPatch(args: PodPatchArgs): PodPatch {
  const { paths } = args;
  const helper: PatchHelperContainer = {
    name: HELPER_CONTAINER_NAME,
    image: args.helperImage,
    restartPolicy: "Always",
    args: ["-config", `${HELPER_CONFIG_DIR}/${HELPER_CONF_KEY}`],
    startupProbe: {
      httpGet: { path: HELPER_READY_PATH, port: HELPER_HEALTH_PORT },
      periodSeconds: 2,
      failureThreshold: 150,
    },
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: HELPER_USER,
      runAsGroup: HELPER_USER,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: VOLUMES.workloadApi, mountPath: WORKLOAD_API_DIR, readOnly: true },
      { name: VOLUMES.certs, mountPath: paths.certDir },
      { name: VOLUMES.config, mountPath: HELPER_CONFIG_DIR, readOnly: true },
    ],
  };
  const workload: PatchWorkloadContainer = {
    name: args.container,
    env: args.env.map((e): PatchEnvVar =>
      "value" in e
        ? { name: e.name, value: e.value, valueFrom: null }
        : {
            name: e.name,
            value: null,
            valueFrom: { configMapKeyRef: { name: e.configMap, key: e.key } },
          },
    ),
    volumeMounts: [
      // Read-only: only the helper writes there; configuration lives in the ConfigMap's mount.
      { name: VOLUMES.certs, mountPath: paths.certDir, readOnly: true },
      { name: VOLUMES.config, mountPath: paths.configDir, readOnly: true },
      ...args.fileMounts.map((f) => ({
        name: VOLUMES.config,
        mountPath: f.path,
        subPath: f.key,
        readOnly: true,
      })),
    ],
  };
  return {
    spec: {
      template: {
        metadata: { annotations: { [CONFIG_CHECKSUM_ANNOTATION]: args.configChecksum } },
        spec: {
          initContainers: [helper],
          containers: [workload],
          volumes: [
            { name: VOLUMES.workloadApi, csi: { driver: CSI_DRIVER, readOnly: true } },
            { name: VOLUMES.certs, emptyDir: { medium: "Memory" } },
            { name: VOLUMES.config, configMap: { name: args.configMap } },
          ],
        },
      },
    },
  };
}

/**
 * The patch as YAML, for `kubectl patch --type strategic --patch-file`: `yaml`'s
 * `stringify(patch, { lineWidth: 0 })`, byte for byte, written without building a YAML document
 * when every value allows (block-yaml.ts: about a hundred times faster, one patch per workload).
 */
export function podPatchYaml(patch: PodPatch): string {
  return blockYaml(patch);
}
