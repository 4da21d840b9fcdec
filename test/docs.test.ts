/**
 * The documentation a newcomer walks: every Markdown file states what is, not what is to come;
 * every relative link (file or heading anchor) resolves; the root README opens with a contents list,
 * names every relying party in its intro and layout, and keeps the order Quick start → Deploying
 * for real → configuration → policy pack; each example stack says what it demonstrates and that
 * its secure values are placeholders; package.json names the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { relyingParties } from "../components/federation/registry";
import { ROOT } from "./helpers";

/** Every Markdown file of the repository (not of dependencies or build output). */
function markdownFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (["node_modules", "bin", "coverage", "tmp"].includes(entry.name)) continue;
    if (entry.name.startsWith(".")) continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...markdownFiles(file));
    else if (entry.name.endsWith(".md")) out.push(file);
  }
  return out.sort();
}

/** Markdown without fenced code blocks and inline code spans (links there are not links). */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "``");
}

/** GitHub's anchors of a Markdown file's headings (duplicates get `-1`, `-2`, …). */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutCode = md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .replace(/[`*~]/g, "");
    const base = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets of a Markdown file: `[text](target)` outside code. */
function relativeLinks(md: string): string[] {
  return [...prose(md).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((m) => m[1])
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** What is wrong with one link of `file`, or undefined. */
export function linkProblem(file: string, target: string): string | undefined {
  const [rawPath, anchor] = target.split("#", 2);
  const resolved = rawPath ? path.resolve(path.dirname(file), decodeURI(rawPath)) : file;
  if (!existsSync(resolved)) return `${target}: no such file`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith(".md")) {
    return `${target}: an anchor into a file that is not Markdown`;
  }
  if (!anchors(readFileSync(resolved, "utf8")).has(anchor)) return `${target}: no such heading`;
  return undefined;
}

/** Claims of work that has not happened: a README describes what the code does today. */
const UNFINISHED = [
  /\bnot yet\b/i,
  /\b(landed|implemented|available|supported|applied|wired|done) yet\b/i,
  /coming soon/i,
  /\b(TODO|TBD|FIXME|XXX)\b/,
  /\bwill (land|be added|be implemented|come|follow)\b/i,
  /\b(planned|upcoming) (for|in) (a )?(later|future|next)/i,
  /(?<!\bnothing )\b(is|are|was|were|still|remains?) (planned|upcoming)\b(?! by)/i,
  /^\W*(planned|upcoming)\b|\((planned|upcoming)\)/i,
  /\bwork in progress\b|\bWIP\b/i,
  /\bin a (later|future) (release|version|round|change)/i,
  /\bnot (in|part of) this (version|release)\b/i,
  /\b(in|with|for) the next (release|version)\b/i,
  /\bnot (yet )?(landed|shipped)\b/i,
];

/** Each line of `md` (outside code) with an unfinished-work claim, as `<line>: <text>`. */
export function unfinishedClaims(md: string): string[] {
  return prose(md)
    .split("\n")
    .flatMap((line) => (UNFINISHED.some((re) => re.test(line)) ? [line.trim()] : []));
}

/** Repository paths that name no file of ours on purpose: an example party, a placeholder, upstream's. */
const NOT_OURS = [
  /\/acme\//, // the example party of "Adding a relying party"
  /\bNAME\b/, // a placeholder for the stack's name
  /^tools\/packaging\//, // istio/istio's own tree
];

/** Paths of this repository that `md` names in code spans (outside code blocks) and that do not exist. */
export function stalePaths(md: string, file: string): string[] {
  const withoutBlocks = md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  return [
    ...withoutBlocks.matchAll(
      /`((?:components|tools|bench|policy|test|stacks|examples)\/[A-Za-z0-9_./-]*)`/g,
    ),
  ]
    .map((m) => m[1])
    .filter((p) => !NOT_OURS.some((re) => re.test(p)))
    .filter((p) => ![ROOT, path.dirname(file)].some((dir) => existsSync(path.join(dir, p))));
}

const files = markdownFiles();
const rel = (f: string) => path.relative(ROOT, f);

describe("documentation checks", () => {
  it("finds the claims and the broken links it must", () => {
    expect(unfinishedClaims("Done.\nThe X.509 path is not yet landed.\n`TODO` in code")).toEqual([
      "The X.509 path is not yet landed.",
    ]);
    expect(unfinishedClaims("Coming soon: Curity.\n```\nTODO\n```\nWill land later")).toEqual([
      "Coming soon: Curity.",
      "Will land later",
    ]);
    expect(unfinishedClaims("measured, not applied yet)\nJoin tokens are not supported.")).toEqual([
      "measured, not applied yet)",
    ]);
    expect(unfinishedClaims("Entra rejects what is not RS256; no token yet exists")).toEqual([]);
    expect(
      unfinishedClaims(
        "X.509 federation is planned.\n- Planned: AWS\nAWS (planned)\nnothing is planned; the planned resources",
      ),
    ).toEqual(["X.509 federation is planned.", "- Planned: AWS", "AWS (planned)"]);
    const readme = path.join(ROOT, "README.md");
    expect(linkProblem(readme, "CONTRIBUTING.md")).toBeUndefined();
    expect(linkProblem(readme, "#quick-start")).toBeUndefined();
    expect(linkProblem(readme, "#quick-starts")).toBe("#quick-starts: no such heading");
    expect(linkProblem(readme, "components/nope/README.md")).toBe(
      "components/nope/README.md: no such file",
    );
    expect(
      unfinishedClaims("X is not in this version.\nY comes in the next release\nZ has not landed"),
    ).toEqual(["X is not in this version.", "Y comes in the next release", "Z has not landed"]);
    expect(
      stalePaths(
        "`test/docs.test.ts`, `test/ziti-server.ts`, `components/federation/acme/rules.ts`\n```\n`test/gone.ts`\n```",
        readme,
      ),
    ).toEqual(["test/ziti-server.ts"]);
    expect([
      ...anchors("# A `b:c` d\n## Builds: only when x\n## Dup\n## Dup\n```\n# no\n```"),
    ]).toEqual(["a-bc-d", "builds-only-when-x", "dup", "dup-1"]);
  });

  it("covers every Markdown file of the repository", () => {
    expect(files.map(rel)).toEqual(
      expect.arrayContaining([
        "README.md",
        "CONTRIBUTING.md",
        "bench/README.md",
        "policy/README.md",
        "components/nodes/README.md",
        ...relyingParties.map((p) => `components/federation/${p.key}/README.md`),
      ]),
    );
  });

  // Upstream text carried verbatim (test/contracts/, other than its READMEs) is not ours to word.
  const ours = files.filter(
    (f) =>
      !rel(f).startsWith(`test${path.sep}contracts${path.sep}`) || path.basename(f) === "README.md",
  );
  it.each(ours.map((f) => [rel(f), f] as const))(
    "%s: no 'not yet'/'coming soon' claims",
    (_, f) => {
      expect(unfinishedClaims(readFileSync(f, "utf8"))).toEqual([]);
    },
  );

  it.each(ours.map((f) => [rel(f), f] as const))(
    "%s: every repository path it names in code exists",
    (_, f) => {
      expect(stalePaths(readFileSync(f, "utf8"), f)).toEqual([]);
    },
  );

  it.each(files.map((f) => [rel(f), f] as const))("%s: every relative link resolves", (_, f) => {
    const md = readFileSync(f, "utf8");
    expect(relativeLinks(md).flatMap((t) => linkProblem(f, t) ?? [])).toEqual([]);
  });
});

