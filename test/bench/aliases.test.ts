/**
 * Dropping azure-native's API-version aliases (components/federation/azure/sdk-aliases.ts)
 * changes neither the plan nor any URN, and removes from each resource's registered aliases
 * exactly the API-version variants of its own type: every stack in stacks/ planned with the
 * transformation and with it replaced by one that keeps everything.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stackNames } from "../../tools/bench";
import type { Plan } from "../../tools/plan-types";
import { planStack } from "../compiled";
import { ROOT } from "../helpers";

const load = createRequire(__filename);
type Sdk = typeof import("../../components/federation/azure/sdk-aliases");
const sdk = load(path.join(ROOT, "bin", "components", "federation", "azure", "sdk-aliases.js")) as {
  -readonly [K in keyof Sdk]: Sdk[K];
};
interface AliasRequest {
  getAliasesList(): { toObject(): { spec?: { type: string } } }[];
}
interface Monitor {
  registerResource: (
    this: Monitor,
    req: AliasRequest,
    cb: (err: Error | null, resp?: { getUrn(): string }) => void,
  ) => unknown;
}
const { MockMonitor } = load("@pulumi/pulumi/runtime/mocks") as {
  MockMonitor: { prototype: Monitor };
};

/** A planned stack and the aliases each URN was registered with (as the engine receives them). */
async function planWithAliases(stack: string) {
  const aliases = new Map<string, { type?: string; json: string }[]>();
  const proto = MockMonitor.prototype;
  const original = proto.registerResource;
  proto.registerResource = function (req, cb) {
    const list = req.getAliasesList().map((a) => {
      const o = a.toObject();
      return { type: o.spec?.type, json: JSON.stringify(o) };
    });
    return original.call(this, req, (err, resp) => {
      if (resp) aliases.set(resp.getUrn(), list);
      cb(err, resp);
    });
  };
  try {
    return { plan: await planStack(stack), aliases };
  } finally {
    proto.registerResource = original;
  }
}

const STACKS = stackNames(ROOT);

describe.each(STACKS)("stack %s without azure-native's API-version aliases", (stack) => {
  let now: Awaited<ReturnType<typeof planWithAliases>>;
  let before: Awaited<ReturnType<typeof planWithAliases>>;

  beforeAll(async () => {
    now = await planWithAliases(stack);
    const drop = sdk.dropApiVersionAliases;
    sdk.dropApiVersionAliases = () => undefined;
    try {
      before = await planWithAliases(stack);
    } finally {
      sdk.dropApiVersionAliases = drop;
    }
  }, 120_000);

  it("plans the same resources, inputs, edges, outputs and policy results", () => {
    // the same plan up to registration order (fewer aliases resolve sooner)
    const byUrn = (p: Plan) => ({
      ...p,
      resources: [...p.resources].sort((a, b) => a.urn.localeCompare(b.urn)),
    });
    expect(byUrn(now.plan)).toEqual(byUrn(before.plan));
  });

  it("registers the same URNs, each with its aliases minus its own type's API versions", () => {
    // registration order may differ (fewer aliases resolve sooner); the URNs may not
    expect([...now.aliases.keys()].sort()).toEqual([...before.aliases.keys()].sort());
    let dropped = 0;
    for (const r of before.plan.resources) {
      const [pkg, mod, name] = r.type.split(":");
      const versioned = new RegExp(`^${pkg}:${mod}/v[0-9]{8}[a-z]*:${name}$`);
      const all = before.aliases.get(r.urn) ?? [];
      const kept = all.filter((a) => !(pkg === "azure-native" && versioned.test(a.type ?? "")));
      dropped += all.length - kept.length;
      expect(now.aliases.get(r.urn)).toEqual(kept);
    }
    // 9 per identity, 6 per federated credential, 9 per role assignment (azure-native 3.28.0)
    const count = (t: string) => before.plan.resources.filter((r) => r.type === t).length;
    expect(dropped).toBe(
      9 * count("azure-native:managedidentity:UserAssignedIdentity") +
        6 * count("azure-native:managedidentity:FederatedIdentityCredential") +
        9 * count("azure-native:authorization:RoleAssignment"),
    );
  });
});

it("some stack has Entra resources, so the comparison above covers them", async () => {
  const { plan } = await planWithAliases("prod");
  expect(plan.resources.map((r) => r.type)).toContain(
    "azure-native:managedidentity:FederatedIdentityCredential",
  );
}, 120_000);

describe("isApiVersionAlias", () => {
  const type = "azure-native:managedidentity:UserAssignedIdentity";
  it("matches a type-only alias to an API version of the same resource", () => {
    const v = "azure-native:managedidentity/v20230131:UserAssignedIdentity";
    expect(sdk.isApiVersionAlias({ type: v }, type)).toBe(true);
    const preview = "azure-native:managedidentity/v20150831preview:UserAssignedIdentity";
    expect(sdk.isApiVersionAlias({ type: preview }, type)).toBe(true);
  });

  it.each([
    ["another resource", { type: "azure-native:managedidentity/v20230131:Identity" }],
    ["another module", { type: "azure-native:authorization/v20230131:UserAssignedIdentity" }],
    ["the unversioned type", { type }],
    [
      "a type and a name",
      { type: "azure-native:managedidentity/v20230131:UserAssignedIdentity", name: "x" },
    ],
    ["a name change", { name: "old" }],
    ["a URN", "urn:pulumi:dev::p::azure-native:managedidentity/v20230131:UserAssignedIdentity::x"],
    ["not an API version", { type: "azure-native:managedidentity/vnext:UserAssignedIdentity" }],
  ])("keeps %s", (_, alias) => {
    expect(sdk.isApiVersionAlias(alias, type)).toBe(false);
  });

  it("keeps every alias of a type outside azure-native", () => {
    const t = "gcp:projects/iAMMember:IAMMember";
    expect(sdk.isApiVersionAlias({ type: "gcp:projects/v20230131:IAMMember" }, t)).toBe(false);
  });
});
