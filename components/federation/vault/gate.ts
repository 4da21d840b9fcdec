/**
 * A readiness gate for an OIDC issuer: polls `<issuer>/.well-known/openid-configuration` until it
 * answers 200 with a JSON document whose `issuer` is exactly the expected one (trailing slash
 * included) and that names a `jwks_uri`. Vault's JWT backend fetches that document when its
 * config is written and fails on an unreachable endpoint or an issuer mismatch, so it waits on
 * this gate.
 *
 * Bounded: a number of attempts with an interval between them (longer when the server asks for
 * it with `Retry-After`), a timeout per attempt that covers a slowly dripping body, a size limit,
 * and an overall deadline. A body cut off mid-way is a failed attempt, never a pass. On failure
 * the gate exits 1 with one line naming the URL, the attempts and the last reason.
 *
 * The check runs as `node -e <script>` (`@pulumi/command`): Node.js is always present where a
 * Pulumi Node.js program runs. The script is the package's one HTTP client
 * (components/http/client.ts, the source of its compiled functions) followed by
 * {@link checkOidcDiscovery} and a line that runs it: it loads nothing but Node built-ins and
 * names no path, so the command text is the same on every machine for a given build.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { clientScriptSource, type HttpRequest, type HttpResponse } from "../../http/client";

/** Default time of one attempt (connect to last byte), in ms. */
export const DEFAULT_GATE_ATTEMPT_TIMEOUT_MS = 10_000;
/** Default size limit of the discovery document (SPIRE's is well under 1 KiB), in bytes. */
export const DEFAULT_GATE_MAX_BYTES = 64 * 1024;

/** The client functions {@link checkOidcDiscovery} uses; passed in so that its source stands alone. */
export interface GateClient {
  /** components/http/client.ts `httpRequest`. */
  httpRequest(req: HttpRequest): Promise<HttpResponse>;
  /** components/http/client.ts `parseJson`. */
  parseJson(res: HttpResponse, what: string): unknown;
  /** components/http/client.ts `retryAfterMs`. */
  retryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined;
  /** components/http/client.ts `formatMs`. */
  formatMs(ms: number): string;
  /** components/http/client.ts `displayUrl`. */
  displayUrl(url: URL): string;
}

/** The gate's outcome: whether discovery is ready, and the one line to print. */
export interface GateResult {
  /** True when the document is served as expected. */
  ok: boolean;
  /** What to print: on stdout when ok, else on stderr. */
  line: string;
}

/**
 * The gate's check, from its environment: GATE_ISSUER (the exact expected issuer),
 * GATE_ATTEMPTS, GATE_INTERVAL_MS, GATE_ATTEMPT_TIMEOUT_MS, GATE_DEADLINE_MS, GATE_MAX_BYTES
 * (required integers) and GATE_CA_PEM (optional extra trust). Its source is embedded in the
 * gate script, so it uses nothing but its parameters and JavaScript globals.
 */
