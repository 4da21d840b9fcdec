/**
 * A read-only TLS handshake, as a SPIFFE client makes it, and the X509-SVID rules it is judged
 * by. The probe connects, offers the ALPN protocols given (SPIRE agents offer `h2`: gRPC), sends
 * no client certificate, lets OpenSSL verify the presented chain against the given roots only
 * (Node's `ca` replaces the public roots; no host name check: SPIFFE authenticates by SPIFFE ID),
 * and closes without sending a byte of application data. It follows the hardened client's
 * conventions (components/http/client.ts): an overall deadline that destroys the socket, bounded
 * retries with backoff for transport failures only, messages without secrets.
 *
 * The X509-SVID rules are go-spiffe's `x509svid.Verify` (spiffe/go-spiffe
 * `svid/x509svid/verify.go`), which SPIRE agents (`pkg/agent/client/dial.go`) and SPIRE's bundle
 * client (`pkg/server/bundle/client/client.go`) use through `tlsconfig.AuthorizeID`: exactly one
 * URI SAN, a leaf that is no CA, a chain to the bundle, and the authorized SPIFFE ID.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import * as tls from "node:tls";
import { backoffMs, formatMs } from "../../components/http/client";

/** What a handshake saw. */
export type ProbeResult =
  | {
      ok: true;
      /** The presented chain, leaf first (Node may append roots it found in `trustPem`). */
      chain: X509Certificate[];
      /** OpenSSL's verdict on the chain against `trustPem`: undefined when trusted. */
      untrusted?: string;
      /** The ALPN protocol the server chose, or undefined. */
      alpn?: string;
    }
  | {
      ok: false;
      /** `unreachable`: no TCP connection; `refused`: TCP, but no TLS handshake. */
      kind: "unreachable" | "refused";
      /** One sentence naming the address and the error. */
      message: string;
    };

/** One handshake. */
export interface ProbeOptions {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
  /** SNI to send; default: `host` unless it is an IP address (as gRPC and Go send it). */
  servername?: string;
  /** PEM roots the chain must verify against (and nothing else). */
  trustPem: string;
  /** ALPN protocols to offer, e.g. `["h2"]`. */
  alpn?: string[];
  /** Overall deadline, ms. */
  deadlineMs: number;
  /** Transport failures retried (default 2). */
  retries?: number;
}

/** Error codes of a TCP connection that never came up. */
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/;

/** The chain as Node exposes it (`getPeerCertificate(true)`), leaf first, each certificate once. */
function presentedChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c?.raw !== undefined && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return chain;
}

/** One attempt. */
function handshakeOnce(o: ProbeOptions, timeoutMs: number): Promise<ProbeResult> {
  const where = `${o.host}:${o.port}`;
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    const socket = tls.connect({
      host: o.host,
      port: o.port,
      servername: o.servername ?? (isIP(o.host) === 0 ? o.host : undefined),
      ALPNProtocols: o.alpn,
      ca: o.trustPem,
      minVersion: "TLSv1.2",
      // Judged below, not refused here: the verdict names the cause.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const done = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (r.ok) {
        // A clean close (close_notify): the server sees the whole handshake, and no data.
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      } else socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done({
          ok: false,
          kind: connected ? "refused" : "unreachable",
          message: connected
            ? `${where}: no TLS handshake within ${formatMs(timeoutMs)}`
            : `${where}: no TCP connection within ${formatMs(timeoutMs)}`,
        }),
      timeoutMs,
    );
    socket.once("connect", () => (connected = true));
    socket.once("secureConnect", () => {
      const untrusted = socket.authorized ? undefined : String(socket.authorizationError);
      const chain = presentedChain(socket);
      const alpn = socket.alpnProtocol || undefined;
      done({ ok: true, chain, ...(untrusted ? { untrusted } : {}), ...(alpn ? { alpn } : {}) });
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      // OpenSSL's message is `<hex>:error:<code>:SSL routines:<function>:<reason>:<file>:<line>:`.
      const ssl = /:SSL routines:[^:]*:([^:]+)/.exec(e.message)?.[1];
      const text = ssl ?? e.message.split("\n")[0];
      const what = e.code ? `${e.code}: ${text}` : text;
      done({
        ok: false,
        kind: !connected && UNREACHABLE.test(what) ? "unreachable" : "refused",
        message: `${where}: ${what}`,
      });
    });
  });
}

/** The handshake, retried on transport failures within the deadline. */
export async function probeTls(o: ProbeOptions): Promise<ProbeResult> {
  const deadlineAt = Date.now() + o.deadlineMs;
  const retries = o.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const r = await handshakeOnce(o, Math.max(1, deadlineAt - Date.now()));
    const wait = backoffMs(attempt);
    if (r.ok || attempt >= retries || Date.now() + wait >= deadlineAt) {
      return r.ok || attempt === 0
        ? r
        : { ...r, message: `${r.message} (${attempt + 1} attempts)` };
    }
    await new Promise((w) => setTimeout(w, wait));
  }
}

