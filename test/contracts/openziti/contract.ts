/**
 * The OpenZiti Edge Management API contract, from the carried subset of openziti/edge-api
 * `management.yml` (see README.md beside it): find an operation by method and path, validate a
 * request (query parameters, body) and a response body against the spec's own definitions.
 *
 * Swagger 2.0 schemas become JSON Schema for Ajv: `x-nullable: true` admits `null`, `example` and
 * `x-*` annotations are dropped, and any other keyword this converter does not know fails loudly
 * (so a newer spec cannot slip through half-understood). Formats follow go-openapi's strfmt, which
 * the controller uses: `uri` is anything Go's url.Parse accepts (relative `./cas/x` links
 * included), `url` is not checked, `date-time` is RFC 3339, `uuid` and `int64` as named.
 *
 * Request bodies are validated *closed* (no property the definition does not name), which is
 * stricter than the controller (it ignores unknown fields): an unknown field is always our typo,
 * and the real controller would drop it silently. Responses are validated as the spec says.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { parse } from "yaml";

/** A Swagger 2.0 schema object, loosely typed. */
type SwaggerSchema = Record<string, unknown>;

interface SwaggerParameter {
  name: string;
  in: "path" | "query" | "body" | "header";
  required?: boolean;
  type?: string;
  enum?: string[];
  schema?: SwaggerSchema;
}

interface SwaggerOperation {
  operationId: string;
  consumes?: string[];
  parameters?: SwaggerParameter[];
  responses: Record<string, { schema?: SwaggerSchema }>;
  security?: unknown[];
}

/** One operation of the contract. */
export interface ZitiOperation {
  /** `GET`, `POST`, … */
  method: string;
  /** The path template, e.g. `/cas/{id}/verify`. */
  template: string;
  /** The spec's operationId, e.g. `verifyCa`. */
  operationId: string;
  /** Media types the body may have. */
  consumes: string[];
  /** Whether the operation needs a `zt-session` (every one but `authenticate`). */
  secured: boolean;
  /** The spec's statuses for it, e.g. `["200", "400", "401"]`. */
  statuses: string[];
}

/** A field problem as the controller reports it in `error.cause`. */
export interface ZitiFieldProblem {
  /** The field, e.g. `name` or `primary.cert.allowed`. */
  field: string;
  /** What is wrong. */
  reason: string;
  /** The offending value, as text. */
  value: string;
}

const SPEC_FILE = path.join(__dirname, "management.yml");

/** The carried spec, parsed. */
export const ZITI_SPEC = parse(readFileSync(SPEC_FILE, "utf8")) as {
  basePath: string;
  consumes: string[];
  info: { version: string };
  paths: Record<string, Record<string, unknown>>;
  definitions: Record<string, SwaggerSchema>;
};

const COPIED = new Set([
  "type",
  "required",
  "enum",
  "format",
  "maxLength",
  "minLength",
  "minimum",
  "maximum",
  "minItems",
  "description",
]);

/** A Swagger schema as JSON Schema; `closed` forbids properties the schema does not name. */
export function toJsonSchema(s: SwaggerSchema, closed: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "$ref") out.$ref = v;
    else if (k === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(v as Record<string, SwaggerSchema>).map(([p, x]) => [
          p,
          toJsonSchema(x, closed),
        ]),
      );
    } else if (k === "additionalProperties") {
      out.additionalProperties =
        typeof v === "boolean" ? v : toJsonSchema(v as SwaggerSchema, closed);
    } else if (k === "items") out.items = toJsonSchema(v as SwaggerSchema, closed);
    else if (k === "allOf") {
      out.allOf = (v as SwaggerSchema[]).map((x) => toJsonSchema(x, closed));
    } else if (COPIED.has(k)) out[k] = v;
    else if (k !== "example" && !k.startsWith("x-")) {
      throw new Error(`openziti contract: unsupported schema keyword ${k}`);
    }
  }
  if (closed && out.properties !== undefined && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return s["x-nullable"] === true ? { anyOf: [out, { type: "null" }] } : out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An Ajv holding a spec's `definitions` (default: this contract's) under `id`. */
