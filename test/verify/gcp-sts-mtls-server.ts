/**
 * Google's STS on its mTLS endpoint (`sts.mtls.googleapis.com/v1/token`) for the X.509 exchange
 * tests: the token-exchange form of the carried contract (test/contracts/gcp, `stsToken`) with
 * `subject_token_type` `urn:ietf:params:oauth:token-type:mtls` and, as google-auth-library sends
 * it, a subject token that is a JSON array of base64 DER certificates, leaf first; the provider
 * found by the audience in the IAM double's state (test/verify/gcp-server.ts), ACTIVE, with an
 * `x509.trustStore`; the TLS client certificate verified by OpenSSL against the providers' trust
 * anchors (refreshed by `refresh()`) and equal to the subject token's leaf; the attribute
 * condition's SPIFFE prefix on the URI SAN. Google's own error texts for X.509 are not published:
 * these are the double's (RFC 8693 `invalid_grant`, `invalid_target` as the JWT path's).
 */
import { X509Certificate } from "node:crypto";
import { GCP_CONTRACT, type GcpState } from "./gcp-server";
import { startMtlsServer, type MtlsServer } from "./mtls-server";

/** One exchange the double received. */
export interface MtlsExchange {
  /** The form. */
  form: Record<string, string>;
  /** Whether the TLS client certificate verified against the providers' trust anchors. */
  chainVerified: boolean;
  /** The status answered. */
  status: number;
}

/** The double. */
export class GcpMtlsSts {
  /** Every exchange, in order. */
  readonly exchanges: MtlsExchange[] = [];
  /** Form problems against the contract (must stay empty). */
  readonly violations: string[] = [];
  private server?: MtlsServer;

  constructor(
    private readonly state: GcpState,
    private readonly tls: { keyPem: string; certPem: string },
  ) {}

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return this.server?.url ?? "";
  }

  /** Starts it on 127.0.0.1. */
  async start(): Promise<void> {
    this.server = await startMtlsServer(this.tls, (req) => {
      const form = Object.fromEntries(new URLSearchParams(req.body));
      const ex: MtlsExchange = { form, chainVerified: req.verifiedLeaf !== undefined, status: 0 };
      this.exchanges.push(ex);
      const [status, answer] =
        req.method === "POST" && req.url === "/v1/token"
          ? this.exchange(form, req.verifiedLeaf)
          : [404, { error: "not_found" }];
      ex.status = status;
      return { status, body: JSON.stringify(answer) };
    });
    this.refresh();
  }

  /** Stops it. */
  stop(): Promise<void> {
    return this.server!.stop();
  }

  /** Trusts the X.509 providers' trust anchors for new connections. */
  refresh(): void {
    this.server?.trust(
      Object.values(this.state.resources).flatMap((p) => {
        const x509 = p.x509 as
          { trustStore?: { trustAnchors?: { pemCertificate?: string }[] } } | undefined;
        return (x509?.trustStore?.trustAnchors ?? []).flatMap((a) =>
          a.pemCertificate ? [a.pemCertificate] : [],
        );
      }),
    );
  }

  private exchange(
    form: Record<string, string>,
    peer: X509Certificate | undefined,
  ): [number, Record<string, unknown>] {
    const grant = (d: string): [number, Record<string, unknown>] => [
      400,
      { error: "invalid_grant", error_description: d },
    ];
    const c = GCP_CONTRACT.stsToken;
    const missing = c.required.filter((k) => !form[k]);
    if (
      missing.length ||
      form.grant_type !== c.grant_type ||
      form.requested_token_type !== c.requested_token_type ||
      form.subject_token_type !== "urn:ietf:params:oauth:token-type:mtls"
    ) {
      this.violations.push(`sts mtls: bad form (missing ${missing.join(",")})`);
      return [400, { error: "invalid_request", error_description: "bad request" }];
    }
    const tail = form.audience.replace(/^\/\/iam\.googleapis\.com\/projects\/[^/]+\//, "");
    const provider = Object.entries(this.state.resources).find(([n]) =>
      n.endsWith(`/${tail}`),
    )?.[1];
    if (!provider || provider.state !== "ACTIVE" || provider.x509 === undefined) {
      return [
        400,
        {
          error: "invalid_target",
          error_description:
            'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.',
        },
      ];
    }
    let chain: string[];
    try {
      chain = JSON.parse(form.subject_token) as string[];
    } catch {
      return grant("The subject token is not a JSON array of certificates.");
    }
    const leaf = chain[0] ? new X509Certificate(Buffer.from(chain[0], "base64")) : undefined;
    if (!peer || !leaf || !leaf.raw.equals(peer.raw)) {
      return grant(
        "The client certificate could not be validated against the trust store of the provider.",
      );
    }
    const prefix = /startsWith\("([^"]+)"\)/.exec(String(provider.attributeCondition))?.[1] ?? "";
    const uri = /URI:([^,\s]+)/.exec(leaf.subjectAltName ?? "")?.[1] ?? "";
    if (!uri.startsWith(prefix)) {
      return grant("The given credential is rejected by the attribute condition.");
    }
    return [
      200,
      {
        access_token: "ya29.federated-x509-7c2d",
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer",
        expires_in: 3600,
      },
    ];
  }
}
