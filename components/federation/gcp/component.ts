/**
 * Google Cloud workload identity federation: one pool, an OIDC provider (JWT-SVIDs) and an X.509
 * provider (X509-SVIDs chaining to the trust domain's root), and project IAM grants to
 * individual SPIFFE IDs.
 *
 * What Google enforces, and how this component meets it:
 * - pool and provider IDs: 4–32 characters `[a-z0-9-]`, not starting `gcp-`; a deleted pool's ID
 *   stays reserved for about 30 days (see the README);
 * - `google.subject` at most 127 characters and always mapped: `assertion.sub` for OIDC,
 *   `assertion.san.uri` for X.509 (SPIRE's leaves have no CN, the default mapping is empty);
 * - an attribute condition limits both providers to this trust domain;
 * - OIDC issuer `https://`, at most 10 allowed audiences (one here);
 * - X.509 trust store: at most 3 trust anchors and 10 intermediates (one root here; SPIRE's
 *   rotating intermediates are sent by the workload in its chain);
 * - IAM principals are addressed by project number.
 *
 * IAM member names: `<component>-<workload>-<project>-<role>` (each slugged, for reading) plus
 * 8 hex digits of a SHA-256 over the exact (workload, project, role), so that two grants that
 * slug alike (`svc` in `x-proj-abc` and `svc-x` in `proj-abc`; `roles/a.b` and `roles/a_b`) get
 * different names; the same tuple twice is a config error. Each member aliases its name from
 * before the hash (see {@link iamMemberNames}), so existing stacks see no replacement.
 */
import { anchorOptions } from "../../anchors";
import { createHash } from "node:crypto";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import {
  GCP_CERTIFICATE_CONFIG_PATH,
  GCP_JWT_SVID_FILE,
  GCP_JWT_SVID_PATH,
  inDir,
  SVID_CERT_FILE,
  SVID_DIR,
  SVID_KEY_FILE,
} from "../paths";
import { rejectProblems } from "../args";
import {
  GCP_MAX_SUBJECT_LENGTH,
  gcpIdProblem,
  gcpRoleProblem,
  type GcpPoolSettings,
} from "./rules";

/** `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X`. */
export function providerAudience(
  projectNumber: string,
  poolId: string,
  providerId: string,
): string {
  return `//iam.googleapis.com/projects/${projectNumber}/locations/global/workloadIdentityPools/${poolId}/providers/${providerId}`;
}

/** An OIDC provider's attribute mapping and condition for a trust domain (JWT-SVIDs' `sub`). */
export function oidcProviderAttributes(trustDomain: string) {
  return {
    attributeMapping: { "google.subject": "assertion.sub" },
    attributeCondition: `assertion.sub.startsWith("spiffe://${trustDomain}/")`,
  };
}

/** An X.509 provider's attribute mapping and condition (SPIRE leaves carry the ID as URI SAN). */
export function x509ProviderAttributes(trustDomain: string) {
  return {
    attributeMapping: { "google.subject": "assertion.san.uri" },
    attributeCondition: `assertion.san.uri.startsWith("spiffe://${trustDomain}/")`,
  };
}

/** The IAM principal of one SPIFFE ID in the pool. */
export function poolPrincipal(projectNumber: string, poolId: string, spiffeId: string): string {
  return `principal://iam.googleapis.com/projects/${projectNumber}/locations/global/workloadIdentityPools/${poolId}/subject/${spiffeId}`;
}

/**
 * The `external_account` credential configuration for a JWT-SVID in a file
 * (Google's file-sourced credential: the file holds the bare token).
 */
export function oidcCredentialConfig(audience: string, tokenPath = GCP_JWT_SVID_PATH) {
  return {
    universe_domain: "googleapis.com",
    type: "external_account",
    audience,
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    token_url: "https://sts.googleapis.com/v1/token",
    credential_source: { file: tokenPath, format: { type: "text" } },
  };
}

/**
 * The `external_account` credential configuration for an X509-SVID (mTLS to Google's STS): the
 * certificate source reads Google's certificate configuration from the workload's read-only
 * ConfigMap directory, and the trust chain (SPIRE's intermediates after the leaf) from the SVID
 * file in the helper's `cert_dir`. Node.js needs google-auth-library ≥ 10.2 for this source.
 */
export function x509CredentialConfig(audience: string, certDir: string = SVID_DIR) {
  return {
    universe_domain: "googleapis.com",
    type: "external_account",
    audience,
    subject_token_type: "urn:ietf:params:oauth:token-type:mtls",
    token_url: "https://sts.mtls.googleapis.com/v1/token",
    credential_source: {
      certificate: {
        certificate_config_location: GCP_CERTIFICATE_CONFIG_PATH,
        trust_chain_path: inDir(certDir, SVID_CERT_FILE),
      },
    },
  };
}

