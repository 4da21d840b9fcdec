/**
 * A 404 means "gone" only in the API's own words: OpenZiti's error envelope with code
 * `NOT_FOUND`, RESTCONF's `ietf-restconf:errors` as `application/yang-data+json`. A proxy's HTML
 * 404 on a read or a delete is an error naming the status and the content type, not "deleted".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteEntry, getEntry } from "../../components/federation/curity/api";
import { deleteEntity, getEntity } from "../../components/federation/openziti/api";
import { startFaultServer, type FaultServer, type Reply } from "../support/fault-server";

const HTML_404: Reply = {
  status: 404,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: "<html><body><h1>404 Not Found</h1>nginx</body></html>",
};
const ZITI_404: Reply = {
  status: 404,
  body: JSON.stringify({
    error: { code: "NOT_FOUND", message: "The resource requested was not found" },
    meta: { apiVersion: "0.0.1" },
  }),
};
const RESTCONF_404: Reply = {
  status: 404,
  headers: { "content-type": "application/yang-data+json" },
  body: JSON.stringify({
    "ietf-restconf:errors": {
      error: [
        {
          "error-type": "application",
          "error-tag": "invalid-value",
          "error-message": "uri keypath not found",
        },
      ],
    },
  }),
};

let server: FaultServer;
let reply: Reply = HTML_404;
const PASSWORD = "s3cr3t-admin-password";
const LIMITS = { deadlineMs: 5_000, attemptTimeoutMs: 2_000, retries: 0 };

beforeAll(async () => {
  server = await startFaultServer({ tls: true, handler: () => reply });
});
afterAll(() => server.close());

const ziti = () => ({
  connection: {
    controllerUrl: server.url,
    username: "admin",
    password: PASSWORD,
    caPem: server.caPem,
    limits: LIMITS,
  },
  token: "session-token",
});
const curity = () => ({
  adminUrl: server.url,
  username: "admin",
  password: PASSWORD,
  caPem: server.caPem,
  limits: LIMITS,
});
const PATH = "/admin/api/restconf/data/base:profiles/profile=token/client";

describe("OpenZiti: a 404 is gone only as the API's NOT_FOUND", () => {
  it("the API's own 404 reads as gone; a delete of it is done", async () => {
    reply = ZITI_404;
    await expect(getEntity(ziti(), "identity", "abc")).resolves.toBeUndefined();
    await expect(deleteEntity(ziti(), "identity", "abc")).resolves.toBeUndefined();
  });

  it("a proxy's HTML 404 is an error with the status and content type", async () => {
    reply = HTML_404;
    const want =
      "OpenZiti GET /identities/abc: HTTP 404 UNKNOWN: no API error in the body (53 bytes, content-type text/html; charset=utf-8)";
    await expect(getEntity(ziti(), "identity", "abc")).rejects.toThrow(want);
    await expect(deleteEntity(ziti(), "identity", "abc")).rejects.toThrow(
      want.replace("GET", "DELETE"),
    );
  });
});

describe("Curity: a 404 is gone only as RESTCONF's error body", () => {
  it("RESTCONF's own 404 reads as gone; a delete of it is done", async () => {
    reply = RESTCONF_404;
    await expect(getEntry(curity(), "client", PATH, "client")).resolves.toBeUndefined();
    await expect(deleteEntry(curity(), "client", PATH)).resolves.toBeUndefined();
  });

  it.each([
    ["a proxy's HTML page", HTML_404, "text/html; charset=utf-8"],
    ["a RESTCONF body as plain JSON", { ...RESTCONF_404, headers: {} }, "application/json"],
  ])("%s is an error with the status and content type", async (_, r, type) => {
    reply = r;
    const err = (await getEntry(curity(), "client", PATH, "client").catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toMatch(new RegExp(`^Curity client: GET ${PATH}: HTTP 404 `));
    expect(err.message).toContain(`not RESTCONF's own 404 (content-type ${type})`);
    if (r === HTML_404) {
      expect(err.message).toBe(
        `Curity client: GET ${PATH}: HTTP 404 (no RESTCONF error body); not RESTCONF's own 404 (content-type ${type}), so not taken as deleted: check curity.adminUrl and any proxy in front of it`,
      );
    }
    await expect(deleteEntry(curity(), "client", PATH)).rejects.toThrow(/HTTP 404/);
  });
});