export function makeAjv(
  id: string,
  closed: boolean,
  definitions: Record<string, SwaggerSchema> = ZITI_SPEC.definitions,
): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  ajv.addFormat("date-time", RFC3339);
  ajv.addFormat("uuid", UUID);
  ajv.addFormat("uri", {
    type: "string",
    validate: (x: string) => URL.canParse(x, "https://controller.invalid/"),
  });
  ajv.addFormat("url", true);
  ajv.addFormat("int64", { type: "number", validate: (x: number) => Number.isInteger(x) });
  ajv.addSchema({
    $id: id,
    definitions: Object.fromEntries(
      Object.entries(definitions).map(([k, v]) => [k, toJsonSchema(v, closed)]),
    ),
  });
  return ajv;
}

const requestAjv = makeAjv("ziti-request", true);
const responseAjv = makeAjv("ziti-response", false);

function compile(ajv: Ajv, id: string, schema: SwaggerSchema): ValidateFunction {
  const ref = schema.$ref;
  if (typeof ref === "string") return ajv.compile({ $ref: `${id}${ref}` });
  return ajv.compile(toJsonSchema(schema, id === "ziti-request"));
}

const METHODS = ["get", "post", "put", "patch", "delete"];

interface Compiled {
  op: ZitiOperation;
  regex: RegExp;
  params: SwaggerParameter[];
  body?: ValidateFunction;
  responses: Record<string, ValidateFunction>;
}

