/**
 * The config keys of this folder, which the core's schema hooks in (`../core/schema.ts`):
 * `spire-federation:platform` (a team stack names its platform stack) and
 * `spire-federation:teamStacks` (the platform lists the namespaces each team stack may use).
 */
import { z } from "zod";
import { dnsLabel } from "../config-fields";
import { STACK_NAME, STACK_SHORT_NAME } from "./rules";

/** Schema of `spire-federation:platform`: the platform stack, `org/project/stack`. */
export const platformRefSchema = z
  .string({ error: "must be org/project/stack" })
  .regex(STACK_NAME, {
    error: "must be the platform stack's fully qualified name, org/project/stack",
  });

/** Schema of `spire-federation:teamStacks` (on the platform): namespaces by team stack name. */
export const teamStacksSchema = z.record(
  z.string().regex(STACK_SHORT_NAME, { error: "must be a stack name ([A-Za-z0-9_.-]+)" }),
  z.strictObject({
    namespaces: z.array(dnsLabel).min(1, { error: "must list at least one namespace" }),
  }),
);

/** The core's hook: the top-level keys of this folder, each with its schema. */
export const platformCoreSchemas = {
  platform: platformRefSchema,
  teamStacks: teamStacksSchema,
} as const;
