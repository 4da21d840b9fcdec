/** Validators compiled from CRD schemas carried in test/contracts. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { ROOT } from "./helpers";

/**
 * Compiles one version of a CRD's openAPIV3Schema (file under test/contracts, YAML that may start
 * with comments and `---`), rejecting unknown fields as the API server would prune them.
 */
export function crdValidator(file: string, version: string) {
  return crdObjectValidator(
    parse(readFileSync(path.join(ROOT, "test", "contracts", file), "utf8")),
    version,
  );
}

/** The same for a CRD already parsed (e.g. one a chart renders). */
export function crdObjectValidator(crd: any, version: string) {
  const strict = (s: any): any => {
    if (Array.isArray(s)) return s.map(strict);
    if (s && typeof s === "object") {
      const out: any = {};
      for (const [k, v] of Object.entries(s)) {
        if (!k.startsWith("x-kubernetes-")) out[k] = strict(v);
      }
      if (out.type === "object" && out.properties && out.additionalProperties === undefined) {
        out.additionalProperties = false;
      }
      return out;
    }
    return s;
  };
  const schema = strict(
    crd.spec.versions.find((v: any) => v.name === version).schema.openAPIV3Schema,
  );
  schema.properties.metadata = { type: "object" };
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}