export async function checkOidcDiscovery(
  env: Record<string, string | undefined>,
  api: GateClient,
): Promise<GateResult> {
  const problems: string[] = [];
  const int = (name: string, min: number): number => {
    const raw = env[name] ?? "";
    if (/^\d+$/.test(raw) && Number(raw) >= min) return Number(raw);
    problems.push(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
    return min;
  };
  const issuer = env.GATE_ISSUER ?? "";
  const attempts = int("GATE_ATTEMPTS", 1);
  const intervalMs = int("GATE_INTERVAL_MS", 0);
  const attemptTimeoutMs = int("GATE_ATTEMPT_TIMEOUT_MS", 1);
  const deadlineMs = int("GATE_DEADLINE_MS", 1);
  const maxBytes = int("GATE_MAX_BYTES", 1);
  let url = "";
  try {
    url = api.displayUrl(new URL(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`));
  } catch {
    problems.unshift(`GATE_ISSUER must be a URL, got ${JSON.stringify(issuer)}`);
  }
  if (problems.length > 0) {
    return { ok: false, line: `OIDC readiness gate: ${problems.join("; ")}` };
  }
  const deadlineAt = Date.now() + deadlineMs;
  let last = "no attempt made";
  let made = 0;
  let outOfTime = false;
  while (made < attempts) {
    const remaining = deadlineAt - Date.now();
    if (remaining <= 0) {
      outOfTime = true;
      break;
    }
    made++;
    let wait = intervalMs;
    try {
      const res = await api.httpRequest({
        method: "GET",
        url,
        caPem: env.GATE_CA_PEM || undefined,
        deadlineMs: remaining,
        attemptTimeoutMs,
        maxBytes,
        retries: 0,
      });
      if (res.status === 200) {
        const doc = api.parseJson(res, "the discovery document");
        const fields =
          typeof doc === "object" && doc !== null && !Array.isArray(doc)
            ? (doc as Record<string, unknown>)
            : undefined;
        if (!fields) {
          last = "the discovery document is not a JSON object";
        } else if (fields.issuer !== issuer) {
          last =
            fields.issuer === undefined
              ? "the discovery document has no issuer"
              : `issuer mismatch: the document says ${JSON.stringify(fields.issuer)}, expected ${JSON.stringify(issuer)} (exact match, trailing slash included)`;
        } else if (typeof fields.jwks_uri !== "string" || fields.jwks_uri === "") {
          last = "the discovery document has no jwks_uri";
        } else {
          return { ok: true, line: `OIDC discovery ready at ${url} (jwks_uri ${fields.jwks_uri})` };
        }
      } else {
        last = `HTTP ${res.status}`;
        const asked = api.retryAfterMs(res.headers["retry-after"], Date.now());
        if (asked !== undefined) {
          wait = Math.max(wait, asked);
          last += ` (Retry-After ${api.formatMs(asked)})`;
        }
      }
    } catch (e) {
      // the client's messages name the call; the final line names it once
      last = (e instanceof Error ? e.message : String(e)).split(`GET ${url}: `).join("");
    }
    if (made === attempts) break;
    if (Date.now() + wait >= deadlineAt) {
      outOfTime = true;
      break;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
  const within = outOfTime ? ` within the deadline of ${api.formatMs(deadlineMs)}` : "";
  const tries = `${made} attempt${made === 1 ? "" : "s"}`;
  return {
    ok: false,
    line: `OIDC discovery at ${url} is not ready after ${tries}${within}: ${last.replace(/\s+/g, " ")}`,
  };
}

/** Runs the check in the script and exits 0 or 1 once its one line is written. */
const RUN_CHECK = `checkOidcDiscovery(process.env, { httpRequest, parseJson, retryAfterMs, formatMs, displayUrl }).then(
  (r) => (r.ok ? process.stdout : process.stderr).write(r.line + "\\n", () => process.exit(r.ok ? 0 : 1)),
  (e) => process.stderr.write("OIDC readiness gate failed: " + String((e && e.message) || e).replace(/\\s+/g, " ") + "\\n", () => process.exit(1)),
);`;

/**
 * The gate script for `node -e`: the HTTP client, {@link checkOidcDiscovery}, and the line that
 * runs it. Built from the compiled functions (bin/), as Pulumi runs them.
 */
export function gateScript(): string {
  return ['"use strict";', clientScriptSource(), checkOidcDiscovery.toString(), RUN_CHECK].join(
    "\n",
  );
}

/** Arguments of {@link oidcReadinessGate}. */
export interface OidcReadinessGateArgs {
  /** The expected issuer, e.g. `https://oidc.example.org` (no trailing slash). */
  issuerUrl: string;
  /** PEM of the CA that signs the endpoint's certificate, when it is not publicly trusted. */
  caPem?: string;
  /** How many times to try (default 30). */
  attempts?: number;
  /** Seconds between attempts, or more when the server sends `Retry-After` (default 10). */
  intervalSeconds?: number;
  /** Overall deadline in seconds. Default: attempts × (interval + the 10 s attempt timeout). */
  deadlineSeconds?: number;
  /** What must exist before polling makes sense (the SPIRE release). */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

/** Creates the gate command; it re-runs whenever the issuer or what it waits on changes. */
export function oidcReadinessGate(
  name: string,
  args: OidcReadinessGateArgs,
  opts: pulumi.CustomResourceOptions,
): command.local.Command {
  const attempts = args.attempts ?? 30;
  const intervalMs = Math.round((args.intervalSeconds ?? 10) * 1000);
  const deadlineMs =
    args.deadlineSeconds !== undefined
      ? Math.round(args.deadlineSeconds * 1000)
      : attempts * (intervalMs + DEFAULT_GATE_ATTEMPT_TIMEOUT_MS);
  const environment: Record<string, string> = {
    GATE_ISSUER: args.issuerUrl,
    GATE_ATTEMPTS: String(attempts),
    GATE_INTERVAL_MS: String(intervalMs),
    GATE_ATTEMPT_TIMEOUT_MS: String(DEFAULT_GATE_ATTEMPT_TIMEOUT_MS),
    GATE_DEADLINE_MS: String(deadlineMs),
    GATE_MAX_BYTES: String(DEFAULT_GATE_MAX_BYTES),
  };
  if (args.caPem !== undefined) {
    environment.GATE_CA_PEM = args.caPem;
  }
  return new command.local.Command(
    name,
    {
      interpreter: ["node", "-e"],
      create: gateScript(),
      environment,
      triggers: [args.issuerUrl],
    },
    { ...opts, dependsOn: args.waitFor },
  );
}
