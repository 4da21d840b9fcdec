/**
 * The package as another Pulumi program consumes it: `npm pack` (which runs `prepare`), the
 * tarball unpacked into a scratch program's node_modules beside exactly the dependencies the
 * package declares (linked from this repository's node_modules: no registry, no network), its
 * root import resolved by Node.js and by TypeScript, and a program built from the package's
 * components planned under the SDK's mocks in its own process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers";
import {
  linkDependencies,
  npmPack,
  readManifest,
  unpack,
  type Manifest,
} from "./support/scratch-install";

let scratch: string;
let packedFiles: string[];
let manifest: Manifest;

/** The scratch program: CertManager (generated root) + Spire with one workload, from the root import. */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { CertManager, Spire } = require("spire-federation");

const registered = [];
pulumi.runtime
  .setMocks(
    {
      newResource: (a) => {
        registered.push({ type: a.type, name: a.name, inputs: a.inputs });
        return { id: a.custom ? a.name + "-id" : undefined, state: a.inputs };
      },
      call: () => ({}),
    },
    "consumer",
    "dev",
    true,
  )
  .then(() =>
    pulumi.runtime.runInPulumiStack(async () => {
      const cm = new CertManager("cm", {
        install: true,
        chartVersion: "v1.19.1",
        namespace: "cert-manager",
        root: {
          mode: "generated",
          keyAlgorithm: "ECDSA-P256",
          validityHours: 87600,
          trustDomain: "consumer.example.org",
          clusterIssuerName: "consumer-root",
        },
      });
      new Spire("spire", {
        trustDomain: "consumer.example.org",
        clusterName: "prod-eu",
        jwtIssuer: "https://oidc.consumer.example.org",
        caSubject: { country: "NL", organization: "Consumer", commonName: "consumer.example.org" },
        caKeyType: "rsa-2048",
        caTTL: "48h",
        x509SvidTTL: "1h",
        jwtSvidTTL: "5m",
        replicas: 1,
        datastore: { type: "sqlite3" },
        clusterIssuerName: cm.clusterIssuerName,
        className: "consumer",
        oidc: {
          host: "oidc.consumer.example.org",
          ingressClassName: "nginx",
          ingressControllerType: "ingress-nginx",
          tls: { kind: "acme", email: "ops@consumer.example.org", server: "https://acme.example.org/dir" },
        },
        chartVersion: "0.30.0",
        crdsChartVersion: "0.6.0",
        workloads: [
          {
            name: "billing",
            namespace: "billing",
            serviceAccount: "billing",
            spiffeId: "spiffe://consumer.example.org/billing",
            podLabels: { app: "billing" },
          },
        ],
        upstreamReady: cm.ready,
      });
      return {};
    }),
  )
  .then(() => pulumi.runtime.waitForRPCs && pulumi.runtime.waitForRPCs())
  .then(() => console.log(JSON.stringify(registered)));
