/**
 * The workload's half: for each workload, in its namespace, a ConfigMap with the spiffe-helper
 * configuration and the relying parties' configuration files, an env ConfigMap for values that
 * exist only after deploy, and the pod patch that wires them into the workload's pods.
 *
 * What the pieces enforce, and how this component meets them:
 * - spiffe-helper rejects unknown keys, and writes only into a `cert_dir` that exists: the
 *   configuration uses v0.11.0's keys only, and `cert_dir` is the pod's shared in-memory volume;
 * - each relying party checks the JWT's `aud` exactly: the helper requests exactly the audiences
 *   the parties contribute (which they take from the values they configured);
 * - files the outputs name must exist: each is written by the helper or mounted from the
 *   ConfigMap at exactly that path; no two sources claim one path;
 * - the ConfigMaps live in the workload's namespace, which the user owns: it must exist (this
 *   component creates no namespace), and nothing else needs to exist first;
 * - no secret goes into a ConfigMap or the patch (contributions carry configuration only);
 * - the helper reads `helper.conf` once, at start: the pod template carries a checksum of the
 *   ConfigMaps' content, so that a change rolls the pods;
 * - only the helper writes `cert_dir`: the workload container mounts it read-only, and no
 *   ConfigMap file is mounted into it.
 */
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rejectProblems } from "../federation/args";
import type { WorkloadContribution } from "../federation/contract";
import { inDir, workloadPaths, type WorkloadPaths } from "../federation/paths";
import { helperConf } from "./helper-conf";
import { podPatch, podPatchYaml, type PodPatch, type PodPatchArgs } from "./pod-patch";
import {
  audienceProblem,
  certDirProblem,
  configMapName,
  envConfigMapName,
  envNameProblem,
  fileNameProblem,
  HELPER_CONF_KEY,
  helperImageProblem,
  absolutePathProblem,
  within,
} from "./rules";

/** One relying party's contribution to a workload. */
export interface PartyContribution extends WorkloadContribution {
  /** The relying party's config key (for messages). */
  party: string;
}

/** One workload whose pods get the files. */
export interface WorkloadFilesEntry {
  /** Workload name: names the ConfigMaps and the workload container in the patch. */
  name: string;
  /** Its namespace (must exist). */
  namespace: string;
  /** What each relying party it has a grant in needs, in registry order. */
  contributions: PartyContribution[];
}

/** Arguments of {@link WorkloadFiles}. */
export interface WorkloadFilesArgs {
  /** spiffe-helper image, pinned by tag or digest. */
  helperImage: string;
  /** The helper's `cert_dir` in every pod. */
  certDir: string;
  /** The workloads. */
  workloads: WorkloadFilesEntry[];
}

/** What one workload's pods need, as stack outputs. */
export interface WorkloadFilesOutput {
  /** The workload's namespace (where the ConfigMaps are). */
  namespace: string;
  /** The files ConfigMap (`helper.conf` and the relying parties' configuration files). */
  configMap: string;
  /** The env ConfigMap (values that exist only after deploy), when there are any. */
  envConfigMap?: string;
  /**
   * Each file the workload's outputs and environment name: its absolute path in the workload
   * container → what provides it (`spiffe-helper` or `configMap:<key>`).
   */
  files: Record<string, string>;
  /** The strategic-merge patch of the pod template. */
  podPatch: PodPatch;
  /** The same patch as YAML. */
  podPatchYaml: string;
}

/** The resolved plan of one workload: problems, the ConfigMap data and the patch. */
interface WorkloadPlan {
  problems: string[];
  data: Record<string, string>;
  /** Environment values that exist only after deploy, for the env ConfigMap. */
  envLater: Record<string, pulumi.Input<string>>;
  output: WorkloadFilesOutput;
}

const HELPER = "spiffe-helper";

