/**
 * The OpenZiti controller double for a provider test file: started once over HTTPS on
 * 127.0.0.1 with a root CA to federate, and checked after the file (every answer it gave matched
 * the spec's response schemas). Plus the provider states the tests build.
 */
import type { webcrypto } from "node:crypto";
import { afterAll, beforeAll, expect } from "vitest";
import type { ZitiConnection } from "../../components/federation/openziti/api";
import { spiffeCaBody } from "../../components/federation/openziti/component";
import type { ZitiState } from "../../components/federation/openziti/provider";
import { makeCertificate, makeLoopbackServerCredentials } from "../fixtures";
import { ZitiTestController } from "./server";

/** What a test file uses; filled in by the file's first `beforeAll`. */
export interface ZitiHarness {
  ctl: ZitiTestController;
  conn: ZitiConnection;
  /** The trust domain's root CA (real keys, to sign verification certificates). */
  root: Awaited<ReturnType<typeof makeCertificate>>;
}

/** Registers the hooks that start and stop the controller. */
export function useZitiController(): ZitiHarness {
  const h = {} as ZitiHarness;
  beforeAll(async () => {
    const creds = await makeLoopbackServerCredentials();
    h.ctl = new ZitiTestController(creds);
    await h.ctl.start();
    h.conn = {
      controllerUrl: h.ctl.url,
      username: "admin",
      password: "s3cret-admin-pw",
      caPem: creds.caPem,
    };
    h.root = await makeCertificate({ subject: "CN=prod.example.com root CA", ca: true });
  });
  afterAll(async () => {
    await h.ctl.stop();
    // Every answer the double gave in this file matched the spec's response schemas.
    expect(h.ctl.violations).toEqual([]);
  });
  return h;
}

/** The provider states of a harness: the SPIFFE CA body of its root, a state of any kind. */
export function zitiStates(h: ZitiHarness) {
  return {
    caBody: () => spiffeCaBody("spire", h.root.pem),
    state: (kind: ZitiState["kind"], body: Record<string, unknown>): ZitiState => ({
      kind,
      connection: h.conn,
      body,
    }),
  };
}

/** A certificate with the given CN signed by `issuer` (WebCrypto keys, real signatures). */
export async function signedBy(
  cn: string,
  issuer: { subject: string; privateKey: webcrypto.CryptoKey },
): Promise<string> {
  return (await makeCertificate({ subject: `CN=${cn}`, ca: false, issuer })).pem;
}