/** The URI SANs of a certificate (Node's `subjectAltName`, quoted values unquoted). */
export function uriSans(cert: X509Certificate): string[] {
  const out: string[] = [];
  for (const m of (cert.subjectAltName ?? "").matchAll(/(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    out.push(m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1]);
  }
  return out;
}

/** Every PEM certificate in `text` that parses. */
export function pemCertificates(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((b) => {
    try {
      return [new X509Certificate(b)];
    } catch {
      return [];
    }
  });
}

/** Whether `cert` is signed by `issuer` (names and signature). */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/**
 * Whether the leaf of `chain` chains to one of `roots` through the chain's other certificates
 * (signatures and names; the handshake's own verdict covers validity and constraints).
 */
export function chainsTo(
  chain: readonly X509Certificate[],
  roots: readonly X509Certificate[],
): boolean {
  const visited = new Set<string>();
  let cur: X509Certificate | undefined = chain[0];
  while (cur !== undefined && !visited.has(cur.fingerprint256)) {
    const c: X509Certificate = cur;
    if (roots.some((r) => r.fingerprint256 === c.fingerprint256 || issuedBy(c, r))) return true;
    visited.add(c.fingerprint256);
    cur = chain.slice(1).find((i) => !visited.has(i.fingerprint256) && issuedBy(c, i));
  }
  return false;
}

/** One finding on a presented X509-SVID. */
export interface SvidFinding {
  /** What was judged: `validity`, `SPIFFE ID`, `chain`. */
  name: string;
  /** Whether it holds. */
  ok: boolean;
  /** The values seen. */
  reason: string;
  /** The cause, when it does not hold (`expired`, `not an X509-SVID`, `wrong SPIFFE ID`, `untrusted`). */
  cause?: "expired" | "not an X509-SVID" | "wrong SPIFFE ID" | "untrusted";
}

/** A certificate's subject on one line. */
export function subjectOf(cert: X509Certificate): string {
  return cert.subject.split("\n").join(", ") || "(empty subject)";
}

/**
 * The presented leaf judged as an X509-SVID for `expectedId`, and the chain against the roots
 * (`trustedBy` names them in messages), in the order a user fixes them.
 */
export function judgeSvid(
  probe: Extract<ProbeResult, { ok: true }>,
  expectedId: string,
  trustedBy: string,
  now = new Date(),
): SvidFinding[] {
  const leaf = probe.chain[0];
  if (leaf === undefined) {
    return [{ name: "SPIFFE ID", ok: false, cause: "not an X509-SVID", reason: "no certificate" }];
  }
  const findings: SvidFinding[] = [];
  const notAfter = new Date(leaf.validTo);
  const notBefore = new Date(leaf.validFrom);
  const valid = notBefore <= now && now <= notAfter;
  findings.push({
    name: "validity",
    ok: valid,
    reason: valid
      ? `the leaf is valid until ${notAfter.toISOString()}`
      : `the leaf is valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}, not now (${now.toISOString()})`,
    ...(valid ? {} : { cause: "expired" as const }),
  });
  const uris = uriSans(leaf);
  if (uris.length !== 1 || leaf.ca) {
    const why = leaf.ca
      ? "the leaf is a CA certificate"
      : `the leaf has ${uris.length} URI SANs (${subjectOf(leaf)})`;
    findings.push({
      name: "SPIFFE ID",
      ok: false,
      cause: "not an X509-SVID",
      reason: `${why}: not an X509-SVID, so the server is not what answered (a proxy that terminates TLS?)`,
    });
  } else {
    const ok = uris[0] === expectedId;
    findings.push({
      name: "SPIFFE ID",
      ok,
      reason: ok ? `the leaf is ${expectedId}` : `the leaf is ${uris[0]}, not ${expectedId}`,
      ...(ok ? {} : { cause: "wrong SPIFFE ID" as const }),
    });
  }
  const bad = probe.untrusted;
  // OpenSSL's codes for a certificate of the chain outside its validity period.
  const dated = bad !== undefined && /^CERT_(HAS_EXPIRED|NOT_YET_VALID)$/.test(bad);
  findings.push({
    name: "chain",
    ok: bad === undefined,
    reason:
      bad === undefined
        ? `the chain verifies against ${trustedBy}`
        : `the chain does not verify against ${trustedBy} (${bad})`,
    ...(bad === undefined ? {} : { cause: dated ? ("expired" as const) : ("untrusted" as const) }),
  });
  return findings;
}
