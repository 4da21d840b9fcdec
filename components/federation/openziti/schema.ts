/**
 * `spire-federation:openziti` and `workloads[i].openziti`: the schemas and OpenZiti's
 * cross-field rules.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { audience, pemAnyCertificate, ruled } from "../../config-fields";
import { adminConnectionFields, type AdminLogin } from "../admin-connection";
import type { CheckContext } from "../contract";
import { zitiNameProblem } from "./provider";
import { OPENZITI_ADMIN_API } from "./rules";

/** Schema of `spire-federation:openziti`. */
export const openzitiBlockSchema = z.strictObject({
  ...adminConnectionFields(OPENZITI_ADMIN_API),
  caName: ruled(zitiNameProblem).optional(),
  x509: z.boolean({ error: "must be true or false" }).optional(),
  jwt: z.boolean({ error: "must be true or false" }).optional(),
  audience: audience.optional(),
  verificationCertPem: pemAnyCertificate.optional(),
});

/** Schema of `workloads[i].openziti`. */
export const openzitiGrantSchema = z.strictObject({
  roleAttributes: z.array(z.string().min(1, { error: "must not be empty" })),
  admin: z.boolean({ error: "must be true or false" }).optional(),
});

/** The parsed `spire-federation:openziti` block. */
export type OpenZitiBlockInput = z.output<typeof openzitiBlockSchema>;
/** A parsed `workloads[i].openziti` grant. */
export type OpenZitiGrantInput = z.output<typeof openzitiGrantSchema>;

/** OpenZiti federation settings, with defaults applied. */
export interface OpenZitiBlock extends AdminLogin {
  /** Controller base URL (no trailing slash). */
  controllerUrl: string;
  /** CA bundle of the controller's certificate, when not publicly trusted. */
  controllerCaPem?: string;
  /** Name of the CA, signer and auth policy. Default: `spire`. */
  caName: string;
  /** The X.509 path: SPIRE's root as a CA. Default: true. */
  x509: boolean;
  /** The JWT path: SPIRE's issuer as an external JWT signer. Default: false. */
  jwt: boolean;
  /** Audience of JWT-SVIDs for OpenZiti. Default: `openziti`. */
  audience: string;
  /** A verification certificate signed by an external root (ca.mode clusterIssuer). */
  verificationCertPem?: string;
}

/** One workload's OpenZiti grant, with defaults applied. */
export interface OpenZitiGrant {
  /** Role attributes of its identity. */
  roleAttributes: string[];
  /** Admin identity. Default: false. */
  admin: boolean;
}

/** OpenZiti's cross-field rules (the password's secrecy is checked by the core, per value). */
export function checkOpenZiti(ctx: CheckContext<OpenZitiBlockInput, OpenZitiGrantInput>): void {
  const b = ctx.block;
  if (b === undefined) return;
  if (b.x509 === false && b.jwt !== true) {
    ctx.report(["openziti"], "enable x509, jwt or both");
  }
  if (b.verificationCertPem !== undefined && ctx.core.caMode === "generated") {
    ctx.report(
      ["openziti", "verificationCertPem"],
      "only for ca.mode clusterIssuer: with a generated root the package signs the verification certificate itself",
    );
  }
}

/** The block with defaults. */
export function openzitiModel(b: OpenZitiBlockInput): OpenZitiBlock {
  return {
    controllerUrl: b.controllerUrl.replace(/\/+$/, ""),
    username: b.username,
    password: pulumi.secret(b.password),
    controllerCaPem: b.controllerCaPem,
    caName: b.caName ?? "spire",
    x509: b.x509 ?? true,
    jwt: b.jwt ?? false,
    audience: b.audience ?? "openziti",
    verificationCertPem: b.verificationCertPem,
  };
}

/** A grant with defaults. */
export function openzitiGrant(g: OpenZitiGrantInput): OpenZitiGrant {
  return { roleAttributes: g.roleAttributes, admin: g.admin ?? false };
}