function planWorkload(
  w: WorkloadFilesEntry,
  helperImage: string,
  paths: WorkloadPaths,
): WorkloadPlan {
  const problems: string[] = [];
  const at = (c: PartyContribution) => `workload ${w.name}, ${c.party}`;
  const files: Record<string, string> = {
    [paths.svid]: HELPER,
    [paths.svidKey]: HELPER,
    [paths.svidBundle]: HELPER,
    [paths.jwtBundle]: HELPER,
  };
  const claim = (path: string, source: string, who: string) => {
    const other = files[path];
    if (other !== undefined) problems.push(`${who}: ${path} is already provided by ${other}`);
    else files[path] = source;
  };
  const data: Record<string, string> = {};
  const jwtSvids: { audience: string; fileName: string }[] = [];
  const env: PodPatchArgs["env"] = [];
  const envNames = new Map<string, string>();
  const envLater: Record<string, pulumi.Input<string>> = {};
  const fileMounts: PodPatchArgs["fileMounts"] = [];
  const envConfigMap = envConfigMapName(w.name);

  for (const c of w.contributions) {
    for (const j of c.jwtSvids ?? []) {
      const a = audienceProblem(j.audience);
      if (a) problems.push(`${at(c)}: audience ${JSON.stringify(j.audience)} ${a}`);
      const f = fileNameProblem(j.fileName);
      if (f) problems.push(`${at(c)}: JWT-SVID file name ${JSON.stringify(j.fileName)} ${f}`);
      else claim(inDir(paths.certDir, j.fileName), HELPER, at(c));
      jwtSvids.push({ audience: j.audience, fileName: j.fileName });
    }
    for (const [key, file] of Object.entries(c.files ?? {})) {
      const k = fileNameProblem(key);
      if (k || key === HELPER_CONF_KEY || Object.hasOwn(data, key)) {
        problems.push(`${at(c)}: ConfigMap key ${JSON.stringify(key)} ${k ?? "is already taken"}`);
        continue;
      }
      data[key] = file.content;
      if (file.path === undefined) {
        claim(inDir(paths.configDir, key), `configMap:${key}`, at(c));
        continue;
      }
      const p = absolutePathProblem(file.path);
      if (p) problems.push(`${at(c)}: path ${JSON.stringify(file.path)} of ${key} ${p}`);
      else if (within(file.path, paths.configDir)) {
        problems.push(`${at(c)}: path ${file.path} of ${key} lies in ${paths.configDir}; omit it`);
      } else if (within(file.path, paths.certDir) || within(paths.certDir, file.path)) {
        problems.push(
          `${at(c)}: path ${file.path} of ${key} overlaps ${paths.certDir}, which only the helper writes; omit the path to use ${paths.configDir}`,
        );
      } else {
        claim(file.path, `configMap:${key}`, at(c));
        fileMounts.push({ key, path: file.path });
      }
    }
    for (const [name, value] of Object.entries(c.env ?? {})) {
      const n = envNameProblem(name);
      const other = envNames.get(name);
      if (n) problems.push(`${at(c)}: environment variable ${JSON.stringify(name)} ${n}`);
      else if (other !== undefined) {
        problems.push(`${at(c)}: environment variable ${name} is already set by ${other}`);
      } else if (typeof value === "string") {
        env.push({ name, value });
        envNames.set(name, c.party);
      } else {
        // A value that exists only after deploy: a key of the env ConfigMap, so that the patch
        // stays known at plan time and the files ConfigMap waits on nothing.
        envLater[name] = value;
        env.push({ name, configMap: envConfigMap, key: name });
        envNames.set(name, c.party);
      }
    }
  }
  data[HELPER_CONF_KEY] = helperConf({ workload: w.name, certDir: paths.certDir, jwtSvids });
  const patch = podPatch({
    container: w.name,
    helperImage,
    paths,
    configMap: configMapName(w.name),
    env,
    fileMounts,
    configChecksum: configChecksum(data, Object.keys(envLater)),
  });
  return {
    problems,
    data,
    envLater,
    output: {
      namespace: w.namespace,
      configMap: configMapName(w.name),
      envConfigMap: Object.keys(envLater).length > 0 ? envConfigMap : undefined,
      files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
      podPatch: patch,
      podPatchYaml: podPatchYaml(patch),
    },
  };
}

/**
 * `sha256:<hex>` of the files ConfigMap's data and the env ConfigMap's keys, in key order. The
 * env ConfigMap's values exist only after deploy (so that the patch is known at plan time) and
 * are left out: they change only when the relying party's identity is replaced.
 */
export function configChecksum(data: Record<string, string>, envKeys: readonly string[]): string {
  const files = Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keys = [...envKeys].sort();
  const hex = createHash("sha256")
    .update(JSON.stringify({ files, envKeys: keys }))
    .digest("hex");
  return `sha256:${hex}`;
}

/** Every workload's plan, and the problems with the args (each as a sentence). */
function planAll(args: WorkloadFilesArgs): { problems: string[]; plans: WorkloadPlan[] } {
  const problems: string[] = [];
  const image = helperImageProblem(args.helperImage);
  if (image) problems.push(`helper image ${JSON.stringify(args.helperImage)} ${image}`);
  const dir = certDirProblem(args.certDir);
  if (dir) {
    problems.push(`cert directory ${JSON.stringify(args.certDir)} ${dir}`);
    return { problems, plans: [] };
  }
  const paths = workloadPaths(args.certDir);
  const names = new Set<string>();
  const plans: WorkloadPlan[] = [];
  for (const w of args.workloads) {
    if (names.has(w.name)) problems.push(`workload ${w.name} is listed twice`);
    names.add(w.name);
    const plan = planWorkload(w, args.helperImage, paths);
    problems.push(...plan.problems);
    plans.push(plan);
  }
  return { problems, plans };
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function workloadFilesArgsProblems(args: WorkloadFilesArgs): string[] {
  return planAll(args).problems;
}

/** Every workload's ConfigMaps and pod patch. */
export class WorkloadFiles extends pulumi.ComponentResource {
  /** The files ConfigMap of each workload, by workload name. */
  readonly configMaps: Record<string, k8s.core.v1.ConfigMap>;
  /** The env ConfigMap of each workload that has values known only after deploy. */
  readonly envConfigMaps: Record<string, k8s.core.v1.ConfigMap>;
  /** What each workload's pods need (plain values, known at plan time), by workload name. */
  readonly outputs: Record<string, WorkloadFilesOutput>;

  constructor(name: string, args: WorkloadFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    const { problems, plans } = planAll(args);
    rejectProblems("WorkloadFiles", name, problems);
    super("spire-federation:workload:WorkloadFiles", name, {}, opts);
    this.configMaps = {};
    this.envConfigMaps = {};
    this.outputs = {};
    args.workloads.forEach((w, i) => {
      const plan = plans[i];
      const labels = {
        "app.kubernetes.io/managed-by": "spire-federation",
        "spire-federation/workload": w.name,
      };
      this.configMaps[w.name] = new k8s.core.v1.ConfigMap(
        `${name}-${w.name}`,
        {
          metadata: { name: plan.output.configMap, namespace: w.namespace, labels },
          data: plan.data,
        },
        { parent: this },
      );
      if (plan.output.envConfigMap !== undefined) {
        this.envConfigMaps[w.name] = new k8s.core.v1.ConfigMap(
          `${name}-${w.name}-env`,
          {
            metadata: { name: plan.output.envConfigMap, namespace: w.namespace, labels },
            data: plan.envLater,
          },
          { parent: this },
        );
      }
      this.outputs[w.name] = plan.output;
    });
    // The outputs are plain values, registered once, as stack outputs.
    this.registerOutputs({});
  }
}
