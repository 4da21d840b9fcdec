/**
 * Google Cloud IAM member names: injective over (workload, project, role), so that grants that
 * slug alike never share a URN (the engine refuses a duplicate URN at preview); the same role on
 * a project twice is a config error; existing stacks keep their resources through aliases.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { gcpArgsProblems, iamMemberNames } from "../../components/federation/gcp/component";
import type { ProgramRun } from "../../tools/harness";
import { loadStackConfig } from "../../tools/stack-config";
import { prepareProgram, runProgram } from "../compiled";
import { baseConfig } from "../fixtures";
import { all, configProblems, ROOT, toConfigMap } from "../helpers";

const MEMBER = "gcp:projects/iAMMember:IAMMember";
// The SDK instance the compiled program registers through (the harness's monitor is its own).
const runtime = (
  createRequire(path.join(ROOT, "bin", "program.js"))("@pulumi/pulumi") as typeof pulumi
).runtime;

interface AliasRequest {
  getName(): string;
  getAliasesList(): { getUrn(): string; getSpec(): { getName(): string } | undefined }[];
}

/** Runs the compiled program and records the aliases each resource registers with. */
async function runWithAliases(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<{ run: ProgramRun; aliases: Map<string, string[]> }> {
  const aliases = new Map<string, string[]>();
  const prepare = () => {
    const monitor = runtime.getMonitor() as unknown as {
      registerResource(req: AliasRequest, cb: unknown): Promise<void>;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      const names = req.getAliasesList().map((a) => a.getSpec()?.getName() ?? a.getUrn());
      aliases.set(req.getName(), names);
      return register(req, cb);
    };
    return prepareProgram();
  };
  const run = await runProgram(prepare, {
    project: "spire-federation",
    stack,
    config,
    secretKeys,
    preview: false,
  });
  return { run, aliases };
}

/** baseConfig with a GCP block and grants whose old, slugged names all read `svc-x-proj-abc-roles-a-b`. */
function slugAlike(): Record<string, any> {
  const c = baseConfig() as Record<string, any>;
  c.gcp = { project: "acme-test-1", projectNumber: "123456789", poolId: "spiffe-test" };
  c.workloads = [
    {
      name: "svc",
      namespace: "shop",
      serviceAccount: "svc",
      gcp: {
        roles: [
          { role: "roles/a.b", project: "x-proj-abc" },
          { role: "roles/a_b", project: "x-proj-abc" },
        ],
      },
    },
    {
      name: "svc-x",
      namespace: "shop",
      serviceAccount: "svc-x",
      gcp: { roles: [{ role: "roles/a.b", project: "proj-abc" }] },
    },
  ];
  return c;
}

describe("GCP IAM member names", () => {
  it("grants that slug alike get distinct names: no duplicate URN in the plan", async () => {
    const { run, aliases } = await runWithAliases("test", toConfigMap(slugAlike()));
    const urns = run.resources.map((r) => r.urn);
    expect(urns.filter((u, i) => urns.indexOf(u) !== i)).toEqual([]);
    // Registration order is the SDK's; read each member by what it grants.
    const members = all(run, MEMBER);
    const pool =
      "principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/spiffe-test/subject/spiffe://test.example.com/ns/shop/sa";
    const grant = (project: string, role: string, sa: string) => {
      const hits = members.filter(
        (m) =>
          m.rawInputs.project === project &&
          m.rawInputs.role === role &&
          m.rawInputs.member === `${pool}/${sa}`,
      );
      expect(hits, `${sa} ${project} ${role}`).toHaveLength(1);
      return hits[0];
    };
    const first = grant("x-proj-abc", "roles/a.b", "svc");
    const second = grant("x-proj-abc", "roles/a_b", "svc");
    const third = grant("proj-abc", "roles/a.b", "svc-x");
    expect(members).toHaveLength(3);
    expect(new Set(members.map((m) => m.name)).size).toBe(3);
    for (const m of members) {
      expect(m.name).toMatch(/^spire-federation-gcp-svc-x-proj-abc-roles-a-b-[0-9a-f]{8}$/);
    }
    // The old name can have belonged to one of them only: the first in config order keeps it.
    expect([first, second, third].map((m) => aliases.get(m.name))).toEqual([
      ["spire-federation-gcp-svc-x-proj-abc-roles-a-b"],
      [],
      [],
    ]);
  });

  it("prod keeps every deployed IAM member: new names alias the old ones", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "prod");
    const { run, aliases } = await runWithAliases("prod", config, secretKeys);
    const prefix = "spire-federation-gcp-";
    const renamed = all(run, MEMBER)
      .map((m) => [m.name, aliases.get(m.name)])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(renamed).toEqual([
      [
        `${prefix}batch-reports-acme-platform-prod-roles-storage-objectViewer-498bc658`,
        [`${prefix}batch-reports-acme-platform-prod-roles-storage-objectViewer`],
      ],
      [
        `${prefix}ledger-acme-analytics-prod-roles-bigquery-dataViewer-a97c6acd`,
        [`${prefix}ledger-acme-analytics-prod-roles-bigquery-dataViewer`],
      ],
      [
        `${prefix}ledger-acme-analytics-prod-roles-bigquery-jobUser-9c3e1aa0`,
        [`${prefix}ledger-acme-analytics-prod-roles-bigquery-jobUser`],
      ],
      [
        `${prefix}payments-api-acme-platform-prod-roles-cloudsql-client-36682c59`,
        [`${prefix}payments-api-acme-platform-prod-roles-cloudsql-client`],
      ],
    ]);
  });

  it("an old name that is another member's current name is not aliased", () => {
    const [x] = iamMemberNames("c", [
      { workload: "w", spiffeId: "spiffe://t/w", roles: [{ role: "roles/a", project: "p" }] },
    ]);
    const hash = x.name.slice(-8);
    const names = iamMemberNames("c", [
      {
        workload: "w",
        spiffeId: "spiffe://t/w",
        roles: [
          { role: `roles/a.${hash}`, project: "p" }, // its old name is c-w-p-roles-a-<hash>
          { role: "roles/a", project: "p" }, // whose current name is c-w-p-roles-a-<hash>
        ],
      },
    ]);
    expect(names[0].alias).toBeUndefined();
    expect(names[1]).toEqual({
      workload: "w",
      project: "p",
      role: "roles/a",
      name: `c-w-p-roles-a-${hash}`,
      alias: "c-w-p-roles-a",
    });
  });
});

