// Regenerates management.yml (the subset of the OpenZiti Edge Management API this package uses)
// from the full openziti/edge-api `management.yml`, or client-authenticate.yml (the Edge Client
// API's `/authenticate`, which `verify` drives as a workload) from the full `client.yml`. Not run
// by the tests; run it by hand:
//   node test/contracts/openziti/extract.mjs <path to the full management.yml>
//   node test/contracts/openziti/extract.mjs <path to the full client.yml> client
// The subset keeps the operations listed in OPERATIONS (or CLIENT_OPERATIONS) and every
// definition they reference, transitively, unchanged; `!!float` tags of the source are written as
// plain numbers.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

const OPERATIONS = {
  "/authenticate": ["parameters", "post"],
  "/cas": ["get", "post"],
  "/cas/{id}": ["parameters", "get", "patch", "delete"],
  "/cas/{id}/verify": ["parameters", "post"],
  "/identities": ["get", "post"],
  "/identities/{id}": ["parameters", "get", "patch", "delete"],
  "/external-jwt-signers": ["get", "post"],
  "/external-jwt-signers/{id}": ["parameters", "get", "patch", "delete"],
  "/auth-policies": ["get", "post"],
  "/auth-policies/{id}": ["parameters", "get", "patch", "delete"],
};

const CLIENT_OPERATIONS = { "/authenticate": ["parameters", "post"] };

const client = process.argv[3] === "client";
const [title, file, out] = client
  ? ["Client", "client.yml", "client-authenticate.yml"]
  : ["Management", "management.yml", "management.yml"];
const HEADER = `# OpenZiti Edge ${title} API: the subset spire-federation uses (Swagger 2.0).
# Source: https://github.com/openziti/edge-api, file ${file} at commit 87257de
#   (info.version 0.29.0). Licence: Apache-2.0 (https://www.apache.org/licenses/LICENSE-2.0).
# Extracted unchanged by test/contracts/openziti/extract.mjs: the operations under \`paths\`
# and every definition they reference, transitively; only \`!!float\` tags became plain numbers.
# Do not edit by hand: re-run the script on a newer ${file} instead.
`;

const source = process.argv[2];
if (!source) throw new Error("usage: node extract.mjs <full management.yml | client.yml> [client]");
const spec = parse(readFileSync(source, "utf8").replace(/!!float (-?\d+)/g, "$1"));
const paths = {};
for (const [path, keys] of Object.entries(client ? CLIENT_OPERATIONS : OPERATIONS)) {
  paths[path] = {};
  for (const key of keys) {
    if (spec.paths[path]?.[key] === undefined) throw new Error(`${path} has no ${key}`);
    paths[path][key] = spec.paths[path][key];
  }
}
const used = new Set();
const walk = (v) => {
  if (Array.isArray(v)) return v.forEach(walk);
  if (v === null || typeof v !== "object") return;
  for (const [k, x] of Object.entries(v)) {
    if (k === "$ref") {
      const name = /^#\/definitions\/(.+)$/.exec(x)?.[1];
      if (!name) throw new Error(`unsupported $ref ${x}`);
      if (!used.has(name)) {
        used.add(name);
        walk(spec.definitions[name]);
      }
    } else walk(x);
  }
};
walk(paths);
const subset = {
  swagger: spec.swagger,
  info: spec.info,
  basePath: spec.basePath,
  consumes: spec.consumes,
  produces: spec.produces,
  securityDefinitions: spec.securityDefinitions,
  paths,
  definitions: Object.fromEntries([...used].sort().map((d) => [d, spec.definitions[d]])),
};
writeFileSync(
  fileURLToPath(new URL(out, import.meta.url)),
  HEADER + stringify(subset, { lineWidth: 0 }),
);
