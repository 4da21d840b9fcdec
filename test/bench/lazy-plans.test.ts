/**
 * The offline plan's lazy output properties (tools/lazy-properties.ts) change nothing the plan
 * shows or the engine would receive: every stack in stacks/ planned with them and with the SDK's
 * own `transferProperties` (`PLAN_EAGER_OUTPUTS=1`) gives the same plan, byte for byte and in the
 * same order, and the same registration requests (inputs with the dynamic providers' serialized
 * code, dependencies, aliases, options) and registered outputs, in the same order.
 */
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { stackNames } from "../../tools/bench";
import { planStack } from "../compiled";
import { ROOT } from "../helpers";

const load = createRequire(__filename);
interface Request {
  toObject(): unknown;
}
interface Monitor {
  registerResource: (this: Monitor, req: Request, cb: (...a: unknown[]) => void) => unknown;
  registerResourceOutputs: (this: Monitor, req: Request, cb: (...a: unknown[]) => void) => unknown;
}
const { MockMonitor } = load("@pulumi/pulumi/runtime/mocks") as {
  MockMonitor: { prototype: Monitor };
};

/** The plan of a stack, and every request the mock engine received, as JSON. */
async function planAndRequests(stack: string, eager: boolean) {
  const requests: string[] = [];
  const proto = MockMonitor.prototype;
  const { registerResource, registerResourceOutputs } = proto;
  proto.registerResource = function (req, cb) {
    requests.push(JSON.stringify(req.toObject()));
    return registerResource.call(this, req, cb);
  };
  proto.registerResourceOutputs = function (req, cb) {
    requests.push(JSON.stringify(req.toObject()));
    return registerResourceOutputs.call(this, req, cb);
  };
  const before = process.env.PLAN_EAGER_OUTPUTS;
  if (eager) process.env.PLAN_EAGER_OUTPUTS = "1";
  else delete process.env.PLAN_EAGER_OUTPUTS;
  try {
    return { plan: JSON.stringify(await planStack(stack), null, 2), requests };
  } finally {
    Object.assign(proto, { registerResource, registerResourceOutputs });
    if (before === undefined) delete process.env.PLAN_EAGER_OUTPUTS;
    else process.env.PLAN_EAGER_OUTPUTS = before;
  }
}

describe.each(stackNames(ROOT))("stack %s with lazy output properties", (stack) => {
  let lazy: Awaited<ReturnType<typeof planAndRequests>>;
  let eager: Awaited<ReturnType<typeof planAndRequests>>;

  beforeAll(async () => {
    // The first plan in a process serializes each dynamic provider's code (cached after), which
    // delays those registrations: warm up so that both runs below start alike.
    await planAndRequests(stack, true);
    lazy = await planAndRequests(stack, false);
    eager = await planAndRequests(stack, true);
  }, 180_000);

  it("plans the same, byte for byte", () => {
    expect(lazy.plan).toBe(eager.plan);
  });

  it("sends the engine the same requests in the same order", () => {
    expect(lazy.requests.length).toBeGreaterThan(1);
    expect(lazy.requests).toEqual(eager.requests);
  });
});

it("some stack registers a dynamic resource, so the requests above carry serialized code", async () => {
  const { requests } = await planAndRequests("curity", false);
  expect(requests.some((r) => r.includes("pulumi-nodejs:dynamic/curity:"))).toBe(true);
  expect(requests.some((r) => r.includes('"__provider"'))).toBe(true);
}, 120_000);