/** Google's certificate configuration that the X.509 credential source points at. */
export function x509CertificateConfig(certDir: string = SVID_DIR) {
  return {
    cert_configs: {
      workload: {
        cert_path: inDir(certDir, SVID_CERT_FILE),
        key_path: inDir(certDir, SVID_KEY_FILE),
      },
    },
  };
}

/** One workload's grants. */
export interface GcpGrantArgs {
  /** Workload name (used in resource names). */
  workload: string;
  /** The SPIFFE ID, which becomes `google.subject`. */
  spiffeId: string;
  /** Project roles to grant. */
  roles: { role: string; project: string }[];
}

/** Arguments of {@link GcpFederation}. */
export interface GcpFederationArgs extends GcpPoolSettings {
  /**
   * Protect this component's anchors (the pool and its providers) so that the engine refuses to delete or replace
   * them (`anchors.protect`). Default: true.
   */
  protectAnchors?: boolean;
  /** The OIDC issuer URL. */
  issuerUrl: string;
  /** The trust domain; the attribute condition admits only its SPIFFE IDs. */
  trustDomain: string;
  /** PEM of the root CA (the X.509 trust anchor). */
  rootCaPem: pulumi.Input<string>;
  /** Per-workload grants. */
  grants: GcpGrantArgs[];
  /**
   * The spiffe-helper's `cert_dir` the credential configurations point into.
   * Default: `/run/spiffe/certs`.
   */
  certDir?: string;
}

/** Per-workload outputs. */
export interface GcpLogin {
  /** The IAM principal the grants were made to. */
  principal: string;
  /** STS audience per provider. */
  audiences: { oidc?: string; x509?: string };
  /** `external_account` credential configurations per provider (JSON strings). */
  credentialConfigs: { oidc?: string; x509?: string };
  /** Google's certificate configuration for the X.509 source (JSON string). */
  certificateConfig?: string;
}

