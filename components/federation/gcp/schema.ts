/**
 * `spire-federation:gcp` and `workloads[i].gcp`: the schemas and Google Cloud's cross-field rules.
 */
import { z } from "zod";
import { ruled } from "../../config-fields";
import type { CheckContext } from "../contract";
import {
  DEFAULT_GCP_OIDC_PROVIDER_ID,
  DEFAULT_GCP_X509_PROVIDER_ID,
  GCP_MAX_SUBJECT_LENGTH,
  gcpIdProblem,
  gcpProjectIdProblem,
  gcpProjectNumberProblem,
  gcpRoleProblem,
  type GcpPoolSettings,
} from "./rules";

/** Schema of `spire-federation:gcp`. */
export const gcpBlockSchema = z.strictObject({
  project: ruled(gcpProjectIdProblem),
  projectNumber: z
    .union([z.string(), z.number()], { error: "must be the numeric project number" })
    .superRefine((v, ctx) => {
      const problem = gcpProjectNumberProblem(v);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((v) => String(v)),
  poolId: ruled(gcpIdProblem),
  oidcProviderId: ruled(gcpIdProblem).optional(),
  x509ProviderId: ruled(gcpIdProblem).optional(),
  oidc: z.boolean({ error: "must be true or false" }).optional(),
  x509: z.boolean({ error: "must be true or false" }).optional(),
});

/** Schema of `workloads[i].gcp`. */
export const gcpGrantSchema = z.strictObject({
  roles: z.array(
    z.strictObject({
      role: ruled(gcpRoleProblem),
      project: ruled(gcpProjectIdProblem).optional(),
    }),
  ),
});

/** The parsed `spire-federation:gcp` block. */
export type GcpBlockInput = z.output<typeof gcpBlockSchema>;
/** A parsed `workloads[i].gcp` grant. */
export type GcpGrantInput = z.output<typeof gcpGrantSchema>;

/** One workload's Google Cloud grant, with defaults applied. */
export interface GcpGrant {
  /** Project roles for the workload's principal (project defaults to `gcp.project`). */
  roles: { role: string; project: string }[];
}

/** Google Cloud's cross-field rules. */
export function checkGcp(ctx: CheckContext<GcpBlockInput, GcpGrantInput>): void {
  for (const { index, grant } of ctx.grants) {
    // One IAM member per (role, project): a second grants nothing and would share its identity.
    const seen = new Map<string, number>();
    grant.roles.forEach((r, j) => {
      const project = r.project ?? ctx.block?.project;
      const key = JSON.stringify([r.role, project]);
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.report(
          ["workloads", index, "gcp", "roles", j],
          `duplicates roles[${first}] (${r.role} on project ${project ?? "gcp.project"}); a workload gets each role on a project once: remove one`,
        );
      } else {
        seen.set(key, j);
      }
    });
  }
  for (const { index, workload } of ctx.grants) {
    if (workload.spiffeId.length > GCP_MAX_SUBJECT_LENGTH) {
      ctx.report(
        ["workloads", index],
        `SPIFFE ID of workload "${workload.name}" is ${workload.spiffeId.length} characters; Google Cloud limits google.subject to ${GCP_MAX_SUBJECT_LENGTH}`,
      );
    }
  }
}

/** The block with defaults. */
export function gcpModel(b: GcpBlockInput): GcpPoolSettings {
  return {
    project: b.project,
    projectNumber: b.projectNumber,
    poolId: b.poolId,
    oidcProviderId: b.oidcProviderId ?? DEFAULT_GCP_OIDC_PROVIDER_ID,
    x509ProviderId: b.x509ProviderId ?? DEFAULT_GCP_X509_PROVIDER_ID,
    oidc: b.oidc ?? true,
    x509: b.x509 ?? true,
  };
}

/** A grant with defaults. */
export function gcpGrant(g: GcpGrantInput, _w: unknown, block: GcpPoolSettings): GcpGrant {
  return { roles: g.roles.map((r) => ({ role: r.role, project: r.project ?? block.project })) };
}