`;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "consumer-"));
  const pack = npmPack(ROOT, scratch);
  packedFiles = pack.files;
  const installed = path.join(scratch, "node_modules", "spire-federation");
  unpack(pack.tarball, installed);
  manifest = readManifest(installed);
  // Exactly the declared dependencies (an undeclared import would fail to resolve), and the
  // consumer's own @types/node.
  linkDependencies(scratch, { ...manifest.dependencies, "@types/node": "*" });
  writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "consumer" }));
  writeFileSync(path.join(scratch, "index.js"), PROGRAM);
}, 120_000);

describe("npm pack", () => {
  it("ships the compiled components with their declarations, and none of the tooling", () => {
    const files = packedFiles;
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "bin/components/index.js",
        "bin/components/index.d.ts",
      ]),
    );
    const unwanted = files.filter(
      (f) =>
        (/^bin\/(tools|bench|policy)\//.test(f) &&
          !/^bin\/tools\/(verify\/|stack-config\.|stack-outputs\.)/.test(f)) ||
        f.endsWith(".tsbuildinfo") ||
        f === "bin/.build.json" ||
        (f.endsWith(".ts") && !f.endsWith(".d.ts")) ||
        f.startsWith("test/") ||
        f.startsWith("stacks/"),
    );
    expect(unwanted).toEqual([]);
    expect(manifest).not.toHaveProperty("private");
  });

  it("ships the verify command as a bin that runs from the installed package", () => {
    expect(manifest.bin).toEqual({ "spire-federation-verify": "bin/tools/verify/main.js" });
    const bin = path.join(
      scratch,
      "node_modules",
      "spire-federation",
      "bin",
      "tools",
      "verify",
      "main.js",
    );
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const r = spawnSync(process.execPath, [bin], { cwd: scratch, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("verify: --stack is required");
  });

  it("resolves the root import to the components, for Node.js and for TypeScript", () => {
    const resolved = execFileSync(process.execPath, ["-p", `require.resolve("spire-federation")`], {
      cwd: scratch,
      encoding: "utf8",
    }).trim();
    expect(path.relative(scratch, resolved)).toBe(
      path.join("node_modules", "spire-federation", "bin", "components", "index.js"),
    );
    for (const moduleResolution of [
      ts.ModuleResolutionKind.Node16,
      ts.ModuleResolutionKind.Node10,
    ]) {
      const r = ts.resolveModuleName(
        "spire-federation",
        path.join(scratch, "index.ts"),
        { module: ts.ModuleKind.Node16, moduleResolution },
        ts.sys,
      );
      expect(path.relative(scratch, r.resolvedModule?.resolvedFileName ?? "")).toBe(
        path.join("node_modules", "spire-federation", "bin", "components", "index.d.ts"),
      );
    }
    const dts = readFileSync(
      path.join(scratch, "node_modules", "spire-federation", "bin", "components", "index.d.ts"),
      "utf8",
    );
    expect(dts).toContain("cert-manager");
  });

  it("exports the components and their helpers from the package root", () => {
    const keys = JSON.parse(
      execFileSync(
        process.execPath,
        ["-p", `JSON.stringify(Object.keys(require("spire-federation")))`],
        { cwd: scratch, encoding: "utf8" },
      ),
    ) as string[];
    expect(keys).toEqual(
      expect.arrayContaining(["CertManager", "Spire", "SpireFederation", "parseStackConfig"]),
    );
    // Every ComponentResource class under components/ (IstioFederation was missing).
    expect(
      componentClasses()
        .map((c) => c.name)
        .filter((n) => !keys.includes(n)),
    ).toEqual([]);
  });

  it("plans a consumer's program built from the package's components under mocks", () => {
    const registered = JSON.parse(
      execFileSync(process.execPath, ["index.js"], { cwd: scratch, encoding: "utf8" }),
    ) as { type: string; name: string; inputs: Record<string, unknown> }[];
    const byName = (n: string) => registered.find((r) => r.name === n);
    expect(registered.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        "spire-federation:index:CertManager",
        "spire-federation:index:Spire",
        "tls:index/privateKey:PrivateKey",
        "tls:index/selfSignedCert:SelfSignedCert",
        "kubernetes:cert-manager.io/v1:ClusterIssuer",
        "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID",
      ]),
    );
    expect(byName("spire-crds")?.inputs).toMatchObject({ chart: "spire-crds", version: "0.6.0" });
    expect(byName("spire-release")?.inputs).toMatchObject({ chart: "spire", version: "0.30.0" });
    expect(byName("spire-id-billing")?.inputs).toMatchObject({
      kind: "ClusterSPIFFEID",
      spec: {
        className: "consumer",
        spiffeIDTemplate: "spiffe://consumer.example.org/billing",
      },
    });
    expect(registered.filter((r) => r.type === "kubernetes:helm.sh/v3:Release")).toHaveLength(3);
  });
});

/** Every ComponentResource class under components/, with the args type its constructor takes. */
function componentClasses(): { name: string; args: string }[] {
  const found: { name: string; args: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
        const src = readFileSync(file, "utf8");
        for (const m of src.matchAll(
          /export class (\w+) extends pulumi\.ComponentResource[\s\S]*?constructor\(\s*name: string,\s*args: (\w+)/g,
        )) {
          found.push({ name: m[1], args: m[2] });
        }
      }
    }
  };
  walk(path.join(ROOT, "components"));
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

describe("a TypeScript consumer of the packed package", () => {
  const components = componentClasses();

  it("finds every component of the package", () => {
    expect(components.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "CertManager",
        "CurityFederation",
        "EntraFederation",
        "GcpFederation",
        "IstioFederation",
        "Nodes",
        "OpenZitiFederation",
        "Spire",
        "SpireFederation",
        "VaultFederation",
        "WorkloadFiles",
      ]),
    );
  });

  it("compiles against the root's declarations with strict settings and skipLibCheck off", () => {
    // Every component and its args from the root import, used in type and value positions.
    const source = [
      `import type { ComponentResourceOptions } from "@pulumi/pulumi";`,
      `import {`,
      ...components.map((c) => `  ${c.name},\n  type ${c.args},`),
      `} from "spire-federation";`,
      `type Component = new (name: string, args: never, opts?: ComponentResourceOptions) => object;`,
      `export const components: Component[] = [${components.map((c) => c.name).join(", ")}];`,
      `export type Args = [${components.map((c) => c.args).join(", ")}];`,
      `export function spire(args: SpireArgs): Spire {`,
      `  return new Spire("spire", args);`,
      `}`,
      "",
    ].join("\n");
    const file = path.join(scratch, "consumer.ts");
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      types: ["node"],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) =>
      ts.formatDiagnostic(d, {
        ...ts.sys,
        getCanonicalFileName: (f) => f,
        getNewLine: () => "\n",
        getCurrentDirectory: () => scratch,
      }),
    );
    expect(problems).toEqual([]);
  }, 600_000);

  it("keeps @pulumi/policy out of the root's declarations, an optional peer of ./policies", () => {
    const dts = path.join(scratch, "node_modules", "spire-federation", "bin", "components");
    const naming: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (
          entry.name.endsWith(".d.ts") &&
          /from "@pulumi\/policy"/.test(readFileSync(file, "utf8"))
        )
          naming.push(path.relative(dts, file));
      }
    };
    walk(dts);
    expect(naming).toEqual(["policies.d.ts"]);
    expect(manifest.dependencies).not.toHaveProperty("@pulumi/policy");
    expect(manifest.peerDependencies).toEqual({ "@pulumi/policy": "^1.21.0" });
  });
});
