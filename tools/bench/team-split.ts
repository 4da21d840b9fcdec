/**
 * Team stacks against one big stack: the same `n` workloads (Vault grants, spread over `teams`
 * namespaces) planned once as one stack, and as a platform stack plus one team stack per
 * namespace, each plan in a process of its own (wall, CPU, peak memory; see measure.ts).
 *
 *   node tools/build.cjs && node bin/tools/bench/team-split.js [--workloads 1000] [--teams 10] [--runs 1]
 *
 * The team stacks read the platform's outputs from the fixture the platform's own plan writes
 * (`outputs/bench/spire-federation/platform.json` in the generated stacks folder).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import {
  platformFixturePath,
  platformFixtureText,
  platformOutputsOfPlan,
} from "../platform-outputs";
import { planStack } from "../plan";
import { BENCH_CORE } from "./generated-stack";
import { BIN, medianCost, type Cost } from "./measure";

/** The platform's config: the core and Vault, with `workloads` (none when it only hosts teams). */
function platformConfig(workloads: unknown[], teamStacks: Record<string, unknown>): string {
  return stringify({
    config: {
      "vault:address": "https://vault.bench.example.com:8200",
      ...BENCH_CORE,
      ...(Object.keys(teamStacks).length > 0 ? { "spire-federation:teamStacks": teamStacks } : {}),
      "spire-federation:workloads": workloads,
    },
  });
}

/** `n` workloads in `teams` namespaces (`team-<i>`), each with a Vault grant. */
function workloads(n: number, teams: number, team?: number) {
  return Array.from({ length: n }, (_, i) => ({
    name: `svc-${i}`,
    namespace: `team-${team ?? i % teams}`,
    serviceAccount: `svc-${i}`,
    vault: { policies: ["read"] },
  }));
}

/** Writes the big stack, the platform and its team stacks (and the platform's outputs fixture). */
export async function writeSplitStacks(dir: string, n: number, teams: number): Promise<void> {
  writeFileSync(path.join(dir, "Pulumi.big.yaml"), platformConfig(workloads(n, teams), {}));
  const teamStacks = Object.fromEntries(
    Array.from({ length: teams }, (_, t) => [`team-${t}`, { namespaces: [`team-${t}`] }]),
  );
  writeFileSync(path.join(dir, "Pulumi.platform.yaml"), platformConfig([], teamStacks));
  for (let t = 0; t < teams; t++) {
    const text = stringify({
      config: {
        "vault:address": "https://vault.bench.example.com:8200",
        "spire-federation:platform": "bench/spire-federation/platform",
        "spire-federation:vault": BENCH_CORE["spire-federation:vault"],
        "spire-federation:workloads": workloads(Math.ceil(n / teams), teams, t),
      },
    });
    writeFileSync(path.join(dir, `Pulumi.team-${t}.yaml`), text);
  }
  const fixture = platformFixturePath(dir, "bench", "platform");
  mkdirSync(path.dirname(fixture), { recursive: true });
  writeFileSync(
    fixture,
    platformFixtureText(platformOutputsOfPlan(await planStack("platform", dir))),
  );
}

async function main(argv: readonly string[]): Promise<void> {
  const at = (flag: string, d: number) => {
    const i = argv.indexOf(flag);
    return i < 0 ? d : Number(argv[i + 1]);
  };
  const n = at("--workloads", 1000);
  const teams = at("--teams", 10);
  const runs = at("--runs", 1);
  const dir = mkdtempSync(path.join(tmpdir(), "bench-teams-"));
  await writeSplitStacks(dir, n, teams);
  const plan = (stack: string) =>
    medianCost(runs, [BIN.plan, "--stack", stack, "--stacks-dir", dir]);
  const rows: [string, Cost | { failed: string }][] = [
    [`one stack, ${n} workloads`, plan("big")],
    ["platform stack, no workloads", plan("platform")],
    [`one team stack, ${Math.ceil(n / teams)} workloads`, plan("team-0")],
  ];
  const lines = [
    `| ${n} workloads, ${teams} teams | wall | CPU | peak memory |`,
    "| --- | --- | --- | --- |",
    ...rows.map(([what, c]) =>
      "failed" in c
        ? `| ${what} | failed: ${c.failed} | | |`
        : `| ${what} | ${c.seconds.toFixed(1)} s | ${c.cpuSeconds.toFixed(1)} s | ${Math.round(c.peakRssMb)} MB |`,
    ),
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
