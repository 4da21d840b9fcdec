/**
 * A dynamic provider as Pulumi ships it: the compiled module (bin/), loaded by Node's own
 * require as Pulumi's runtime loads the program, serialized with Pulumi's closure serializer and
 * loaded back from the file the dynamic provider host would run. Vitest's transformed modules
 * cannot be serialized, hence the compiled one.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/** The serialized provider's text, and the provider loaded back from it. */
export async function shippedProvider(
  compiledModule: string,
  exportName: string,
): Promise<{
  text: string;
  containsSecrets: boolean;
  provider: Required<pulumi.dynamic.ResourceProvider>;
}> {
  const req = createRequire(__filename);
  const compiled = req(path.join(__dirname, "..", "..", "bin", compiledModule)) as Record<
    string,
    pulumi.dynamic.ResourceProvider
  >;
  const pulumiCjs = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const serialized = await pulumiCjs.runtime.serializeFunction(() => compiled[exportName], {
    allowSecrets: true,
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), "shipped-provider-")), "provider.js");
  writeFileSync(file, serialized.text);
  const provider = (createRequire(file)(file) as { handler: () => unknown }).handler();
  return {
    text: serialized.text,
    containsSecrets: serialized.containsSecrets,
    provider: provider as Required<pulumi.dynamic.ResourceProvider>,
  };
}
