/**
 * The gcp check's IAM bindings against the Cloud Resource Manager v3 double
 * (test/verify/gcp-crm-server.ts, contract test/contracts/gcp/cloudresourcemanager-v3-iam.json):
 * one `getIamPolicy` per granting project, each planned (role, principal) found unconditionally,
 * and a missing binding, a wrong member, a wrong role, a conditional binding and an unreadable
 * policy each named.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { gcpStack, NUMBER, PRINCIPAL, useGcp } from "./gcp-fixture";
import { PAYMENTS_ID, writeStack } from "./support";

const f = useGcp();
let twoProjects: string;
const VIEWER = "roles/storage.objectViewer";
const SUBSCRIBER = "roles/pubsub.subscriber";

beforeAll(() => {
  twoProjects = writeStack(
    "t",
    gcpStack([{ role: VIEWER }, { role: SUBSCRIBER, project: "acme-data" }]),
  );
});

const run = (dir?: string) => f.run({ dir });
const iamRequests = () =>
  f.gcp.server.requests
    .filter((q) => q.path.startsWith("/v3/"))
    .map((q) => `${q.method} ${q.path} ${q.body}`);
const FIX =
  "fix: pulumi up restores it (someone changed it outside the stack), or fix the stack config";

describe("verify gcp: IAM bindings through Cloud Resource Manager v3", () => {
  it("reads each granting project's policy once (version 3) and passes the planned bindings", async () => {
    f.state.policies!["acme-data"] = {
      bindings: [{ role: SUBSCRIBER, members: [PRINCIPAL] }],
    };
    const r = await run(twoProjects);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `PASS gcp: iam ${VIEWER} on acme-platform: project acme-platform grants ${VIEWER} to the workload's principal "${PRINCIPAL}"`,
    );
    expect(r.stdout).toContain(
      `PASS gcp: iam ${SUBSCRIBER} on acme-data: project acme-data grants ${SUBSCRIBER}`,
    );
    expect(iamRequests()).toEqual([
      'POST /v3/projects/acme-platform:getIamPolicy {"options":{"requestedPolicyVersion":3}}',
      'POST /v3/projects/acme-data:getIamPolicy {"options":{"requestedPolicyVersion":3}}',
    ]);
    expect(r.stderr).toContain("(getIamPolicy: reads only)");
    expect(f.gcp.violations).toEqual([]);
  });

  it("fails a missing binding", async () => {
    f.state.policies!["acme-platform"].bindings[1].members = ["group:readers@example.com"];
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAIL gcp: iam ${VIEWER} on acme-platform: project acme-platform has no binding of ${VIEWER} for the workload's principal "${PRINCIPAL}"\n       ${FIX}`,
    );
    expect(f.gcp.violations).toEqual([]);
  });

  it("fails a binding to another member for the same SPIFFE ID (the pool named by project ID)", async () => {
    const byId = PRINCIPAL.replace(`projects/${NUMBER}/`, "projects/acme-platform/");
    f.state.policies!["acme-platform"].bindings[1].members = [byId];
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAIL gcp: iam ${VIEWER} on acme-platform: project acme-platform grants ${VIEWER} to "${byId}", not to the workload's principal "${PRINCIPAL}": the member must name the pool by project number and the SPIFFE ID as its subject`,
    );
    expect(r.stdout).toContain(`/subject/${PAYMENTS_ID}`);
    expect(f.gcp.violations).toEqual([]);
  });

  it("fails a wrong role, naming the roles the principal has", async () => {
    f.state.policies!["acme-platform"].bindings[1] = {
      role: "roles/storage.objectAdmin",
      members: [PRINCIPAL],
    };
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAIL gcp: iam ${VIEWER} on acme-platform: project acme-platform grants the workload's principal "${PRINCIPAL}" "roles/storage.objectAdmin" but not ${VIEWER}`,
    );
    expect(f.gcp.violations).toEqual([]);
  });

  it("fails a binding that holds only under a condition", async () => {
    f.state.policies!["acme-platform"].bindings[1].condition = {
      title: "until-2027",
      expression: "request.time < timestamp('2027-01-01T00:00:00Z')",
    };
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAIL gcp: iam ${VIEWER} on acme-platform: project acme-platform grants ${VIEWER} to "${PRINCIPAL}" only under the condition "until-2027" ("request.time < timestamp('2027-01-01T00:00:00Z')"); the stack grants it unconditionally`,
    );
    expect(f.gcp.violations).toEqual([]);
  });

  it("fails a policy it may not read (403: forbidden, or no such project) and checks the others", async () => {
    const r = await run(twoProjects);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `FAIL gcp: iam policy of acme-data: IAM policy of project acme-data: POST https://127\\.0\\.0\\.1:\\d+/v3/projects/acme-data:getIamPolicy: HTTP 403 \\(bindings not checked: payments-api ${SUBSCRIBER}\\)`,
      ),
    );
    expect(r.stdout).toContain(
      'fix: the token may not read the policy, or project "acme-data" does not exist: grant resourcemanager.projects.getIamPolicy (e.g. roles/iam.securityReviewer) and check the project ID',
    );
    expect(r.stdout).toContain(`PASS gcp: iam ${VIEWER} on acme-platform`);
    expect(r.stdout + r.stderr).not.toContain("ya29.operator-token-1e9f");
  });
});
