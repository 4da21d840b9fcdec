/**
 * The post-deploy verify workflow: opt-in (repository variable, workflow_dispatch input, or a
 * call from the user's deploy workflow), never for the example stacks; its `pick` step run with
 * bash as the runner runs it; the verify step reads the stack's outputs with the Pulumi CLI and
 * runs `npm run verify` on the short stack name, its report in the job summary and an artifact.
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

const wf = parse(readFileSync(path.join(ROOT, ".github", "workflows", "verify.yml"), "utf8")) as {
  on: Record<string, { inputs?: Record<string, unknown> } | unknown[] | null>;
  jobs: Record<string, Job>;
};

function pick(env: Record<string, string>): { code: number; stacks?: unknown; log: string } {
  const step = wf.jobs.stacks.steps.find((s) => s.id === "pick") as Step;
  return runPickScript(step.run as string, env);
}

describe("verify workflow", () => {
  it("runs by hand, when called after a deploy, and daily; reads only", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["schedule", "workflow_call", "workflow_dispatch"]);
    expect((wf.on.workflow_dispatch as { inputs: object }).inputs).toHaveProperty("stacks");
    expect((wf.on.workflow_call as { inputs: object }).inputs).toHaveProperty("stacks");
    const text = readFileSync(path.join(ROOT, ".github", "workflows", "verify.yml"), "utf8");
    expect(text).toMatch(/permissions:\n {2}contents: read\n/);
    expect(text).not.toMatch(/pulumi (up|refresh|destroy)\b(?![`'])/);
  });

  it("verifies only the stacks the user lists (input, else VERIFY_STACKS), each in its own job", () => {
    const env = wf.jobs.stacks.steps[0].env as Record<string, string>;
    expect(env.REQUESTED).toBe("${{ inputs.stacks || vars.VERIFY_STACKS }}");
    expect(wf.jobs.verify.needs).toBe("stacks");
    expect(wf.jobs.verify.if).toBe("needs.stacks.outputs.stacks != '[]'");
    expect(wf.jobs.verify.strategy?.matrix.stack).toBe(
      "${{ fromJSON(needs.stacks.outputs.stacks) }}",
    );
  });

  it.each([
    [{ REQUESTED: "", HAS_TOKEN: "true", EVENT: "schedule" }, 0, []],
    [
      { REQUESTED: "acme/sf/prod acme/sf/dev", HAS_TOKEN: "true", EVENT: "workflow_dispatch" },
      0,
      ["acme/sf/prod", "acme/sf/dev"],
    ],
    [{ REQUESTED: "acme/sf/prod", HAS_TOKEN: "false", EVENT: "schedule" }, 0, []],
    [{ REQUESTED: "acme/sf/prod", HAS_TOKEN: "false", EVENT: "workflow_dispatch" }, 1, undefined],
  ])("pick %j exits %i with %j", (env, code, stacks) => {
    const r = pick(env);
    expect(r.code).toBe(code);
    expect(r.stacks).toEqual(stacks);
  });

  it("reads the outputs with the CLI and runs npm run verify on the stack's file, report in the summary", () => {
    const steps = wf.jobs.verify.steps;
    expect(steps.map((s) => s.uses ?? s.name ?? s.run)).toEqual([
      "actions/checkout@v7",
      "actions/setup-node@v7",
      "npm ci",
      "pulumi/actions@v7",
      "Read the stack's outputs",
      "Verify",
      "actions/upload-artifact@v7",
    ]);
    const read = steps.find((s) => s.name === "Read the stack's outputs") as Step;
    expect(read.run).toBe(
      'pulumi stack output --json --show-secrets --stack "$STACK" > "$RUNNER_TEMP/outputs.json"',
    );
    const verify = steps.find((s) => s.name === "Verify") as Step;
    expect(verify.run).toContain(
      'npm run --silent verify -- --stack "${STACK##*/}" --outputs "$RUNNER_TEMP/outputs.json"',
    );
    expect(verify.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(verify.run).toContain('exit "$code"');
    // The outputs hold secrets: removed before the job ends, never uploaded.
    expect(verify.run).toContain('rm -f "$RUNNER_TEMP/outputs.json"');
  });

  it("the README says how to opt in", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("VERIFY_STACKS");
    expect(readme).toContain(".github/workflows/verify.yml");
  });
});
