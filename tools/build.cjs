// @ts-check
/**
 * Builds bin/ only when it is stale, so that every entry point (`npm run build`, `plan`, `bench`,
 * `prepare`, and Pulumi through tools/pulumi-main.cjs) runs current compiled code without paying
 * for a compiler run when nothing changed.
 *
 * Plain CommonJS with no dependency: it must run before anything is compiled, on whatever Node.js
 * runs it (the npm scripts' Node.js 24, or the `node` on PATH that the Pulumi CLI starts).
 *
 * bin/.build.json records a fingerprint (path, size, mtime) of two sets of files after each
 * successful build:
 * - sources: the files tsconfig.json includes, and this file;
 * - dependencies: tsconfig.json, package.json, package-lock.json and node_modules/.package-lock.json
 *   (npm rewrites that one on every install that changes node_modules).
 * Both unchanged: nothing runs (a few milliseconds). Sources changed: `tsc -b` (incremental: it
 * recompiles what changed). Dependencies changed: `tsc -b --force` (tsc's own up-to-date check
 * looks at the project's files only, not at node_modules). No record, or a failed build: build.
 *
 *   node tools/build.cjs [--force]
 */
"use strict";
const { createHash } = require("node:crypto");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const RECORD = path.join(ROOT, "bin", ".build.json");
const SKIP_DIRS = new Set(["node_modules", "bin", ".git", "coverage"]);
const DEPENDENCY_FILES = [
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  path.join("node_modules", ".package-lock.json"),
];

/**
 * A regular expression for one tsconfig `include` pattern (`*`, `**` and literal paths).
 * @param {string} pattern
 */
function globToRegExp(pattern) {
  let re = "";
  let p = pattern.replace(/^\.\//, "").replace(/\/$/, "");
  // A folder without wildcards means everything under it.
  if (!p.includes("*") && !path.posix.basename(p).includes(".")) p += "/**/*";
  for (let i = 0; i < p.length; i++) {
    if (p.startsWith("**/", i)) {
      re += "(?:[^/]+/)*";
      i += 2;
    } else if (p[i] === "*") {
      re += "[^/]*";
    } else {
      re += p[i].replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}$`);
}

/**
 * Project files (relative, `/`-separated) that match one of the patterns.
 * @param {RegExp[]} patterns
 * @param {string} dir
 * @param {string[]} out
 */
function walk(patterns, dir, out) {
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith(".")) walk(patterns, rel, out);
    } else if (patterns.some((p) => p.test(rel))) {
      out.push(rel);
    }
  }
  return out;
}

/**
 * Hash of each file's path, size and modification time (absent files count too).
 * @param {string[]} files
 */
function fingerprint(files) {
  const h = createHash("sha256");
  for (const f of [...files].sort()) {
    let stat = "absent";
    try {
      const s = fs.statSync(path.join(ROOT, f));
      stat = `${s.size} ${s.mtimeMs}`;
    } catch {
      // an absent file is part of the fingerprint
    }
    h.update(`${f}\0${stat}\n`);
  }
  return h.digest("hex");
}

/**
 * The current fingerprints, or `undefined` when tsconfig.json is not plain JSON (then: build).
 * @returns {{ sources: string; dependencies: string } | undefined}
 */
function currentState() {
  let include;
  try {
    include = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")).include;
  } catch {
    return undefined;
  }
  if (!Array.isArray(include) || include.some((p) => typeof p !== "string")) return undefined;
  const sources = walk(include.map(globToRegExp), "", []);
  sources.push(path.relative(ROOT, __filename).split(path.sep).join("/"));
  return { sources: fingerprint(sources), dependencies: fingerprint(DEPENDENCY_FILES) };
}

/** @returns {{ sources?: string; dependencies?: string }} */
function recorded() {
  try {
    return JSON.parse(fs.readFileSync(RECORD, "utf8"));
  } catch {
    return {};
  }
}

/**
 * What a build would do now: nothing, an incremental build or a full one.
 * @returns {{ action: "none" | "incremental" | "full"; reason: string }}
 */
function staleness() {
  const now = currentState();
  const was = recorded();
  if (!now) return { action: "full", reason: "tsconfig.json is not plain JSON" };
  if (!was.sources || !was.dependencies)
    return { action: "full", reason: "no successful build recorded" };
  if (now.dependencies !== was.dependencies) {
    return { action: "full", reason: "dependencies or compiler options changed" };
  }
  if (now.sources !== was.sources) return { action: "incremental", reason: "sources changed" };
  return { action: "none", reason: "up to date" };
}

/**
 * Builds bin/ when stale. Throws (with the compiler's output) when the build fails; the record
 * is then left out, so the next call builds again.
 * @param {{ force?: boolean; quiet?: boolean; inheritOutput?: boolean }} [options]
 * @returns {"none" | "incremental" | "full"}
 */
function ensureBuilt(options = {}) {
  const { action, reason } = options.force
    ? { action: /** @type {const} */ ("full"), reason: "--force" }
    : staleness();
  if (action === "none") return action;
  let tsc;
  try {
    tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
  } catch {
    throw new Error(
      `bin/ is stale (${reason}) and the TypeScript compiler is not installed: run npm ci`,
    );
  }
  if (!options.quiet) process.stderr.write(`build: ${reason}; compiling (tsc -b)\n`);
  const args = [tsc, "-b", ROOT, ...(action === "full" ? ["--force"] : [])];
  // Fingerprint before compiling: a file edited during the build makes the next call build again.
  const before = currentState();
  try {
    execFileSync(process.execPath, args, {
      cwd: ROOT,
      stdio: options.inheritOutput ? "inherit" : ["ignore", "pipe", "pipe"],
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    const err = /** @type {{ stdout?: Buffer; stderr?: Buffer }} */ (e);
    const output = `${err.stdout?.toString() ?? ""}${err.stderr?.toString() ?? ""}`.trim();
    fs.rmSync(RECORD, { force: true });
    throw new Error(`the TypeScript build failed${output ? `:\n${output}` : ""}`);
  }
  if (before) fs.writeFileSync(RECORD, JSON.stringify(before) + "\n");
  return action;
}

module.exports = { ensureBuilt, staleness, globToRegExp };

if (require.main === module) {
  try {
    ensureBuilt({ force: process.argv.includes("--force"), inheritOutput: true });
  } catch (e) {
    // With inherited output the compiler has printed its errors already.
    process.stderr.write(`${/** @type {Error} */ (e).message.split("\n")[0]}\n`);
    process.exitCode = 1;
  }
}
