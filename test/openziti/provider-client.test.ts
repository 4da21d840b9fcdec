/**
 * The OpenZiti API client and provider: sessions (re-authentication on 401), errors without the
 * password, TLS trust through the CA bundle only, validation before any call, and the provider
 * as Pulumi serializes it for the dynamic provider host.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  call,
  getEntity,
  ZitiApiError,
  type ZitiConnection,
} from "../../components/federation/openziti/api";
import {
  bodyProblems,
  externalIdClaimProblems,
  zitiProvider,
} from "../../components/federation/openziti/provider";
import { SPIFFE_EXTERNAL_ID_CLAIM } from "../../components/federation/openziti/component";
import { shippedProvider } from "../support/shipped-provider";
import { useZitiController, zitiStates } from "./provider-harness";
import type { ZitiTestController } from "./server";

const p = zitiProvider as Required<typeof zitiProvider>;
const h = useZitiController();
const { caBody, state } = zitiStates(h);
let ctl: ZitiTestController;
let conn: ZitiConnection;
beforeAll(() => ({ ctl, conn } = h));

describe("client: sessions, errors, TLS", () => {
  it("re-authenticates once on 401", async () => {
    const session = { connection: conn };
    await call(session, "GET", "/cas");
    ctl.expireSessions();
    ctl.log.length = 0;
    await call(session, "GET", "/cas");
    expect(ctl.log).toEqual([
      "GET /edge/management/v1/cas",
      "POST /edge/management/v1/authenticate?method=password",
      "GET /edge/management/v1/cas",
    ]);
  });

  it("surfaces bad credentials with code and status, never the password", async () => {
    const err = await getEntity(
      { connection: { ...conn, password: "wrong-password-123" } },
      "ca",
      "x",
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZitiApiError);
    expect((err as ZitiApiError).status).toBe(401);
    expect((err as Error).message).toBe(
      "OpenZiti POST /authenticate?method=password: HTTP 401 INVALID_AUTH: The authentication request failed",
    );
    expect((err as Error).message).not.toContain("wrong-password-123");
  });

  it("trusts the controller only through its CA bundle", async () => {
    await expect(
      getEntity({ connection: { ...conn, caPem: undefined } }, "ca", "x"),
    ).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    await expect(getEntity({ connection: conn }, "ca", "missing")).resolves.toBeUndefined();
  });
});

describe("client-side validation before any call", () => {
  it("rejects externalIdClaim combinations the controller rejects", () => {
    expect(externalIdClaimProblems(SPIFFE_EXTERNAL_ID_CLAIM)).toEqual([]);
    expect(externalIdClaimProblems({ ...SPIFFE_EXTERNAL_ID_CLAIM, matcher: "PREFIX" })).toEqual([
      "SAN_URI allows only the ALL or SCHEME matcher, not PREFIX",
    ]);
    expect(externalIdClaimProblems({ ...SPIFFE_EXTERNAL_ID_CLAIM, matcherCriteria: "" })).toEqual([
      "the SCHEME matcher needs matcherCriteria",
    ]);
    expect(externalIdClaimProblems({ ...SPIFFE_EXTERNAL_ID_CLAIM, parser: "SPLIT" })).toEqual([
      "the SPLIT parser needs parserCriteria",
    ]);
    expect(
      externalIdClaimProblems({ ...SPIFFE_EXTERNAL_ID_CLAIM, location: "COMMON_NAME" }),
    ).toEqual(["COMMON_NAME allows only the ALL matcher, not SCHEME"]);
  });

  it("the provider refuses a bad body without sending anything", async () => {
    ctl.log.length = 0;
    await expect(
      p.create(
        state("ca", {
          ...caBody(),
          externalIdClaim: { ...SPIFFE_EXTERNAL_ID_CLAIM, matcher: "SUFFIX" },
        }),
      ),
    ).rejects.toThrow(
      "OpenZiti ca: SAN_URI allows only the ALL or SCHEME matcher, not SUFFIX; the SUFFIX matcher needs matcherCriteria".replace(
        "; the SUFFIX matcher needs matcherCriteria",
        "",
      ),
    );
    await expect(
      p.create(state("identity", { name: "", type: "Default", isAdmin: false })),
    ).rejects.toThrow('name "" must be 1–128 characters');
    expect(ctl.log).toEqual([]);
    expect(bodyProblems("caVerification", { caId: "x", certPem: "nope" })).toEqual([
      "certPem is not a PEM certificate",
    ]);
  });
});

describe("the provider as Pulumi ships it", () => {
  it("still works after Pulumi serializes it for the dynamic provider host", async () => {
    const { containsSecrets, provider: shipped } = await shippedProvider(
      "components/federation/openziti/provider.js",
      "zitiProvider",
    );
    expect(containsSecrets).toBe(false);
    const created = await shipped.create(state("ca", { ...caBody(), name: "serialized" }));
    expect(ctl.store.cas.get(created.id)!.name).toBe("serialized");
    expect((await shipped.read(created.id, created.outs)).id).toBe(created.id);
    await shipped.delete(created.id, created.outs);
    expect(ctl.store.cas.has(created.id)).toBe(false);
  });
});