/** Problems with the args, each as a sentence; empty when they are usable. */
export function gcpArgsProblems(args: GcpFederationArgs): string[] {
  const problems: string[] = [];
  for (const [label, id] of [
    ["pool ID", args.poolId],
    ["OIDC provider ID", args.oidcProviderId],
    ["X.509 provider ID", args.x509ProviderId],
  ]) {
    const p = gcpIdProblem(id);
    if (p) problems.push(`${label} ${JSON.stringify(id)} ${p}`);
  }
  if (!/^[0-9]+$/.test(args.projectNumber)) problems.push("project number must be digits");
  if (args.oidc && !args.issuerUrl.startsWith("https://")) {
    problems.push("OIDC issuer must be an https:// URL");
  }
  const tuples = new Set<string>();
  for (const g of args.grants) {
    for (const r of g.roles) {
      const key = JSON.stringify([g.workload, r.project, r.role]);
      if (tuples.has(key)) {
        problems.push(`${g.workload} is granted ${r.role} on project ${r.project} twice`);
      }
      tuples.add(key);
    }
  }
  for (const g of args.grants) {
    if (g.spiffeId.length > GCP_MAX_SUBJECT_LENGTH) {
      problems.push(
        `SPIFFE ID of ${g.workload} is ${g.spiffeId.length} characters; google.subject is limited to ${GCP_MAX_SUBJECT_LENGTH}`,
      );
    }
    for (const r of g.roles) {
      const p = gcpRoleProblem(r.role);
      if (p) problems.push(`role ${JSON.stringify(r.role)} of ${g.workload} ${p}`);
    }
  }
  return problems;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** The logical name of one IAM member and the name it had before names were made injective. */
export interface IamMemberName {
  /** Workload. */
  workload: string;
  /** Project of the grant. */
  project: string;
  /** Role granted. */
  role: string;
  /** `<component>-<workload>-<project>-<role>-<hash>`. */
  name: string;
  /**
   * The earlier, lossy name (`<component>-<workload>-<project>-<role>`), to alias; absent when an
   * earlier grant of the list already claims it, or it is some member's current name.
   */
  alias?: string;
}

/**
 * The IAM member names of a component's grants, in order. Distinct (workload, project, role)
 * tuples get distinct names (the hash covers the exact tuple; the readable part only differs
 * more often). An earlier name shared by several grants can have been deployed for at most one
 * of them (the engine refused the duplicate URN); it goes to the first in config order, which is
 * the deployed one when the new grant was added after it.
 */
export function iamMemberNames(component: string, grants: GcpGrantArgs[]): IamMemberName[] {
  const tuples = grants.flatMap((g) => g.roles.map((r) => ({ workload: g.workload, ...r })));
  const readable = tuples.map(
    (t) => `${component}-${t.workload}-${slug(t.project)}-${slug(t.role)}`,
  );
  const names = tuples.map((t, i) => {
    const exact = JSON.stringify([t.workload, t.project, t.role]);
    return `${readable[i]}-${createHash("sha256").update(exact).digest("hex").slice(0, 8)}`;
  });
  const taken = new Set(names);
  return tuples.map((t, i) => {
    const out: IamMemberName = { ...t, name: names[i] };
    if (!taken.has(readable[i])) {
      out.alias = readable[i];
      taken.add(readable[i]);
    }
    return out;
  });
}

/** The pool, its providers and the IAM grants. */
export class GcpFederation extends pulumi.ComponentResource {
  /** The workload identity pool. */
  readonly pool: gcp.iam.WorkloadIdentityPool;
  /** The OIDC provider, when enabled. */
  readonly oidcProvider?: gcp.iam.WorkloadIdentityPoolProvider;
  /** The X.509 provider, when enabled. */
  readonly x509Provider?: gcp.iam.WorkloadIdentityPoolProvider;
  /** IAM members. */
  readonly members: gcp.projects.IAMMember[];
  /** Login outputs by workload name. */
  readonly logins: Record<string, GcpLogin>;

  constructor(name: string, args: GcpFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    rejectProblems("GcpFederation", name, gcpArgsProblems(args));
    super("spire-federation:federation:Gcp", name, {}, opts);
    const td = args.trustDomain;

    this.pool = new gcp.iam.WorkloadIdentityPool(
      `${name}-pool`,
      {
        project: args.project,
        workloadIdentityPoolId: args.poolId,
        displayName: `SPIFFE ${td}`.slice(0, 32),
        description: `SPIFFE trust domain ${td} (managed by spire-federation)`,
      },
      anchorOptions(this, args.protectAnchors),
    );

    const audiences: { oidc?: string; x509?: string } = {};
    if (args.oidc) {
      audiences.oidc = providerAudience(args.projectNumber, args.poolId, args.oidcProviderId);
      this.oidcProvider = new gcp.iam.WorkloadIdentityPoolProvider(
        `${name}-oidc`,
        {
          project: args.project,
          workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
          workloadIdentityPoolProviderId: args.oidcProviderId,
          displayName: "SPIRE JWT-SVIDs",
          ...oidcProviderAttributes(td),
          oidc: { issuerUri: args.issuerUrl, allowedAudiences: [audiences.oidc] },
        },
        anchorOptions(this, args.protectAnchors),
      );
    }
    if (args.x509) {
      audiences.x509 = providerAudience(args.projectNumber, args.poolId, args.x509ProviderId);
      this.x509Provider = new gcp.iam.WorkloadIdentityPoolProvider(
        `${name}-x509`,
        {
          project: args.project,
          workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
          workloadIdentityPoolProviderId: args.x509ProviderId,
          displayName: "SPIRE X509-SVIDs",
          ...x509ProviderAttributes(td),
          x509: { trustStore: { trustAnchors: [{ pemCertificate: args.rootCaPem }] } },
        },
        anchorOptions(this, args.protectAnchors),
      );
    }

    this.members = [];
    this.logins = {};
    const certDir = args.certDir ?? SVID_DIR;
    const names = iamMemberNames(name, args.grants);
    let next = 0;
    for (const g of args.grants) {
      const member = poolPrincipal(args.projectNumber, args.poolId, g.spiffeId);
      for (const r of g.roles) {
        const n = names[next++];
        this.members.push(
          new gcp.projects.IAMMember(
            n.name,
            { project: r.project, role: r.role, member },
            {
              parent: this,
              // The principal names the pool: grant only once the pool exists.
              dependsOn: [this.pool],
              aliases: n.alias === undefined ? [] : [{ name: n.alias }],
            },
          ),
        );
      }
      this.logins[g.workload] = {
        principal: member,
        audiences,
        credentialConfigs: {
          oidc:
            audiences.oidc &&
            JSON.stringify(
              oidcCredentialConfig(audiences.oidc, inDir(certDir, GCP_JWT_SVID_FILE)),
              null,
              2,
            ),
          x509:
            audiences.x509 &&
            JSON.stringify(x509CredentialConfig(audiences.x509, certDir), null, 2),
        },
        certificateConfig:
          audiences.x509 && JSON.stringify(x509CertificateConfig(certDir), null, 2),
      };
    }
    this.registerOutputs({});
  }
}
