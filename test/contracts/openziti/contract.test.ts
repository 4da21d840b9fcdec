/**
 * The OpenZiti test controller (test/openziti/server.ts) against the published contract: every
 * operation it serves is answered, and every answer is checked here against the response schema
 * the spec gives for that operation and status, so the double cannot drift from the API.
 * Also the controller behaviours the provider depends on: identity `type` as an entity
 * reference, unique names, one-time CA verification, name filters, request validation.
 */
import { describe, expect, it } from "vitest";
import {
  spiffeAuthPolicyBody,
  spiffeCaBody,
} from "../../../components/federation/openziti/component";
import { makeCertificate } from "../../fixtures";
import {
  SIGNER_BODY,
  ZitiTestController,
  parseFilter,
  type ZitiReply,
} from "../../openziti/server";
import {
  ZITI_OPERATIONS,
  ZITI_SPEC,
  findOperation,
  responseProblems,
  type ZitiOperation,
} from "./contract";

const BASE = "/edge/management/v1";
const USER = { username: "admin", password: "s3cret-admin-pw" };

/** A controller driven in-process, every exchange recorded with its operation. */
function drive() {
  // handle() needs no listening server: the TLS credentials are never used here.
  const ctl = new ZitiTestController({ keyPem: "", certPem: "" }, USER);
  const exchanges: { op: ZitiOperation; status: number; body: unknown }[] = [];
  let token = "";
  const send = (
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): { status: number; body: any } => {
    const raw = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
    const reply: ZitiReply = ctl.handle({
      method,
      path: `${BASE}${path}`,
      headers: { "zt-session": token, "content-type": contentType },
      body: raw,
    });
    const parsed: unknown = JSON.parse(reply.body);
    const found = findOperation(method, path.split("?")[0]);
    if ("op" in found) exchanges.push({ op: found.op, status: reply.status, body: parsed });
    return { status: reply.status, body: parsed };
  };
  const login = () => {
    const r = send("POST", "/authenticate?method=password", USER);
    token = r.body.data.token as string;
    return r;
  };
  return { ctl, send, login, exchanges };
}

const policyBody = (name: string) => spiffeAuthPolicyBody(name, true, []);

describe("the carried contract", () => {
  it("is edge-api management.yml 0.29.0 (Apache-2.0), with the operations the provider uses", () => {
    expect(ZITI_SPEC.info.version).toBe("0.29.0");
    expect((ZITI_SPEC.info as any).license.name).toBe("Apache 2.0");
    expect(ZITI_SPEC.basePath).toBe(BASE);
    expect(ZITI_OPERATIONS.map((o) => o.operationId).sort()).toEqual(
      [
        "authenticate",
        ...["Ca", "Identity", "ExternalJwtSigner", "AuthPolicy"].flatMap((n) => [
          `create${n}`,
          `detail${n}`,
          `patch${n}`,
          `delete${n}`,
        ]),
        "listCas",
        "listIdentities",
        "listExternalJwtSigners",
        "listAuthPolicies",
        "verifyCa",
      ].sort(),
    );
  });

  it("catches an answer that strays from it (so a drifting double fails)", () => {
    const detail = findOperation("GET", "/identities/x") as { op: ZitiOperation };
    const good = drive();
    good.login();
    const admin = good.send("GET", "/identities/default-admin");
    expect(responseProblems(detail.op, 200, admin.body)).toEqual([]);
    // the shape the provider once assumed: `type` a plain string
    const stray = structuredClone(admin.body);
    stray.data.type = "Default";
    expect(responseProblems(detail.op, 200, stray)).toEqual([
      "GET /identities/{id} 200: /data/type must be object",
    ]);
    delete stray.data.typeId;
    expect(responseProblems(detail.op, 200, stray)).toContain(
      "GET /identities/{id} 200: /data must have required property 'typeId'",
    );
    const create = findOperation("POST", "/cas") as { op: ZitiOperation };
    expect(responseProblems(create.op, 409, { error: {}, meta: {} })).toEqual([
      "POST /cas: status 409 is not in the spec",
    ]);
  });
});

