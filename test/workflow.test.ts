/**
 * The pull-request workflow: valid GitHub Actions structure, current action majors, the offline
 * job runs what the README says with no credentials, and the real preview is opt-in: it runs only
 * for the stacks the user lists (repository variable or workflow_dispatch input), never for the
 * example stacks. The step that picks the stacks is run with bash, as the runner runs it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";
import {
  runPickScript,
  type WorkflowJob as Job,
  type WorkflowStep as Step,
} from "./support/workflow-step";

interface Workflow {
  on: Record<string, { inputs?: Record<string, unknown> } | null>;
  jobs: Record<string, Job>;
}

const text = readFileSync(path.join(ROOT, ".github", "workflows", "pull-request.yml"), "utf8");
const wf = parse(text) as Workflow;
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");

/**
 * The newest major of each action this workflow uses, as of late 2026 (checked against each
 * action's tags): actions/checkout v7.0.1, actions/setup-node v7.0.0, actions/upload-artifact
 * v7.0.0, pulumi/actions v7.0.0 (all on the node24 runtime).
 */
const CURRENT = {
  "actions/checkout": "v7",
  "actions/setup-node": "v7",
  "actions/upload-artifact": "v7",
  "pulumi/actions": "v7",
};

/** Runs the `pick` step's script as the runner would, and returns its `stacks` output. */
function pick(env: Record<string, string>): { code: number; stacks?: unknown; log: string } {
  const step = wf.jobs.stacks.steps.find((s) => s.id === "pick") as Step;
  return runPickScript(step.run as string, env);
}

describe("pull-request workflow", () => {
  it("has the GitHub Actions shape: triggers, jobs with runs-on and steps, each step uses or runs", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request", "workflow_dispatch"]);
    expect(Object.keys(wf.jobs)).toEqual(["offline", "stacks", "preview"]);
    for (const [id, job] of Object.entries(wf.jobs)) {
      expect(job["runs-on"], id).toBe("ubuntu-latest");
      expect(Array.isArray(job.steps), id).toBe(true);
      for (const step of job.steps) {
        expect("uses" in step !== "run" in step, `${id}: ${JSON.stringify(step)}`).toBe(true);
        if (step.run) expect(typeof step.run).toBe("string");
      }
    }
    const opens = text.match(/\$\{\{/g)?.length ?? 0;
    expect(text.match(/\}\}/g)?.length ?? 0).toBe(opens);
  });

  it("uses the current major of every action", () => {
    const used = Object.values(wf.jobs).flatMap((j) => j.steps.flatMap((s) => s.uses ?? []));
    expect(used.length).toBeGreaterThan(0);
    for (const uses of used) {
      const [action, ref] = uses.split("@");
      expect(CURRENT, uses).toHaveProperty([action]);
      expect(ref, uses).toBe(CURRENT[action as keyof typeof CURRENT]);
    }
  });

  it("the offline job runs the README's test command, plans every stack with a diff and policies", () => {
    const runs = wf.jobs.offline.steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain("npm ci && npm test");
    expect(runs).toContain("for f in stacks/Pulumi.*.yaml");
    expect(runs).toContain('--diff "$RUNNER_TEMP/base/$s.json"');
    expect(runs).toContain("--policy-config");
    expect(runs).toContain("GITHUB_STEP_SUMMARY");
    expect(JSON.stringify(wf.jobs.offline)).not.toContain("secrets.");
    expect(readme).toContain("npm ci && npm test");
    // The base branch exists on pull requests only.
    const base = wf.jobs.offline.steps.find((s) => s.run?.includes("GITHUB_BASE_REF"));
    expect(base?.if).toBe("github.event_name == 'pull_request'");
  });

  it("previews only the stacks the user lists, never the example stack files", () => {
    const preview = wf.jobs.preview;
    expect(preview.needs).toBe("stacks");
    expect(preview.if).toBe("needs.stacks.outputs.stacks != '[]'");
    expect(preview.strategy?.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    expect(JSON.stringify(wf.jobs.stacks) + JSON.stringify(preview)).not.toContain("stacks/Pulumi");
    const env = wf.jobs.stacks.steps[0].env ?? {};
    expect(env.REQUESTED).toBe(
      "${{ github.event_name == 'workflow_dispatch' && inputs.stacks || vars.PULUMI_PREVIEW_STACKS }}",
    );
    expect(wf.on.workflow_dispatch?.inputs).toHaveProperty("stacks");
    const action = preview.steps.find((s) => String(s.uses).startsWith("pulumi/actions@"));
    expect(action?.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      diff: true,
      policyPacks: "policy",
    });
    expect(action?.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    // The pack depends on the package in the folder above: both are installed.
    const install = preview.steps.map((s) => s.run ?? "").join("\n");
    expect(install).toContain("npm ci\n");
    expect(install).toContain("npm ci --prefix policy");
  });

  it("picks the listed stacks when a token is set, none when no stacks are listed", () => {
    const token = { HAS_TOKEN: "true", EVENT: "pull_request" };
    expect(
      pick({ ...token, REQUESTED: "acme/spire-federation/prod  acme/x/staging" }),
    ).toMatchObject({ code: 0, stacks: ["acme/spire-federation/prod", "acme/x/staging"] });
    const none = pick({ ...token, REQUESTED: "" });
    expect(none).toMatchObject({ code: 0, stacks: [] });
    expect(none.log).toContain("set the PULUMI_PREVIEW_STACKS variable to opt in");
    // Names are data, never shell: a quote or a `$(…)` stays a string.
    expect(pick({ ...token, REQUESTED: `a/"b $(echo x)` }).stacks).toEqual([
      `a/"b`,
      "$(echo",
      "x)",
    ]);
  });

  it("without the token: skips a pull request's preview with a warning, fails a manual run", () => {
    const pr = pick({ HAS_TOKEN: "false", EVENT: "pull_request", REQUESTED: "acme/p/prod" });
    expect(pr).toMatchObject({ code: 0, stacks: [] });
    expect(pr.log).toContain(
      "::warning::stacks to preview are set (acme/p/prod) but the PULUMI_ACCESS_TOKEN secret is not; skipping the preview",
    );
    const manual = pick({
      HAS_TOKEN: "false",
      EVENT: "workflow_dispatch",
      REQUESTED: "acme/p/prod",
    });
    expect(manual.code).toBe(1);
    expect(manual.stacks).toBeUndefined();
    expect(manual.log).toContain("::error::stacks to preview are set (acme/p/prod)");
  });

  it("the README says how to opt in to the preview", () => {
    expect(readme).toContain("PULUMI_PREVIEW_STACKS");
    expect(readme).toContain("PULUMI_ACCESS_TOKEN");
  });
});
