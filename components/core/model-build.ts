/**
 * The core's model from its validated fields: every default of the core applied in one place
 * (chart versions, SPIRE TTLs, the datastore port, the CA subject, the workload files). The
 * relying parties' blocks and grants are added by the composition in `../config.ts`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { CoreModel, NodeModel, WorkloadFilesModel } from "../model";
import { exposureModel } from "../nodes/schema";
import { DEFAULT_CERT_DIR, DEFAULT_HELPER_IMAGE } from "../workload/rules";
import { type coreSchemas, DEFAULT_VERSIONS, oidcTlsModel, type oidcTlsSchema } from "./schema";

type Valid<K extends keyof typeof coreSchemas> = z.output<(typeof coreSchemas)[K]>;

/** The core's fields, each valid. */
export interface CoreFields {
  /** `trustDomain`. */
  trustDomain: string;
  /** `clusterName`. */
  clusterName: string;
  /** `oidc`. */
  oidc: Valid<"oidc">;
  /** `oidc.tls`. */
  tls: z.output<typeof oidcTlsSchema>;
  /** `ca`. */
  ca: Valid<"ca">;
  /** `certManager` (empty when absent). */
  certManager: Valid<"certManager">;
  /** `spire` (empty when absent). */
  spire: Valid<"spire">;
  /** `workloadFiles` (empty when absent). */
  workloadFiles: Valid<"workloadFiles">;
  /** The parsed `nodes`. */
  nodes: NodeModel[];
  /** `teamStacks` (empty when absent). */
  teamStacks: Valid<"teamStacks">;
}

/** `workloadFiles` with its defaults (a team stack's too). */
export function workloadFilesModel(workloadFiles: Valid<"workloadFiles">): WorkloadFilesModel {
  return {
    enabled: workloadFiles.enabled ?? true,
    helperImage: workloadFiles.helperImage ?? DEFAULT_HELPER_IMAGE,
    certDir: workloadFiles.certDir ?? DEFAULT_CERT_DIR,
  };
}

/** The core model (without its workloads), with the core's defaults applied. */
export function coreModel(fields: CoreFields): Omit<CoreModel, "workloads" | "anchors"> {
  const { trustDomain, clusterName, oidc, ca, certManager, spire, workloadFiles, nodes } = fields;
  const issuerUrl = `https://${oidc.host}`;
  const datastore = spire.datastore ?? { type: "sqlite3" as const };
  return {
    trustDomain,
    clusterName,
    oidc: {
      host: oidc.host,
      ingressClassName: oidc.ingressClassName,
      ingressControllerType: oidc.ingressControllerType ?? "ingress-nginx",
      tls: oidcTlsModel(fields.tls),
      issuerUrl,
      jwksUri: `${issuerUrl}/keys`,
    },
    ca:
      ca.mode === "generated"
        ? {
            mode: "generated",
            keyAlgorithm: ca.keyAlgorithm ?? "ECDSA-P256",
            validityHours: ca.validityHours ?? 87600,
          }
        : ca,
    certManager: {
      install: certManager.install ?? true,
      chartVersion: certManager.chartVersion ?? DEFAULT_VERSIONS.certManager,
      namespace: certManager.namespace ?? "cert-manager",
    },
    spire: {
      chartVersion: spire.chartVersion ?? DEFAULT_VERSIONS.spire,
      crdsChartVersion: spire.crdsChartVersion ?? DEFAULT_VERSIONS.spireCrds,
      caKeyType: spire.caKeyType ?? "rsa-2048",
      caTTL: spire.caTTL ?? "24h",
      x509SvidTTL: spire.x509SvidTTL ?? "4h",
      jwtSvidTTL: spire.jwtSvidTTL ?? "1h",
      replicas: spire.replicas ?? 1,
      datastore:
        datastore.type === "sqlite3"
          ? { type: "sqlite3" }
          : {
              type: datastore.type,
              host: datastore.host,
              port: datastore.port ?? (datastore.type === "postgres" ? 5432 : 3306),
              database: datastore.database,
              username: datastore.username,
              password: pulumi.secret(datastore.password),
            },
      caSubject: {
        country: spire.caSubject?.country ?? "US",
        organization: spire.caSubject?.organization ?? "SPIFFE",
        commonName: spire.caSubject?.commonName ?? trustDomain,
      },
      server: { exposure: exposureModel(spire.server?.exposure) },
    },
    workloadFiles: workloadFilesModel(workloadFiles),
    nodes,
    teamStacks: fields.teamStacks,
  };
}
