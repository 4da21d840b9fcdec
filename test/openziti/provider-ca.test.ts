/**
 * The OpenZiti provider's CAs against a local Edge Management API over HTTPS on 127.0.0.1
 * (test/openziti/server.ts): create, read, diff, update, drift, out-of-band deletion, and
 * verification with real certificates.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, verifyCa, type ZitiConnection } from "../../components/federation/openziti/api";
import { zitiProvider } from "../../components/federation/openziti/provider";
import { SPIFFE_EXTERNAL_ID_CLAIM } from "../../components/federation/openziti/component";
import { makeCertificate } from "../fixtures";
import { signedBy, useZitiController, zitiStates, type ZitiHarness } from "./provider-harness";
import type { ZitiTestController } from "./server";

const p = zitiProvider as Required<typeof zitiProvider>;
const h = useZitiController();
const { caBody, state } = zitiStates(h);
let ctl: ZitiTestController;
let conn: ZitiConnection;
let root: ZitiHarness["root"];
beforeAll(() => ({ ctl, conn, root } = h));

describe("CA: create, read, diff, update, drift, delete", () => {
  it("creates the CA with the SPIFFE claim and returns the verification token", async () => {
    const created = await p.create(state("ca", caBody()));
    const server = ctl.store.cas.get(created.id)!;
    expect(server).toMatchObject({
      name: "spire",
      isAuthEnabled: true,
      isAutoCaEnrollmentEnabled: false,
      isOttCaEnrollmentEnabled: false,
      externalIdClaim: SPIFFE_EXTERNAL_ID_CLAIM,
    });
    expect(created.outs.verificationToken).toBe(server.verificationToken);
    expect(created.outs.isVerified).toBe(false);
    const read = await p.read(created.id, created.outs);
    expect(read.id).toBe(created.id);
    expect(read.props.body).toEqual(caBody());
  });

  it("diff: a new certificate replaces, a new name updates, new credentials alone change nothing remote", async () => {
    const olds = { ...state("ca", caBody()), verificationToken: "t" };
    const other = await makeCertificate({ subject: "CN=other root", ca: true });
    expect(
      await p.diff("id", olds, state("ca", { ...caBody(), certPem: other.pem })),
    ).toMatchObject({ changes: true, replaces: ["body.certPem"] });
    expect(await p.diff("id", olds, state("ca", { ...caBody(), name: "spire-2" }))).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(await p.diff("id", olds, state("ca", caBody()))).toMatchObject({
      changes: false,
      replaces: [],
    });
    expect(
      await p.diff("id", olds, {
        ...state("ca", caBody()),
        connection: { ...conn, password: "rotated" },
      }),
    ).toMatchObject({ changes: true, replaces: [] });
  });

  it("update patches only the changed fields", async () => {
    const created = await p.create(state("ca", { ...caBody(), name: "to-rename" }));
    ctl.log.length = 0;
    const updated = await p.update(
      created.id,
      created.outs,
      state("ca", { ...caBody(), name: "renamed" }),
    );
    expect(ctl.log).toEqual([
      `PATCH /edge/management/v1/cas/${created.id}`,
      `GET /edge/management/v1/cas/${created.id}`,
    ]);
    expect(ctl.store.cas.get(created.id)!.name).toBe("renamed");
    expect(updated.outs.body.name).toBe("renamed");
  });

  it("read reports drift made behind Pulumi's back", async () => {
    const created = await p.create(state("ca", { ...caBody(), name: "drifty" }));
    ctl.store.cas.get(created.id)!.isAuthEnabled = false;
    const read = await p.read(created.id, created.outs);
    expect(read.props.body.isAuthEnabled).toBe(false);
    const d = await p.diff(created.id, read.props, state("ca", { ...caBody(), name: "drifty" }));
    expect(d).toMatchObject({ changes: true, replaces: [] });
  });

  it("a CA deleted behind Pulumi's back reads as gone (so it is recreated); delete is idempotent", async () => {
    const created = await p.create(state("ca", { ...caBody(), name: "ephemeral" }));
    ctl.store.cas.delete(created.id);
    expect(await p.read(created.id, created.outs)).toEqual({});
    await expect(p.delete(created.id, created.outs)).resolves.toBeUndefined();
    const again = await p.create(state("ca", { ...caBody(), name: "ephemeral" }));
    await p.delete(again.id, again.outs);
    expect(ctl.store.cas.has(again.id)).toBe(false);
    await expect(p.delete(again.id, again.outs)).resolves.toBeUndefined();
  });
});

describe("CA verification with real certificates", () => {
  it("verifies with a certificate whose CN is the token, signed by the CA", async () => {
    const ca = await p.create(state("ca", { ...caBody(), name: "to-verify" }));
    const pem = await signedBy(ca.outs.verificationToken, {
      subject: "CN=prod.example.com root CA",
      privateKey: root.keys.privateKey,
    });
    const v = await p.create(state("caVerification", { caId: ca.id, certPem: pem }));
    expect(v.id).toBe(`${ca.id}/verification`);
    expect(ctl.store.cas.get(ca.id)!.isVerified).toBe(true);
    expect((await p.read(v.id, v.outs)).props.isVerified).toBe(true);
    // unverified behind our back (e.g. the CA was replaced): the update verifies it again
    const again = state("caVerification", { caId: ca.id, certPem: pem });
    expect(await p.diff(v.id, { ...v.outs, isVerified: false }, again)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
    ctl.store.cas.get(ca.id)!.isVerified = false;
    ctl.log.length = 0;
    expect((await p.update(v.id, { ...v.outs, isVerified: false }, again)).outs.isVerified).toBe(
      true,
    );
    expect(ctl.log).toContain(`POST /edge/management/v1/cas/${ca.id}/verify`);
    expect(ctl.store.cas.get(ca.id)!.isVerified).toBe(true);
  });

  it("is one-time: a new verification certificate after verification neither re-verifies nor fails", async () => {
    const ca = await p.create(state("ca", { ...caBody(), name: "verified-once" }));
    const issuer = { subject: "CN=prod.example.com root CA", privateKey: root.keys.privateKey };
    const first = await signedBy(ca.outs.verificationToken, issuer);
    const v = await p.create(state("caVerification", { caId: ca.id, certPem: first }));
    ctl.log.length = 0;
    // 24 h later @pulumi/tls replaces the certificate (or the operator's PEM changes)
    for (const certPem of [await signedBy(ca.outs.verificationToken, issuer), "[unknown]"]) {
      const next = state("caVerification", { caId: ca.id, certPem });
      expect(await p.diff(v.id, v.outs, next)).toEqual({
        changes: false,
        replaces: [],
        deleteBeforeReplace: true,
      });
    }
    // and were it ever created or updated again: no second POST, no error
    const next = state("caVerification", {
      caId: ca.id,
      certPem: await signedBy(ca.outs.verificationToken, issuer),
    });
    expect((await p.update(v.id, v.outs, next)).outs.isVerified).toBe(true);
    expect((await p.create(next)).outs.isVerified).toBe(true);
    expect(ctl.log.filter((l) => l.includes("/verify"))).toEqual([]);
    // the CA it belongs to changes: a new verification (replace)
    expect(
      await p.diff(v.id, v.outs, state("caVerification", { caId: "other-ca", certPem: first })),
    ).toMatchObject({ changes: true, replaces: ["body.caId"] });
  });

  it("takes the controller's 409 CA_ALREADY_VERIFIED (verified meanwhile) as done", async () => {
    const ca = await p.create(state("ca", { ...caBody(), name: "raced" }));
    const pem = await signedBy(ca.outs.verificationToken, {
      subject: "CN=prod.example.com root CA",
      privateKey: root.keys.privateKey,
    });
    const session = { connection: conn };
    await call(session, "POST", `/cas/${ca.id}/verify`, pem, "text/plain");
    await expect(verifyCa(session, ca.id, pem)).resolves.toBe("already-verified");
  });

  it("refuses a wrong CN and a wrong signer, with the API's code and status", async () => {
    const ca = await p.create(state("ca", { ...caBody(), name: "strict" }));
    const wrongCn = await signedBy("not-the-token", {
      subject: "CN=prod.example.com root CA",
      privateKey: root.keys.privateKey,
    });
    await expect(
      p.create(state("caVerification", { caId: ca.id, certPem: wrongCn })),
    ).rejects.toThrow(
      `OpenZiti POST /cas/${ca.id}/verify: HTTP 400 INVALID_COMMON_NAME: The common name of the supplied certificate is invalid`,
    );
    const impostor = await makeCertificate({ subject: "CN=prod.example.com root CA", ca: true });
    const wrongSigner = await signedBy(ca.outs.verificationToken, {
      subject: "CN=prod.example.com root CA",
      privateKey: impostor.keys.privateKey,
    });
    await expect(
      p.create(state("caVerification", { caId: ca.id, certPem: wrongSigner })),
    ).rejects.toThrow(
      "HTTP 400 CERTIFICATE_FAILED_VALIDATION: The supplied certificate failed to validate against the CA's certificate chain",
    );
    expect(ctl.store.cas.get(ca.id)!.isVerified).toBe(false);
  });
});
