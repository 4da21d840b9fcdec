/**
 * The team side's read of the contract: a `pulumi.StackReference` to the platform stack, every
 * name of `PLATFORM_OUTPUT_NAMES` awaited (plain values, secret or not) before the team stack
 * registers anything else, so that the checks against them run before any team resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_OUTPUT_NAMES } from "./contract";

/** The StackReference's logical name in a team stack. */
export const PLATFORM_REFERENCE_NAME = "platform";

/**
 * Registers the reference to `platform` (`org/project/stack`) and resolves to its outputs of the
 * contract, by name (a missing one is undefined; the parser says which).
 */
export async function readPlatformOutputs(platform: string): Promise<Record<string, unknown>> {
  const ref = new pulumi.StackReference(PLATFORM_REFERENCE_NAME, { name: platform });
  const entries = await Promise.all(
    PLATFORM_OUTPUT_NAMES.map(async (name) => {
      const details = await ref.getOutputDetails(name);
      return [name, details.value ?? details.secretValue] as const;
    }),
  );
  return Object.fromEntries(entries);
}