const OPERATIONS: Compiled[] = [];
for (const [template, item] of Object.entries(ZITI_SPEC.paths)) {
  const shared = (item.parameters ?? []) as SwaggerParameter[];
  for (const m of METHODS) {
    const o = item[m] as SwaggerOperation | undefined;
    if (o === undefined) continue;
    const params = [...shared, ...(o.parameters ?? [])];
    const bodyParam = params.find((p) => p.in === "body");
    OPERATIONS.push({
      op: {
        method: m.toUpperCase(),
        template,
        operationId: o.operationId,
        consumes: o.consumes ?? ZITI_SPEC.consumes,
        secured:
          !(Array.isArray(o.security) && o.security.length === 0) && template !== "/authenticate",
        statuses: Object.keys(o.responses),
      },
      regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`),
      params,
      body: bodyParam?.schema && compile(requestAjv, "ziti-request", bodyParam.schema),
      responses: Object.fromEntries(
        Object.entries(o.responses)
          .filter(([, r]) => r.schema !== undefined)
          .map(([status, r]) => [status, compile(responseAjv, "ziti-response", r.schema!)]),
      ),
    });
  }
}

/** Every operation of the carried contract. */
export const ZITI_OPERATIONS: readonly ZitiOperation[] = OPERATIONS.map((c) => c.op);

/** What a path (below the base path) and method match: an operation, or why none does. */
export function findOperation(
  method: string,
  apiPath: string,
): { op: ZitiOperation; pathParams: string[] } | { status: 404 | 405 } {
  const matching = OPERATIONS.filter((c) => c.regex.test(apiPath));
  if (matching.length === 0) return { status: 404 };
  const c = matching.find((x) => x.op.method === method);
  if (!c) return { status: 405 };
  return { op: c.op, pathParams: (c.regex.exec(apiPath) ?? []).slice(1).map(decodeURIComponent) };
}

function compiled(op: ZitiOperation): Compiled {
  const c = OPERATIONS.find((x) => x.op === op);
  if (!c) throw new Error(`openziti contract: unknown operation ${op.operationId}`);
  return c;
}

function fieldOf(e: ErrorObject): string {
  const at = e.instancePath.slice(1).replace(/\//g, ".");
  if (e.keyword === "required") {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return at ? `${at}.${missing}` : missing;
  }
  if (e.keyword === "additionalProperties") {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return at ? `${at}.${extra}` : extra;
  }
  return at || "(root)";
}

function valueAt(body: unknown, instancePath: string): unknown {
  let v = body;
  for (const part of instancePath.split("/").slice(1)) {
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  }
  return v;
}

/** Ajv's errors as the controller's field problems, in go-openapi's wording. */
function problems(errors: ErrorObject[] | null | undefined, body: unknown): ZitiFieldProblem[] {
  // anyOf branches (x-nullable) repeat the real error and add "must be null": keep the first.
  const relevant = (errors ?? []).filter(
    (e) => e.keyword !== "anyOf" && e.schemaPath.indexOf("/anyOf/1") < 0,
  );
  return relevant.map((e) => {
    const field = fieldOf(e);
    const value = valueAt(body, e.instancePath);
    const shown = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
    if (e.keyword === "required")
      return { field, reason: `${field} in body is required`, value: "" };
    if (e.keyword === "additionalProperties")
      return { field, reason: `${field} in body is not a field of this entity`, value: "" };
    if (e.keyword === "type") {
      const t = (e.params as { type: string }).type;
      return {
        field,
        reason: `${field} in body must be of type ${t}: ${JSON.stringify(typeof value)}`,
        value: shown,
      };
    }
    if (e.keyword === "enum") {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      return {
        field,
        reason: `${field} in body should be one of ${JSON.stringify(allowed)}`,
        value: shown,
      };
    }
    return { field, reason: `${field} in body ${e.message ?? "is invalid"}`, value: shown };
  });
}

/** Problems with the query parameters the spec declares (required, type, enum). */
export function queryProblems(op: ZitiOperation, query: URLSearchParams): ZitiFieldProblem[] {
  const out: ZitiFieldProblem[] = [];
  for (const p of compiled(op).params.filter((x) => x.in === "query")) {
    const v = query.get(p.name);
    if (v === null) {
      if (p.required)
        out.push({ field: p.name, reason: `${p.name} in query is required`, value: "" });
    } else if (p.type === "integer" && !/^-?\d+$/.test(v)) {
      out.push({
        field: p.name,
        reason: `${p.name} in query must be of type integer: "string"`,
        value: v,
      });
    } else if (p.enum && !p.enum.includes(v)) {
      out.push({
        field: p.name,
        reason: `${p.name} in query should be one of ${JSON.stringify(p.enum)}`,
        value: v,
      });
    }
  }
  return out;
}

/** Problems with a request body (already parsed for JSON operations, text otherwise). */
export function bodyProblems(op: ZitiOperation, body: unknown): ZitiFieldProblem[] {
  const validate = compiled(op).body;
  if (!validate || validate(body)) return [];
  return problems(validate.errors, body);
}

/**
 * Why a response body does not match the spec's schema for the operation and status (empty
 * when it does). A status the spec does not list for the operation is checked against the
 * spec's error envelope (`apiErrorEnvelope`) and reported as undocumented unless `allowed`.
 */
export function responseProblems(
  op: ZitiOperation,
  status: number,
  body: unknown,
  allowed: readonly string[] = [],
): string[] {
  const c = compiled(op);
  let validate = c.responses[String(status)];
  const out: string[] = [];
  if (!validate) {
    if (!allowed.includes(`${op.method} ${op.template} ${status}`)) {
      out.push(`${op.method} ${op.template}: status ${status} is not in the spec`);
    }
    validate = responseAjv.getSchema("ziti-response#/definitions/apiErrorEnvelope")!;
  }
  if (!validate(body)) {
    for (const e of validate.errors ?? []) {
      out.push(
        `${op.method} ${op.template} ${status}: ${e.instancePath || "(root)"} ${e.message ?? ""}`,
      );
    }
  }
  return out;
}
