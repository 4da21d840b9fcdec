/**
 * Installs packed tarballs into scratch folders the way npm lays them out, with no registry and
 * no network: a tarball is unpacked into `<dir>/node_modules/<name>`, and the dependencies a
 * manifest declares are linked (hoisted, as npm would place them) from this repository's own
 * node_modules, which `npm ci` installed from the lockfile. Only what is declared is present, so
 * an undeclared import fails to resolve. Also: the Pulumi engine's first call to a policy pack.
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";

const ROOT = path.join(__dirname, "..", "..");

/** The fields of a package.json these tests read. */
export interface Manifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  files?: string[];
  repository?: { type: string; url: string };
}

/** Reads a package.json. */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Manifest;
}

/** `npm pack` of a folder into `dest`: the tarball's path and the files it holds. */
export function npmPack(dir: string, dest: string): { tarball: string; files: string[] } {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dest], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [packed] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dest, packed.filename), files: packed.files.map((f) => f.path) };
}

/** Unpacks a tarball (npm's `package/` prefix stripped) into `dir`. */
export function unpack(tarball: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1"]);
}

/**
 * Links each named package from this repository's node_modules into `<dir>/node_modules`,
 * skipping those already there. Throws when the repository's copy is not the version the
 * manifest asks for exactly (npm would install another one).
 */
export function linkDependencies(dir: string, deps: Record<string, string>): void {
  for (const [name, range] of Object.entries(deps)) {
    const target = path.join(dir, "node_modules", name);
    if (existsSync(target)) continue;
    const source = path.join(ROOT, "node_modules", name);
    const { version } = readManifest(source);
    if (/^\d+\.\d+\.\d+$/.test(range) && version.replace(/^v/, "") !== range) {
      throw new Error(`${name}: the repository has ${version}, the manifest asks for ${range}`);
    }
    mkdirSync(path.dirname(target), { recursive: true });
    symlinkSync(source, target);
  }
}

/** What the engine learns from a running policy pack's GetAnalyzerInfo. */
export interface AnalyzerInfo {
  name: string;
  version: string;
  policies: { name: string; enforcementLevel: number }[];
}

interface ProtoPolicy {
  getName(): string;
  getEnforcementlevel(): number;
}
interface ProtoInfo {
  getName(): string;
  getVersion(): string;
  getPoliciesList(): ProtoPolicy[];
}
interface AnalyzerClient {
  getAnalyzerInfo(req: unknown, cb: (err: Error | null, info: ProtoInfo) => void): void;
  close(): void;
}

/**
 * Starts a compiled policy pack the way the Pulumi CLI does (`node <main>` in the pack's folder,
 * which prints the port of its gRPC server on 127.0.0.1), asks it GetAnalyzerInfo as the engine
 * does before a preview, and stops it.
 */
export async function analyzerInfo(packDir: string, main: string): Promise<AnalyzerInfo> {
  const pulumiDir = path.join(ROOT, "node_modules", "@pulumi", "pulumi");
  /* eslint-disable @typescript-eslint/no-require-imports */
  const grpc = require(require.resolve("@grpc/grpc-js", { paths: [pulumiDir] })) as {
    credentials: { createInsecure(): unknown };
  };
  const { AnalyzerClient } = require(path.join(pulumiDir, "proto", "analyzer_grpc_pb.js")) as {
    AnalyzerClient: new (address: string, creds: unknown) => AnalyzerClient;
  };
  const { Empty } = require(
    require.resolve("google-protobuf/google/protobuf/empty_pb.js", { paths: [pulumiDir] }),
  ) as { Empty: new () => unknown };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const child = spawn(process.execPath, [main], {
    cwd: packDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) =>
        reject(new Error(`the policy pack exited with ${code}: ${stderr}`)),
      );
    });
    if (!/^\d+$/.test(port)) throw new Error(`the policy pack printed ${port}, not a port`);
    const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const info = await new Promise<ProtoInfo>((resolve, reject) =>
      client.getAnalyzerInfo(new Empty(), (err, res) => (err ? reject(err) : resolve(res))),
    );
    client.close();
    return {
      name: info.getName(),
      version: info.getVersion(),
      policies: info
        .getPoliciesList()
        .map((p) => ({ name: p.getName(), enforcementLevel: p.getEnforcementlevel() })),
    };
  } finally {
    child.kill();
  }
}