describe("the root README", () => {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  const section = (title: string) => {
    const start = readme.indexOf(`\n## ${title}\n`);
    const end = readme.indexOf("\n## ", start + 1);
    return readme.slice(start, end === -1 ? undefined : end);
  };

  it("opens with a contents list that links every section", () => {
    expect(headings[0]).toBe("Contents");
    const contents = section("Contents");
    const own = anchors(readme);
    for (const h of headings.slice(1)) {
      const anchor = [...anchors(`## ${h}`)][0];
      expect(own.has(anchor), h).toBe(true);
      expect(contents, h).toContain(`(#${anchor})`);
    }
  });

  it("reads Quick start, Deploying for real, configuration, the policy pack, then the rest", () => {
    expect(headings.slice(1, 4)).toEqual([
      "Quick start",
      "Deploying for real",
      "Stack configuration",
    ]);
    // The configuration reference's own sections, then the policy pack.
    const pack = headings.indexOf("The policy pack");
    expect(headings.slice(4, pack)).toEqual([
      "Workload files",
      "Machines outside Kubernetes",
      "Istio on SPIRE",
      "AWS IAM",
      "Federating trust domains",
    ]);
    expect(section("Quick start")).toContain("npm run plan -- --stack dev");
    expect(section("Quick start")).toContain("npm ci && npm test");
    expect(section("Benchmark")).toContain("(bench/README.md)");
    expect(section("Benchmark")).not.toContain("bench:start");
  });

  it("says what deploying for real needs: CLI, plugins, each party's permissions, secrets", () => {
    const deploy = section("Deploying for real");
    for (const needed of [
      "Pulumi CLI",
      "plugin",
      "Managed Identity Contributor",
      "resource group must exist",
      "roles/iam.workloadIdentityPoolAdmin",
      "roles/resourcemanager.projectIamAdmin",
      'path "sys/auth/spire-jwt"',
      "admin identity",
      "pulumi config set --secret",
    ]) {
      expect(deploy, needed).toContain(needed);
    }
    for (const p of relyingParties)
      expect(section("Stack configuration")).toContain(
        `(components/federation/${p.key}/README.md)`,
      );
  });

  it("names every relying party in the intro and the layout", () => {
    const intro = readme.slice(0, readme.indexOf("\n## "));
    const layout = section("Layout");
    for (const p of relyingParties) {
      expect(intro, p.key).toContain(`(\`${p.key}\`)`);
      expect(layout, p.key).toMatch(new RegExp(`\\b${p.key} \\(`));
    }
  });

  it("documents publishing and enabling the policy pack", () => {
    const pack = section("The policy pack");
    expect(pack).toContain("pulumi policy publish <org>");
    expect(pack).toContain("pulumi policy enable <org>/spire-federation latest");
    expect(pack).toContain(`from "spire-federation/policies"`);
  });
});

