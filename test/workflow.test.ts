/** The pull-request workflow: valid GitHub Actions structure, and it runs what the README says. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

const wf = parse(readFileSync(path.join(ROOT, ".github", "workflows", "pull-request.yml"), "utf8"));

describe("pull-request workflow", () => {
  it("has the GitHub Actions shape: trigger, jobs with runs-on and steps, each step uses or runs", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(Object.keys(wf.jobs)).toEqual(["offline", "credentials", "preview"]);
    for (const [id, job] of Object.entries<any>(wf.jobs)) {
      expect(job["runs-on"], id).toBe("ubuntu-latest");
      expect(Array.isArray(job.steps), id).toBe(true);
      for (const step of job.steps) {
        expect("uses" in step !== "run" in step, `${id}: ${JSON.stringify(step)}`).toBe(true);
        if (step.uses) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
        if (step.run) expect(typeof step.run).toBe("string");
      }
    }
    const text = readFileSync(path.join(ROOT, ".github", "workflows", "pull-request.yml"), "utf8");
    const opens = text.match(/\$\{\{/g)?.length ?? 0;
    expect(text.match(/\}\}/g)?.length ?? 0).toBe(opens);
  });

  it("the offline job runs the README's test command, plans every stack with a diff and policies", () => {
    const runs = wf.jobs.offline.steps.map((s: any) => s.run ?? "").join("\n");
    expect(runs).toContain("npm ci && npm test");
    expect(runs).toContain("for f in stacks/Pulumi.*.yaml");
    expect(runs).toContain('--diff "$RUNNER_TEMP/base/$s.json"');
    expect(runs).toContain("--policy-config");
    expect(runs).toContain("GITHUB_STEP_SUMMARY");
    expect(JSON.stringify(wf.jobs.offline)).not.toContain("secrets.");
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("npm ci && npm test");
  });

  it("the preview job runs only with credentials, with the policy pack, per stack", () => {
    const preview = wf.jobs.preview;
    expect(preview.if).toBe("needs.credentials.outputs.available == 'true'");
    expect(preview.needs).toBe("credentials");
    const action = preview.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
    expect(action.with).toMatchObject({
      command: "preview",
      diff: true,
      policyPacks: "policy",
      "comment-on-pr": true,
    });
    expect(action.env.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    expect(preview.strategy.matrix.stack).toBe("${{ fromJSON(needs.credentials.outputs.stacks) }}");
  });
});
