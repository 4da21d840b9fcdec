/**
 * The platform side of the contract: every output in `PLATFORM_OUTPUT_NAMES`, typed by it, from
 * the platform stack's model and its component. program.ts spreads them into the stack outputs.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { StackModel } from "../config";
import type { PlatformOutputInputs, PlatformShared } from "./contract";
import { platformReservedNamespaces, platformReservedPaths } from "./rules";

/** What of the platform's component the contract reads (the rest comes from the model). */
export interface PlatformParts {
  /** The trust domain. */
  trustDomain: pulumi.Output<string>;
  /** The OIDC issuer URL. */
  issuerUrl: pulumi.Output<string>;
  /** Where the JWT signing keys are published. */
  jwksUri: pulumi.Output<string>;
  /** PEM of the root CA certificate. */
  rootCaPem: pulumi.Output<string>;
  /** Class of SPIRE's controller manager. */
  controllerClassName: string;
}

/** The shared relying-party setup team grants attach to, from the platform's model. */
export function platformShared(m: StackModel): PlatformShared {
  return {
    ...(m.vault === undefined
      ? {}
      : {
          vault: {
            path: m.vault.path,
            ...(m.vault.address === undefined ? {} : { address: m.vault.address }),
          },
        }),
    ...(m.gcp === undefined
      ? {}
      : {
          gcp: { project: m.gcp.project, projectNumber: m.gcp.projectNumber, poolId: m.gcp.poolId },
        }),
    ...(m.openziti === undefined
      ? {}
      : { openziti: { controllerUrl: m.openziti.controllerUrl, caName: m.openziti.caName } }),
  };
}

/** Every output of the contract, in its order. */
export function platformOutputs(m: StackModel, parts: PlatformParts): PlatformOutputInputs {
  return {
    trustDomain: parts.trustDomain,
    issuerUrl: parts.issuerUrl,
    jwksUri: parts.jwksUri,
    rootCaPem: parts.rootCaPem,
    controllerClassName: parts.controllerClassName,
    clusterName: m.clusterName,
    teamStacks: m.teamStacks,
    reservedNamespaces: platformReservedNamespaces(m.certManager.namespace, m.workloads),
    reservedSpiffeIdPaths: platformReservedPaths(m.workloads),
    shared: platformShared(m),
  };
}
