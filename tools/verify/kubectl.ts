/**
 * Read-only Kubernetes API reads through the user's own `kubectl` (`kubectl get --raw <path>`
 * only): the kubeconfig, its credentials plugins and the context are the user's (`KUBECONFIG`,
 * `--kube-context`). Each read has kubectl's `--request-timeout` and a process deadline, and its
 * output a size limit; kubectl's error is sorted into forbidden (RBAC), not found, unreachable.
 */
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import * as path from "node:path";
import { redact } from "../../components/http/client";
import type { VerifyContext } from "./types";

/** Largest answer read, bytes (a ConfigMap is at most 1 MiB; istiod's injector is ~100 kB). */
export const KUBECTL_MAX_BYTES = 2 * 1024 * 1024;

/** A read's answer: the JSON object, or why there is none. */
export type KubeAnswer =
  | { ok: true; json: Record<string, unknown> }
  | { ok: false; kind: "forbidden" | "not-found" | "unreachable" | "other"; why: string };

/** The kubectl to run: `KUBECTL`, else the first `kubectl` on `PATH`; undefined when none. */
export function findKubectl(ctx: VerifyContext): string | undefined {
  const candidates = ctx.env.KUBECTL
    ? [ctx.env.KUBECTL]
    : (ctx.env.PATH ?? "")
        .split(path.delimiter)
        .filter((d) => d !== "")
        .map((d) => path.join(d, "kubectl"));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Sorts kubectl's failure by its message. */
function failure(stderr: string, ctx: VerifyContext): Extract<KubeAnswer, { ok: false }> {
  const why = redact(stderr.trim().split("\n").slice(-3).join(" ").slice(0, 400), ctx.secrets);
  if (/\(Forbidden\)|forbidden/i.test(why)) return { ok: false, kind: "forbidden", why };
  if (/\(NotFound\)|not found|could not find the requested resource/i.test(why)) {
    return { ok: false, kind: "not-found", why };
  }
  if (/Unable to connect|refused|no such host|timeout|deadline|x509|certificate/i.test(why)) {
    return { ok: false, kind: "unreachable", why };
  }
  return { ok: false, kind: "other", why: why || "kubectl failed without a message" };
}

/** `kubectl get --raw <apiPath>` as JSON. Never throws. */
export function kubeGet(ctx: VerifyContext, kubectl: string, apiPath: string): Promise<KubeAnswer> {
  const seconds = Math.max(1, Math.ceil(ctx.deadlineMs / 1000));
  const args = [
    ...(ctx.kubeContext ? ["--context", ctx.kubeContext] : []),
    `--request-timeout=${seconds}s`,
    "get",
    "--raw",
    apiPath,
  ];
  ctx.progress(`istio: kubectl get --raw ${apiPath}`);
  return new Promise((resolve) => {
    execFile(
      kubectl,
      args,
      {
        env: { ...ctx.env },
        timeout: ctx.deadlineMs + 5_000,
        maxBuffer: KUBECTL_MAX_BYTES,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error) {
          const e = error as NodeJS.ErrnoException & { killed?: boolean };
          if (e.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
            resolve({
              ok: false,
              kind: "other",
              why: `the answer exceeds ${KUBECTL_MAX_BYTES} bytes`,
            });
          } else if (e.killed) {
            resolve({
              ok: false,
              kind: "unreachable",
              why: `kubectl did not answer within ${seconds}s`,
            });
          } else resolve(failure(stderr || e.message, ctx));
          return;
        }
        try {
          const json = JSON.parse(stdout) as unknown;
          if (typeof json === "object" && json !== null && !Array.isArray(json)) {
            resolve({ ok: true, json: json as Record<string, unknown> });
          } else resolve({ ok: false, kind: "other", why: "the answer is not a JSON object" });
        } catch {
          resolve({ ok: false, kind: "other", why: "the answer is not JSON" });
        }
      },
    );
  });
}
