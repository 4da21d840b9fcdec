/**
 * The anchors' CrossGuard rule: every anchor (see `anchors.ts`) is registered with `protect`, so
 * that the engine refuses to delete or replace it. `@pulumi/policy` 1.21.0 hands each resource's
 * options to a rule as `args.opts` (`PolicyResourceOptions.protect`). Advisory by default (a
 * throwaway stack turns `anchors.protect` off); prod's policy config makes it mandatory.
 */
import { anchorOf } from "./anchors";
import type { Policy, ResourceValidationPolicy } from "./policy-types";

/** The rule's name. */
export const ANCHORS_PROTECTED = "anchors-protected";

/** The anchors' rules. */
export const anchorPolicies: Policy[] = [
  {
    name: ANCHORS_PROTECTED,
    description:
      "Anchors (trust-domain record, root, SPIRE server, Google pool and providers, Entra identities, Vault JWT backend, OpenZiti CA, Curity trust stores) are protected: pulumi up refuses to delete or replace them.",
    enforcementLevel: "advisory",
    severity: "high",
    validateResource: (args, report) => {
      const kind = anchorOf(args.type, args.name);
      if (kind === undefined || args.opts.protect) return;
      report(
        `${args.name} is ${kind.what}, and it is not protected: a routine pulumi up could delete or replace it; keep spire-federation:anchors.protect true (the default), or unprotect on purpose only for a planned migration`,
      );
    },
  } satisfies ResourceValidationPolicy,
];
