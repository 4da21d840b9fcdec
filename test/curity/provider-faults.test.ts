/**
 * The Curity provider under the faults of test/support/fault-server.ts (resets, lost
 * responses, 429 and 5xx, slow drips, oversized and non-JSON answers, echoed credentials, wrong
 * credentials, TLS trust), and as Pulumi ships it to the dynamic provider host.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  CURITY_MEMBERS,
  CurityApiError,
  getEntry,
  type CurityConnection,
} from "../../components/federation/curity/api";
import { curityProvider } from "../../components/federation/curity/provider";
import { HttpError } from "../../components/http/client";
import { useCurityServer } from "./harness";
import { BASIC, CLIENT_PATH, curityStates, PASSWORD, PROFILE } from "./provider-states";
import type { CurityTestServer } from "./server";
import { CURITY_CONTRACT } from "../contracts/curity/contract";
import type { FaultServer } from "../support/fault-server";
import { shippedProvider } from "../support/shipped-provider";

const p = curityProvider as Required<typeof curityProvider>;
const h = useCurityServer(["ES256", "RS256"]);
const { trust, clientState, storedClient } = curityStates(h);
let server: CurityTestServer;
let fault: FaultServer;
let conn: CurityConnection;
let root: string;
beforeAll(() => ({ server, fault, conn, root } = h));

describe("faults (test/support/fault-server.ts in front of the RESTCONF double)", () => {
  const MISSING = CURITY_CONTRACT.errors.missing;
  /** The profile's scopes as the double answers them (a scripted fault answers in its place). */
  const scopesOk = () => ({
    kind: "reply" as const,
    reply: {
      status: 200,
      headers: { "content-type": "application/yang-data+json" },
      body: JSON.stringify({
        [CURITY_MEMBERS.scopes]: { scope: [{ id: "reports" }, { id: "orders:read" }] },
      }),
    },
  });
  const missing = {
    kind: "reply" as const,
    reply: {
      status: 404,
      headers: { "content-type": "application/yang-data+json" },
      body: JSON.stringify(MISSING.body),
    },
  };
  const x509 = (c: CurityConnection = conn) => ({ ...clientState("batch", "x509"), connection: c });
  const noSecret = (e: unknown) => {
    const text = `${(e as Error).message} ${(e as Error).stack ?? ""}`;
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(BASIC);
  };

  it("a body reset mid-way is retried (GET is idempotent)", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const created = await p.create(x509());
    fault.reset();
    fault.next({ kind: "reset-mid-body" });
    expect((await p.read(created.id, created.outs)).props).toEqual(created.outs);
    expect(fault.requests.map((r) => r.method)).toEqual(["GET", "GET"]);
  });

  it("a lost response after the create: the retries run out, and the next run adopts what was created", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const once = { ...conn, limits: { ...conn.limits, retries: 1 } };
    fault.reset();
    // GET: not there yet; PUT: the handler stores the client, the answer is lost, twice
    fault.next(missing, scopesOk(), { kind: "lose-response" }, { kind: "lose-response" });
    const err = await p.create(x509(once)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as Error).message).toBe(
      `Curity client spiffe-batch (profile ${PROFILE}): PUT ${fault.url}/admin/api/restconf/data/${CLIENT_PATH("spiffe-batch")}: no response: the connection closed (socket hang up) (2 attempts)`,
    );
    expect(storedClient("spiffe-batch")).toBeDefined();
    fault.reset();
    const again = await p.create(x509(once));
    expect(again.id).toBe("spiffe-batch");
    // the client and the profile's scopes are read; nothing is written: adopted as it is
    expect(fault.requests.map((r) => r.method)).toEqual(["GET", "GET"]);
    expect(server.store.profiles.get(PROFILE)!.clients.size).toBe(1);
  });

  it("429 with Retry-After is waited out, and a trust store action is retried too", async () => {
    fault.next(missing, { kind: "retry-after", retryAfter: "1" });
    const started = Date.now();
    await p.create(trust("spiffe-root-ca", root));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fault.requests.map((r) => r.method)).toEqual(["GET", "POST", "POST", "GET"]);
  });

  it("a 502 is retried; a 500 is not, and reads as an error, never as 'gone'", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const created = await p.create(x509());
    fault.reset();
    fault.next({ kind: "status", status: 502, body: "<html>bad gateway</html>" });
    expect((await p.read(created.id, created.outs)).id).toBe("spiffe-batch");
    fault.reset();
    fault.next({ kind: "status", status: 500 });
    await expect(p.read(created.id, created.outs)).rejects.toThrow(
      `Curity client spiffe-batch (profile ${PROFILE}): GET ${CLIENT_PATH("spiffe-batch")}: HTTP 500 (no RESTCONF error body)`,
    );
    expect(fault.requests).toHaveLength(1);
  });

  it("a slow drip hits the attempt timeout", async () => {
    const tight = { ...conn, limits: { attemptTimeoutMs: 600, retries: 0 } };
    fault.next({ kind: "drip", everyMs: 200, count: 20 });
    const err = await getEntry(tight, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect((err as HttpError).kind).toBe("timeout");
    expect((err as Error).message).toMatch(
      /^Curity client x: GET https:\/\/127\.0\.0\.1:\d+\/admin\/api\/restconf\/data\/.*: no complete answer within 600 ms \(attempt timeout\) while reading the body \(\d+ bytes\)$/,
    );
  });

  it("an oversized answer is refused at the size limit", async () => {
    const small = { ...conn, limits: { ...conn.limits, maxBytes: 4096 } };
    fault.next({ kind: "oversized", bytes: 200_000, declareLength: false });
    const err = await getEntry(small, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect((err as HttpError).kind).toBe("too-large");
    expect((err as Error).message).toContain("HTTP 200 body exceeds the limit of 4096 bytes");
  });

  it("a 2xx that is not JSON is an error, never 'gone'", async () => {
    await p.create(trust("spiffe-root-ca", root));
    const created = await p.create(x509());
    fault.reset();
    fault.next({ kind: "not-json" });
    const err = await p.read(created.id, created.outs).catch((e: unknown) => e);
    expect((err as HttpError).kind).toBe("malformed");
    expect((err as Error).message).toBe(
      `Curity client spiffe-batch (profile ${PROFILE}): GET ${fault.url}/admin/api/restconf/data/${CLIENT_PATH("spiffe-batch")}: HTTP 200 body is not JSON (45 bytes, text/html)`,
    );
  });

  it("an answer that echoes the credentials never puts them in a message", async () => {
    await p.create(trust("spiffe-root-ca", root));
    fault.reset();
    fault.next(missing, scopesOk(), { kind: "echo", status: 400 });
    const put = await p.create(x509()).catch((e: unknown) => e);
    expect((put as Error).message).toBe(
      `Curity client spiffe-batch (profile ${PROFILE}): PUT ${CLIENT_PATH("spiffe-batch")}: HTTP 400 (no RESTCONF error body)`,
    );
    noSecret(put);
    fault.next({ kind: "echo", status: 200 });
    const get = await getEntry(conn, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect((get as Error).message).toBe(
      `Curity client x: GET ${CLIENT_PATH("x")}: HTTP 200 answer has no profile-oauth:client entry`,
    );
    noSecret(get);
    // a RESTCONF error message that quotes the password or the Basic credentials
    fault.next({
      kind: "reply",
      reply: {
        status: 400,
        body: JSON.stringify({
          "ietf-restconf:errors": {
            error: [
              {
                "error-type": "protocol",
                "error-tag": "malformed-message",
                "error-message": `bad header Basic ${BASIC} for ${PASSWORD}`,
              },
            ],
          },
        }),
      },
    });
    const quoted = await p.update("x", x509(), x509()).catch((e: unknown) => e);
    expect((quoted as Error).message).toContain(
      "HTTP 400 malformed-message: bad header Basic [redacted] for [redacted]",
    );
    noSecret(quoted);
  });

  it("wrong credentials: 401 with a hint, never the password", async () => {
    const wrong = { ...conn, password: "wrong-Password-9" };
    const err = await getEntry(wrong, "client x", CLIENT_PATH("x"), "profile-oauth:client").catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CurityApiError);
    expect((err as Error).message).toBe(
      `Curity client x: GET ${CLIENT_PATH("x")}: HTTP 401 access-denied; check curity.username and curity.password`,
    );
    expect((err as Error).message).not.toContain("wrong-Password-9");
  });

  it("trusts the admin service only through its CA bundle", async () => {
    const err = await getEntry(
      { ...conn, caPem: undefined },
      "client x",
      CLIENT_PATH("x"),
      "profile-oauth:client",
    ).catch((e: unknown) => e);
    expect((err as HttpError).kind).toBe("network");
    expect((err as Error).message).toMatch(/self-signed|unable to verify|certificate/i);
    await expect(
      getEntry(conn, "client x", CLIENT_PATH("x"), "profile-oauth:client"),
    ).resolves.toBeUndefined();
  });
});

describe("the provider as Pulumi ships it", () => {
  it("still works after Pulumi serializes it for the dynamic provider host", async () => {
    const {
      text,
      containsSecrets,
      provider: shipped,
    } = await shippedProvider("components/federation/curity/provider.js", "curityProvider");
    expect(containsSecrets).toBe(false);
    expect(text).not.toContain(PASSWORD);
    const t = await shipped.create(trust("spiffe-root-ca", root));
    const created = await shipped.create(clientState("ledger", "both"));
    expect(storedClient("spiffe-ledger")).toEqual(created.outs.body);
    expect((await shipped.read(created.id, created.outs)).props).toEqual(created.outs);
    await shipped.delete(created.id, created.outs);
    await shipped.delete(t.id, t.outs);
    expect(storedClient("spiffe-ledger")).toBeUndefined();
    expect(server.store.clientTrust.size).toBe(0);
  });
});
