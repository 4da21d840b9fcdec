/**
 * The OpenZiti client and dynamic provider against a local Edge Management API over HTTPS on
 * 127.0.0.1: CRUD, diff, drift, out-of-band deletion, verification with real certificates,
 * re-authentication, TLS trust, and errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  getEntity,
  verifyCa,
  ZitiApiError,
  type ZitiConnection,
} from "../../components/federation/openziti/api";
import {
  bodyProblems,
  externalIdClaimProblems,
  zitiProvider,
  type ZitiState,
} from "../../components/federation/openziti/provider";
import {
  SPIFFE_EXTERNAL_ID_CLAIM,
  spiffeAuthPolicyBody,
  spiffeCaBody,
} from "../../components/federation/openziti/component";
import { makeCertificate, makeLoopbackServerCredentials } from "../fixtures";
import { SIGNER_BODY, ZitiTestController } from "./server";

const p = zitiProvider as Required<typeof zitiProvider>;
let ctl: ZitiTestController;
let conn: ZitiConnection;
let root: Awaited<ReturnType<typeof makeCertificate>>;

/** A certificate with the given CN signed by `issuer` (WebCrypto keys, real signatures). */
async function signedBy(
  cn: string,
  issuer: { subject: string; privateKey: CryptoKey },
): Promise<string> {
  return (await makeCertificate({ subject: `CN=${cn}`, ca: false, issuer })).pem;
}

const caBody = () => spiffeCaBody("spire", root.pem);
const state = (kind: ZitiState["kind"], body: Record<string, unknown>): ZitiState => ({
  kind,
  connection: conn,
  body,
});

beforeAll(async () => {
  const creds = await makeLoopbackServerCredentials();
  ctl = new ZitiTestController(creds);
  await ctl.start();
  conn = {
    controllerUrl: ctl.url,
    username: "admin",
    password: "s3cret-admin-pw",
    caPem: creds.caPem,
  };
  root = await makeCertificate({ subject: "CN=prod.example.com root CA", ca: true });
});
afterAll(async () => {
  await ctl.stop();
  // Every answer the double gave in this file matched the spec's response schemas.
  expect(ctl.violations).toEqual([]);
});

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
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { createRequire } = await import("node:module");
    // The compiled module, loaded by Node's own require as Pulumi's runtime loads the program.
    const req = createRequire(__filename);
    const compiled = req(
      path.join(
        __dirname,
        "..",
        "..",
        "bin",
        "components",
        "federation",
        "openziti",
        "provider.js",
      ),
    ) as { zitiProvider: typeof zitiProvider };
    const pulumiCjs = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const serialized = await pulumiCjs.runtime.serializeFunction(() => compiled.zitiProvider, {
      allowSecrets: true,
    });
    expect(serialized.containsSecrets).toBe(false);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "ziti-provider-")), "provider.js");
    writeFileSync(file, serialized.text);
    const shipped = createRequire(file)(file).handler() as Required<typeof zitiProvider>;
    const created = await shipped.create(state("ca", { ...caBody(), name: "serialized" }));
    expect(ctl.store.cas.get(created.id)!.name).toBe("serialized");
    expect((await shipped.read(created.id, created.outs)).id).toBe(created.id);
    await shipped.delete(created.id, created.outs);
    expect(ctl.store.cas.has(created.id)).toBe(false);
  });
});
