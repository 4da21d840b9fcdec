/**
 * tools/build.cjs (what `npm run build`, `plan`, `bench`, `prepare` and the Pulumi entry run) and
 * tools/pulumi-main.cjs, on a scratch project that uses the repository's TypeScript compiler: an
 * unchanged tree compiles nothing, a changed source or dependency rebuilds, a failed build stops
 * the Pulumi entry.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

type Action = "none" | "incremental" | "full";

let dir: string;

/** Runs build.cjs in a fresh process, as the npm scripts do; returns the action it took. */
function build(): Action {
  const out = execFileSync(
    process.execPath,
    ["-e", `console.log(require("./tools/build.cjs").ensureBuilt({ quiet: true }))`],
    { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  return out.trim() as Action;
}

/** Loads the Pulumi entry in a fresh process; returns what its export returns, or the error. */
function runEntry(): string {
  try {
    return execFileSync(
      process.execPath,
      ["-e", `console.log(require("./tools/pulumi-main.cjs")())`],
      { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    ).trim();
  } catch (e) {
    return `error: ${(e as { stderr: string }).stderr}`;
  }
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "build-test-"));
  for (const f of ["tools/build.cjs", "tools/pulumi-main.cjs"]) {
    mkdirSync(path.join(dir, "tools"), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  write(
    "tsconfig.json",
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "commonjs",
        strict: true,
        types: [],
        outDir: "bin",
        rootDir: ".",
        incremental: true,
        tsBuildInfoFile: "bin/.tsbuildinfo",
      },
      include: ["index.ts", "lib/**/*.ts"],
    }),
  );
  write("package.json", JSON.stringify({ name: "scratch", version: "1.0.0" }));
  write("package-lock.json", "{}\n");
  write("node_modules/.package-lock.json", "{}\n");
  const typescript = path.dirname(createRequire(__filename).resolve("typescript/package.json"));
  symlinkSync(typescript, path.join(dir, "node_modules", "typescript"), "dir");
  write("lib/greeting.ts", `export const greeting = "first";\n`);
  write("index.ts", `import { greeting } from "./lib/greeting";\nexport = () => greeting;\n`);
});

describe("tools/build.cjs", () => {
  it("builds when nothing was built, then compiles nothing on an unchanged tree", () => {
    expect(build()).toBe("full");
    expect(existsSync(path.join(dir, "bin", "index.js"))).toBe(true);
    expect(build()).toBe("none");
    expect(build()).toBe("none");
  });

  it("rebuilds incrementally when a source changes, and the output follows", () => {
    write("lib/greeting.ts", `export const greeting = "second";\n`);
    expect(build()).toBe("incremental");
    expect(readFileSync(path.join(dir, "bin", "lib", "greeting.js"), "utf8")).toContain("second");
    expect(build()).toBe("none");
  });

  it("rebuilds when a source is added under an included folder, not for other files", () => {
    write("notes/readme.ts", `export const unrelated = 1;\n`);
    expect(build()).toBe("none");
    write("lib/extra.ts", `export const extra = 1;\n`);
    expect(build()).toBe("incremental");
    expect(existsSync(path.join(dir, "bin", "lib", "extra.js"))).toBe(true);
  });

  it("rebuilds fully when node_modules or the lockfile change", () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(dir, "node_modules", ".package-lock.json"), later, later);
    expect(build()).toBe("full");
    expect(build()).toBe("none");
    write("package-lock.json", `{ "lockfileVersion": 3 }\n`);
    expect(build()).toBe("full");
    expect(build()).toBe("none");
  });
});

describe("tools/pulumi-main.cjs", () => {
  it("runs the current program after a source change, without a separate build", () => {
    write("lib/greeting.ts", `export const greeting = "third";\n`);
    expect(runEntry()).toBe("third");
    expect(build()).toBe("none");
  });

  it("refuses to run when the build fails, and builds again next time", () => {
    write("lib/greeting.ts", `export const greeting: number = "fourth";\n`);
    const result = runEntry();
    expect(result).toMatch(/^error: /);
    expect(result).toContain("the TypeScript build failed");
    expect(result).toContain("lib/greeting.ts");
    expect(result).toContain("TS2322");
    write("lib/greeting.ts", `export const greeting = "fifth";\n`);
    expect(runEntry()).toBe("fifth");
  });
});