describe("every answer of the test controller matches the spec's response schema", () => {
  it("success and error answers of every operation", async () => {
    const { ctl, send, login, exchanges } = drive();
    const root = await makeCertificate({ subject: "CN=contract root", ca: true });

    expect(send("GET", "/cas").status).toBe(401);
    expect(
      send("POST", "/authenticate?method=password", { ...USER, password: "wrong-pw" }).status,
    ).toBe(401);
    expect(send("POST", "/authenticate", USER).status).toBe(400);
    expect(login().status).toBe(200);

    // CAs
    const caBody = spiffeCaBody("spire", root.pem);
    const ca = send("POST", "/cas", caBody);
    expect(ca.status).toBe(201);
    expect(send("POST", "/cas", caBody).status).toBe(400); // duplicate name
    expect(send("POST", "/cas", { name: "x" }).status).toBe(400); // missing fields
    expect(send("POST", "/cas", "{not json").status).toBe(400);
    const caId = ca.body.data.id as string;
    const detail = send("GET", `/cas/${caId}`);
    expect(detail.status).toBe(200);
    expect(send("GET", "/cas/nope").status).toBe(404);
    expect(send("GET", '/cas?filter=name="spire"').body.data).toHaveLength(1);
    expect(send("GET", "/cas?filter=name contains 'x'").status).toBe(400);
    expect(send("PATCH", `/cas/${caId}`, { isAuthEnabled: false }).status).toBe(200);
    expect(send("PATCH", `/cas/${caId}`, { certPem: root.pem }).status).toBe(400); // not patchable
    expect(send("PATCH", "/cas/nope", { name: "y" }).status).toBe(404);
    const token = detail.body.data.verificationToken as string;
    const wrongCn = await makeCertificate({
      subject: "CN=not-the-token",
      ca: false,
      issuer: { subject: "CN=contract root", privateKey: root.keys.privateKey },
    });
    expect(send("POST", `/cas/${caId}/verify`, wrongCn.pem, "text/plain").status).toBe(400);
    const leaf = await makeCertificate({
      subject: `CN=${token}`,
      ca: false,
      issuer: { subject: "CN=contract root", privateKey: root.keys.privateKey },
    });
    expect(send("POST", `/cas/${caId}/verify`, leaf.pem, "application/json").status).toBe(500);
    expect(send("POST", `/cas/${caId}/verify`, leaf.pem, "text/plain").status).toBe(200);
    expect(send("POST", `/cas/${caId}/verify`, leaf.pem, "text/plain").status).toBe(409);
    expect(send("POST", "/cas/nope/verify", leaf.pem, "text/plain").status).toBe(404);

    // auth policies, signers, identities
    const policy = send("POST", "/auth-policies", policyBody("spire-spiffe"));
    expect(policy.status).toBe(201);
    expect(send("GET", `/auth-policies/${policy.body.data.id}`).status).toBe(200);
    expect(send("GET", "/auth-policies").body.data).toHaveLength(2); // and the default one
    expect(send("PATCH", `/auth-policies/${policy.body.data.id}`, { name: "renamed" }).status).toBe(
      200,
    );
    const signerBody = SIGNER_BODY;
    const signer = send("POST", "/external-jwt-signers", signerBody);
    expect(signer.status).toBe(201);
    expect(send("POST", "/external-jwt-signers", { ...signerBody, name: "other" }).status).toBe(
      400,
    );
    expect(send("GET", `/external-jwt-signers/${signer.body.data.id}`).status).toBe(200);
    expect(send("GET", "/external-jwt-signers").status).toBe(200);
    expect(
      send("PATCH", `/external-jwt-signers/${signer.body.data.id}`, { enabled: false }).status,
    ).toBe(200);
    const identityBody = {
      name: "payments-api",
      type: "Default",
      isAdmin: false,
      externalId: "spiffe://td/ns/a/sa/b",
      roleAttributes: ["payments"],
      authPolicyId: policy.body.data.id,
    };
    const identity = send("POST", "/identities", identityBody);
    expect(identity.status).toBe(201);
    expect(send("POST", "/identities", { ...identityBody, name: "other" }).status).toBe(400);
    expect(send("POST", "/identities", { ...identityBody, type: "Robot" }).status).toBe(400);
    expect(send("GET", `/identities/${identity.body.data.id}`).status).toBe(200);
    expect(send("GET", '/identities?filter=name="payments-api"').body.data).toHaveLength(1);
    expect(
      send("PATCH", `/identities/${identity.body.data.id}`, { roleAttributes: [] }).status,
    ).toBe(200);

    // deletes
    for (const [path, id] of [
      ["identities", identity.body.data.id],
      ["external-jwt-signers", signer.body.data.id],
      ["auth-policies", policy.body.data.id],
      ["cas", caId],
    ]) {
      expect(send("DELETE", `/${path}/${id}`).status).toBe(200);
      expect(send("DELETE", `/${path}/${id}`).status).toBe(404);
    }
    expect(send("PUT", `/cas/${caId}`, caBody).status).toBe(405);

    // the checks themselves: every answer against the spec's schema for its operation and status
    const problems = exchanges.flatMap((x) =>
      responseProblems(x.op, x.status, x.body, [
        "POST /cas/{id}/verify 409",
        "POST /cas/{id}/verify 500",
      ]),
    );
    expect(problems).toEqual([]);
    expect(ctl.violations).toEqual([]);
    // every operation was answered with its success status
    const answered = new Set(exchanges.map((x) => `${x.op.operationId} ${x.status}`));
    for (const op of ZITI_OPERATIONS) {
      const success = op.statuses.find((s) => s.startsWith("2"))!;
      expect(answered, op.operationId).toContain(`${op.operationId} ${success}`);
    }
  });
});