describe("the same role on a project twice", () => {
  it("is a config error, also when one names gcp.project and the other defaults to it", () => {
    const c = slugAlike();
    c.workloads[0].gcp.roles.push(
      { role: "roles/a.b", project: "x-proj-abc" },
      { role: "roles/viewer" },
      { role: "roles/viewer", project: "acme-test-1" },
    );
    expect(configProblems(c)).toEqual([
      "spire-federation:workloads[0].gcp.roles[2]: duplicates roles[0] (roles/a.b on project x-proj-abc); a workload gets each role on a project once: remove one",
      "spire-federation:workloads[0].gcp.roles[4]: duplicates roles[3] (roles/viewer on project acme-test-1); a workload gets each role on a project once: remove one",
    ]);
  });

  it("on another project, or for another workload, is fine", () => {
    const c = slugAlike();
    c.workloads[0].gcp.roles.push({ role: "roles/a.b", project: "proj-abc" });
    c.workloads[1].gcp.roles.push({ role: "roles/a.b", project: "x-proj-abc" });
    expect(() => parseStackConfig(c)).not.toThrow();
  });

  it("is refused by the component when given directly", () => {
    const role = { role: "roles/viewer", project: "p-1" };
    expect(
      gcpArgsProblems({
        project: "acme-test-1",
        projectNumber: "123456789",
        poolId: "spiffe-test",
        oidcProviderId: "spire-oidc",
        x509ProviderId: "spire-x509",
        oidc: false,
        x509: true,
        issuerUrl: "https://oidc.test.example.com",
        trustDomain: "test.example.com",
        rootCaPem: "",
        grants: [{ workload: "w", spiffeId: "spiffe://test.example.com/w", roles: [role, role] }],
      }),
    ).toEqual(["w is granted roles/viewer on project p-1 twice"]);
  });
});