describe("the example stacks and package.json", () => {
  const stacks = readdirSync(path.join(ROOT, "stacks")).filter((f) => f.endsWith(".yaml"));

  it.each(stacks)(
    "%s opens with what it demonstrates and that its secrets are placeholders",
    (f) => {
      const text = readFileSync(path.join(ROOT, "stacks", f), "utf8");
      const header = text.slice(0, text.search(/^[^#\n]/m));
      const secure = (text.match(/^\s*secure:/gm) ?? []).length;
      expect(header).toMatch(/^# EXAMPLE stack \(`npm run plan -- --stack [a-z][a-z-]*`\)/);
      expect(header).toContain(secure > 0 ? "placeholder" : "holds no secure values");
      // What it demonstrates: the stack's own description follows the example note.
      expect(header.split("\n#\n")[1]?.length ?? 0).toBeGreaterThan(80);
    },
  );

  it("package.json and the policy pack name one repository (a documented placeholder until it is hosted)", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      repository?: { type: string; url: string };
    };
    expect(pkg.repository?.type).toBe("git");
    const m = /^git\+https:\/\/github\.com\/([A-Za-z0-9-]+)\/spire-federation\.git$/.exec(
      pkg.repository?.url ?? "",
    );
    expect(m).not.toBeNull();
    // The policy pack is published from the same repository, from its policy/ folder.
    const pack = JSON.parse(readFileSync(path.join(ROOT, "policy", "package.json"), "utf8")) as {
      repository?: { type: string; url: string; directory?: string };
    };
    expect(pack.repository).toEqual({ ...pkg.repository, directory: "policy" });
    if (m?.[1] === "your-org") {
      expect(readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain(
        "`github.com/your-org/spire-federation`, a placeholder",
      );
    }
  });
});