describe("controller behaviours the provider depends on", () => {
  it("an identity is created as type Default and read with `type` an entity reference, `typeId` the string", () => {
    const { send, login } = drive();
    login();
    const id = send("POST", "/identities", { name: "w", type: "Device", isAdmin: false }).body.data
      .id;
    const d = send("GET", `/identities/${id}`).body.data;
    expect(d.typeId).toBe("Default");
    expect(d.type).toEqual({
      _links: { self: { href: "./identity-types/Default" } },
      entity: "identity-types",
      id: "Default",
      name: "Default",
    });
    expect(d.authPolicyId).toBe("default");
    expect(d.externalId).toBeNull();
  });

  it("names are unique: a duplicate is 400 COULD_NOT_VALIDATE naming the field and the index", () => {
    const { send, login } = drive();
    login();
    send("POST", "/auth-policies", policyBody("p"));
    expect(send("POST", "/auth-policies", policyBody("p")).body.error).toMatchObject({
      code: "COULD_NOT_VALIDATE",
      message:
        "The supplied request contains an invalid document or no valid accept content were available, see cause",
      cause: {
        field: "name",
        value: "p",
        reason: "duplicate value 'p' in unique index on authPolicies store",
      },
    });
    const other = send("POST", "/auth-policies", policyBody("q")).body.data.id;
    expect(send("PATCH", `/auth-policies/${other}`, { name: "p" }).body.error.cause).toMatchObject({
      field: "name",
    });
  });

  it("a verified CA answers a second verification 409 CA_ALREADY_VERIFIED; an expired certificate fails", async () => {
    const { send, login } = drive();
    login();
    const root = await makeCertificate({ subject: "CN=r", ca: true });
    const caId = send("POST", "/cas", {
      name: "c",
      certPem: root.pem,
      isAuthEnabled: true,
      isAutoCaEnrollmentEnabled: false,
      isOttCaEnrollmentEnabled: false,
      identityRoles: [],
    }).body.data.id;
    const token = send("GET", `/cas/${caId}`).body.data.verificationToken as string;
    const issuer = { subject: "CN=r", privateKey: root.keys.privateKey };
    const expired = await makeCertificate({
      subject: `CN=${token}`,
      ca: false,
      issuer,
      notBefore: new Date(Date.now() - 2 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    expect(send("POST", `/cas/${caId}/verify`, expired.pem, "text/plain").body.error.code).toBe(
      "CERTIFICATE_FAILED_VALIDATION",
    );
    const fresh = await makeCertificate({ subject: `CN=${token}`, ca: false, issuer });
    expect(send("POST", `/cas/${caId}/verify`, fresh.pem, "text/plain").status).toBe(200);
    const again = send("POST", `/cas/${caId}/verify`, fresh.pem, "text/plain");
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "CA_ALREADY_VERIFIED",
      message: "CA has already been verified",
    });
  });

  it("request bodies are validated against the definitions, closed", () => {
    const { send, login } = drive();
    login();
    const err = (body: unknown) => send("POST", "/identities", body).body.error.cause;
    expect(err({ name: "a", isAdmin: false })).toEqual({
      field: "type",
      reason: "type in body is required",
      value: "",
    });
    expect(err({ name: "a", type: "Default", isAdmin: "no" })).toEqual({
      field: "isAdmin",
      reason: 'isAdmin in body must be of type boolean: "string"',
      value: "no",
    });
    expect(err({ name: "a", type: "Default", isAdmin: false, roleAtributes: [] })).toEqual({
      field: "roleAtributes",
      reason: "roleAtributes in body is not a field of this entity",
      value: "",
    });
  });

  it("lists filter by ZitiQL equality terms", () => {
    expect(parseFilter('name="a b"')).toEqual([{ field: "name", value: "a b", negate: false }]);
    expect(parseFilter('name = "x\\"y" and isVerified = true')).toEqual([
      { field: "name", value: 'x"y', negate: false },
      { field: "isVerified", value: true, negate: false },
    ]);
    expect(parseFilter("externalId != null")).toEqual([
      { field: "externalId", value: null, negate: true },
    ]);
    expect(parseFilter('name contains "x"')).toBeUndefined();
    expect(parseFilter('name="x" or name="y"')).toBeUndefined();
  });
});
