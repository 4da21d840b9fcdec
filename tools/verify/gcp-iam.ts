/**
 * The `gcp` check's IAM bindings: the component grants each workload's roles on projects
 * (`gcp.projects.IAMMember`: project, role, member `principal://…/subject/<SPIFFE ID>`, no
 * condition), so verify reads each granting project's IAM policy and looks for those bindings.
 *
 * Cloud Resource Manager v3 (discovery document cloudresourcemanager:v3):
 * `POST v3/projects/<project>:getIamPolicy` with `{"options":{"requestedPolicyVersion":3}}` (a
 * policy with conditional bindings is only shown whole at version 3). The method is a POST but
 * reads only: the discovery document grants it the `cloud-platform.read-only` scope, and Google's
 * own client retries it on 503 as it does GetProject (googleapis/google-cloud-go
 * `resourcemanager/apiv3/projects_client.go`), so the hardened client treats it as idempotent.
 * A project that does not exist answers 403 like one the token may not read (the method's
 * description). `GOOGLE_CRM_URL` moves the API (tests).
 */
import { poolPrincipal } from "../../components/federation/gcp/component";
import type { GcpPoolSettings } from "../../components/federation/gcp/rules";
import { callJson, isRecord, shown } from "./http";
import type { CheckResult, VerifyContext } from "./types";

const FIX_DRIFT =
  "pulumi up restores it (someone changed it outside the stack), or fix the stack config";
const base = { check: "gcp", party: "gcp" } as const;

/** One binding the plan makes: a workload's role on a project. */
export interface PlannedBinding {
  /** The workload granted. */
  workload: string;
  /** Its SPIFFE ID (the principal's subject). */
  spiffeId: string;
  /** The project whose policy holds the binding. */
  project: string;
  /** The role granted. */
  role: string;
  /** The principal, `principal://iam.googleapis.com/projects/<number>/…/subject/<SPIFFE ID>`. */
  member: string;
}

/** Every binding the plan makes, in config order. */
export function plannedBindings(ctx: VerifyContext, block: GcpPoolSettings): PlannedBinding[] {
  return ctx.model.workloads.flatMap((w) =>
    (w.gcp?.roles ?? []).map((r) => ({
      workload: w.name,
      spiffeId: w.spiffeId,
      project: r.project,
      role: r.role,
      member: poolPrincipal(block.projectNumber, block.poolId, w.spiffeId),
    })),
  );
}

interface Binding {
  role: string;
  members: string[];
  condition?: Record<string, unknown>;
}

function bindingsOf(policy: Record<string, unknown>): Binding[] {
  const list = Array.isArray(policy.bindings) ? policy.bindings.filter(isRecord) : [];
  return list.map((b) => ({
    role: String(b.role),
    members: Array.isArray(b.members) ? b.members.map(String) : [],
    condition: isRecord(b.condition) ? b.condition : undefined,
  }));
}

/** The verdict on one planned binding in a project's policy. */
export function bindingResult(p: PlannedBinding, policy: Record<string, unknown>): CheckResult {
  const bindings = bindingsOf(policy);
  const r = { ...base, workload: p.workload, name: `iam ${p.role} on ${p.project}` };
  const fail = (reason: string): CheckResult => ({ ...r, status: "FAIL", reason, fix: FIX_DRIFT });
  if (bindings.some((b) => b.role === p.role && !b.condition && b.members.includes(p.member))) {
    return {
      ...r,
      status: "PASS",
      reason: `project ${p.project} grants ${p.role} to the workload's principal ${shown(p.member)}`,
    };
  }
  const conditional = bindings.find(
    (b) => b.role === p.role && b.condition && b.members.includes(p.member),
  );
  if (conditional) {
    const c = conditional.condition ?? {};
    return fail(
      `project ${p.project} grants ${p.role} to ${shown(p.member)} only under the condition ${shown(c.title ?? c.expression)} (${shown(c.expression)}); the stack grants it unconditionally`,
    );
  }
  const others = [
    ...new Set(
      bindings
        .filter((b) => b.role === p.role)
        .flatMap((b) => b.members)
        .filter((m) => m.includes(p.spiffeId)),
    ),
  ];
  if (others.length > 0) {
    return fail(
      `project ${p.project} grants ${p.role} to ${others.map((m) => shown(m)).join(", ")}, not to the workload's principal ${shown(p.member)}: the member must name the pool by project number and the SPIFFE ID as its subject`,
    );
  }
  const roles = [
    ...new Set(bindings.filter((b) => b.members.includes(p.member)).map((b) => b.role)),
  ];
  return fail(
    roles.length > 0
      ? `project ${p.project} grants the workload's principal ${shown(p.member)} ${roles.map((x) => shown(x)).join(", ")} but not ${p.role}`
      : `project ${p.project} has no binding of ${p.role} for the workload's principal ${shown(p.member)}`,
  );
}

/** Each granting project's IAM policy against the planned bindings. */
export async function iamBindingResults(
  ctx: VerifyContext,
  block: GcpPoolSettings,
  token: string,
): Promise<CheckResult[]> {
  const planned = plannedBindings(ctx, block);
  const crm = (ctx.env.GOOGLE_CRM_URL ?? "https://cloudresourcemanager.googleapis.com").replace(
    /\/$/,
    "",
  );
  const results: CheckResult[] = [];
  for (const project of [...new Set(planned.map((p) => p.project))]) {
    const url = `${crm}/v3/projects/${encodeURIComponent(project)}:getIamPolicy`;
    const what = `IAM policy of project ${project}`;
    ctx.progress(`gcp: POST ${url} (getIamPolicy: reads only)`);
    const res = await callJson(ctx, "POST", url, what, {
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ options: { requestedPolicyVersion: 3 } }),
      idempotent: true,
    });
    const forProject = planned.filter((p) => p.project === project);
    if (!res.ok || !isRecord(res.json)) {
      const why = res.ok ? "the answer is not an object" : res.why;
      results.push({
        ...base,
        name: `iam policy of ${project}`,
        status: "FAIL",
        reason: `${why} (bindings not checked: ${forProject.map((p) => `${p.workload} ${p.role}`).join(", ")})`,
        fix: /HTTP 403/.test(why)
          ? `the token may not read the policy, or project ${shown(project)} does not exist: grant resourcemanager.projects.getIamPolicy (e.g. roles/iam.securityReviewer) and check the project ID`
          : "check that Cloud Resource Manager answers, then run verify again",
      });
      continue;
    }
    const policy = res.json;
    results.push(...forProject.map((p) => bindingResult(p, policy)));
  }
  return results;
}
