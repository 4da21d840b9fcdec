/**
 * The RESTCONF double for a Curity test file: started once on 127.0.0.1 behind the fault server,
 * reset before each test to one token profile (`token-service`, scopes `reports` and
 * `orders:read`), and checked after each (no contract violation, no fault left unused).
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import type { CurityConnection } from "../../components/federation/curity/api";
import { makeCertificate } from "../fixtures";
import type { FaultServer } from "../support/fault-server";
import { CurityTestServer } from "./server";

/** The admin password the double accepts. */
export const CURITY_TEST_PASSWORD = "s3cret-Curity-admin-pw";
/** The token profile every test starts with. */
export const CURITY_TEST_PROFILE = "token-service";

/** What a test file uses; filled in by the file's first `beforeAll`. */
export interface CurityHarness {
  server: CurityTestServer;
  fault: FaultServer;
  conn: CurityConnection;
  /** A CA certificate to put in trust stores. */
  root: string;
  /** Back to the profile alone (what an admin node restarted without persistence holds). */
  restart(): void;
}

/** Registers the hooks; the profile allows `algorithms` for client assertions. */
export function useCurityServer(algorithms: string[]): CurityHarness {
  const h = {} as CurityHarness;
  beforeAll(async () => {
    h.server = new CurityTestServer({ username: "admin", password: CURITY_TEST_PASSWORD });
    h.fault = await h.server.start();
    h.conn = {
      adminUrl: h.fault.url,
      username: "admin",
      password: CURITY_TEST_PASSWORD,
      caPem: h.fault.caPem,
      limits: { deadlineMs: 8000, attemptTimeoutMs: 1500 },
    };
    h.root = (await makeCertificate({ subject: "CN=prod.example.com root CA", ca: true })).pem;
    h.restart = () => {
      for (const m of Object.values(h.server.store)) m.clear();
      h.server.addProfile(CURITY_TEST_PROFILE, algorithms, ["reports", "orders:read"]);
    };
  });
  afterAll(() => h.server.stop());
  beforeEach(() => {
    h.restart();
    h.server.log.length = 0;
    h.fault.reset();
  });
  afterEach(() => {
    expect(h.server.violations).toEqual([]);
    expect(h.fault.pending()).toBe(0);
  });
  return h;
}
