/**
 * The OpenZiti provider's identities, external JWT signer and auth policy against the local
 * Edge Management API: create, update in place, replace, refresh without change, the API's
 * validation errors, and adoption of what a lost create response left behind.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, getEntity, type ZitiConnection } from "../../components/federation/openziti/api";
import { zitiProvider } from "../../components/federation/openziti/provider";
import { spiffeAuthPolicyBody } from "../../components/federation/openziti/component";
import { makeCertificate } from "../fixtures";
import { useZitiController, zitiStates } from "./provider-harness";
import { SIGNER_BODY, type ZitiTestController } from "./server";

const p = zitiProvider as Required<typeof zitiProvider>;
const h = useZitiController();
const { caBody, state } = zitiStates(h);
let ctl: ZitiTestController;
let conn: ZitiConnection;
beforeAll(() => ({ ctl, conn } = h));

describe("identities, JWT signer, auth policy", () => {
  it("creates, updates in place and replaces only on type", async () => {
    const signer = await p.create(state("extJwtSigner", SIGNER_BODY));
    expect(ctl.store["external-jwt-signers"].get(signer.id)).toMatchObject({
      claimsProperty: "sub",
      useExternalId: true,
    });
    await expect(
      p.create(
        state("extJwtSigner", {
          name: "dup",
          enabled: true,
          issuer: "https://oidc.example.com",
          audience: "x",
        }),
      ),
    ).rejects.toThrow(
      "OpenZiti POST /external-jwt-signers: HTTP 400 COULD_NOT_VALIDATE: The supplied request contains an invalid document or no valid accept content were available, see cause (issuer: duplicate value 'https://oidc.example.com' in unique index on externalJwtSigners store)",
    );
    const policy = await p.create(
      state("authPolicy", spiffeAuthPolicyBody("spire-spiffe", true, [signer.id])),
    );
    const body = {
      name: "payments-api",
      type: "Default",
      isAdmin: false,
      externalId: "spiffe://td/ns/a/sa/b",
      roleAttributes: ["payments"],
      authPolicyId: policy.id,
    };
    const id = await p.create(state("identity", body));
    expect(ctl.store.identities.get(id.id)).toMatchObject({
      externalId: "spiffe://td/ns/a/sa/b",
      authPolicyId: policy.id,
    });
    expect(
      await p.diff(
        id.id,
        id.outs,
        state("identity", { ...body, roleAttributes: ["payments", "x"] }),
      ),
    ).toMatchObject({ changes: true, replaces: [] });
    expect(
      await p.diff(id.id, id.outs, state("identity", { ...body, type: "Device" })),
    ).toMatchObject({ replaces: ["body.type"] });
    await p.update(
      id.id,
      id.outs,
      state("identity", { ...body, roleAttributes: ["payments", "x"] }),
    );
    expect(ctl.store.identities.get(id.id)!.roleAttributes).toEqual(["payments", "x"]);
  });

  it("after a refresh nothing changes: read compares what the API returns in the shape it returns it", async () => {
    const body = {
      name: "refreshed",
      type: "Default",
      isAdmin: false,
      externalId: "spiffe://td/ns/r/sa/r",
      roleAttributes: ["r"],
    };
    const created = await p.create(state("identity", body));
    // the API reads `type` back as an entity reference, the string as typeId
    expect((await getEntity({ connection: conn }, "identity", created.id))!.type).toMatchObject({
      id: "Default",
      entity: "identity-types",
    });
    const read = await p.read(created.id, created.outs);
    expect(read.props.body).toEqual(body);
    expect(await p.diff(created.id, read.props, state("identity", body))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: true,
    });
    // real drift still shows
    ctl.store.identities.get(created.id)!.roleAttributes = ["other"];
    const drifted = await p.read(created.id, created.outs);
    expect(await p.diff(created.id, drifted.props, state("identity", body))).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });

  it("a missing required field is the API's COULD_NOT_VALIDATE, with the field", async () => {
    await expect(p.create(state("identity", { name: "no-type", isAdmin: false }))).rejects.toThrow(
      "OpenZiti POST /identities: HTTP 400 COULD_NOT_VALIDATE: The supplied request contains an invalid document or no valid accept content were available, see cause (type: type in body is required)",
    );
  });
});

describe("adoption by unique name (a create whose response was lost left the entity behind)", () => {
  it("adopts an identity of our name: no POST, our differing fields PATCHed, its id", async () => {
    const session = { connection: conn };
    const made = (await call(session, "POST", "/identities", {
      name: "left-behind",
      type: "Default",
      isAdmin: true,
      roleAttributes: ["old"],
    })) as { id: string };
    ctl.log.length = 0;
    const body = {
      name: "left-behind",
      type: "Default",
      isAdmin: false,
      externalId: "spiffe://td/ns/l/sa/l",
      roleAttributes: ["new"],
    };
    const created = await p.create(state("identity", body));
    expect(created.id).toBe(made.id);
    expect(ctl.log).toEqual([
      `GET /edge/management/v1/identities?filter=${encodeURIComponent('name="left-behind"')}&limit=2`,
      `PATCH /edge/management/v1/identities/${made.id}`,
    ]);
    expect(ctl.store.identities.get(made.id)).toMatchObject({
      isAdmin: false,
      externalId: "spiffe://td/ns/l/sa/l",
      roleAttributes: ["new"],
    });
    // adopted as it is now: nothing to PATCH, no POST
    ctl.log.length = 0;
    expect((await p.create(state("identity", body))).id).toBe(made.id);
    expect(ctl.log).toHaveLength(1);
  });

  it("adopts a CA with our name and certificate, and refuses one with another certificate", async () => {
    const first = await p.create(state("ca", { ...caBody(), name: "adoptable" }));
    ctl.log.length = 0;
    const again = await p.create(state("ca", { ...caBody(), name: "adoptable" }));
    expect(again.id).toBe(first.id);
    expect(again.outs.verificationToken).toBe(first.outs.verificationToken);
    expect(ctl.log.filter((l) => l.startsWith("POST"))).toEqual([]);
    const other = await makeCertificate({ subject: "CN=other root", ca: true });
    ctl.log.length = 0;
    await expect(
      p.create(state("ca", { ...caBody(), name: "adoptable", certPem: other.pem })),
    ).rejects.toThrow(
      `OpenZiti ca adoptable: one with this name exists (id ${first.id}) with another certPem, which the API cannot change: delete it or choose another name`,
    );
    expect(ctl.log.filter((l) => !l.startsWith("GET"))).toEqual([]);
  });
});
