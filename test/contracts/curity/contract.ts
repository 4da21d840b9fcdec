/**
 * The carried Curity contract (restconf.json and Curity's own SPIFFE configuration files in
 * workload-identities/) as functions for the test server and the contract test: data paths,
 * JSON members, field validation of entries, and Curity's XML configuration read as YANG JSON
 * (RFC 7951: element names are member names, repeated elements of a leaf-list or list become
 * arrays, an empty leaf is `[null]`).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** A field type in restconf.json: a scalar kind, or a container's fields. */
export type FieldSpec = string | { [field: string]: FieldSpec };

/** One entity of restconf.json. */
export interface EntitySpec {
  path: string;
  member: string;
  key?: string;
  fields: Record<string, FieldSpec>;
  verifierChoice?: string[];
  /** A container's lists: their key and entry fields. */
  items?: Record<string, { key: string; fields: Record<string, FieldSpec> }>;
  mtlsIdentityChoice?: string[];
  action?: string;
}

/** The entities the provider manages or reads. */
export type EntityName =
  | "client"
  | "clientIdMappings"
  | "scopes"
  | "signatureAlgorithms"
  | "clientTrustStore"
  | "serverTrustStore"
  | "httpClient";

/** restconf.json. */
export interface CurityContract {
  base: string;
  mediaType: string;
  entities: Record<EntityName, EntitySpec>;
  actionInput: { fields: Record<string, string> };
  errors: Record<string, { status: number; body?: unknown; contentType?: string }>;
}

const DIR = __dirname;

/** The contract, parsed. */
export const CURITY_CONTRACT = JSON.parse(
  readFileSync(path.join(DIR, "restconf.json"), "utf8"),
) as CurityContract;

/** An XML element. */
export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

/** Parses the small XML configuration files Curity publishes (elements and text only). */
export function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: "#root", children: [], text: "" };
  const stack = [root];
  const re = /<(\/?)([A-Za-z_][\w.:-]*)([^>]*?)(\/?)>|([^<]+)/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      top.text += m[5].trim();
    } else if (m[1] === "/") {
      if (stack.pop()?.name !== m[2]) throw new Error(`unbalanced </${m[2]}>`);
    } else {
      const node: XmlNode = { name: m[2].replace(/^[\w-]+:/, ""), children: [], text: "" };
      top.children.push(node);
      if (m[4] !== "/") stack.push(node);
    }
  }
  return root;
}

/** Reads a carried file of workload-identities/. */
export function carriedXml(file: string): XmlNode {
  return parseXml(readFileSync(path.join(DIR, "workload-identities", file), "utf8"));
}

/** The first element with this name, depth first. */
export function findXml(node: XmlNode, name: string): XmlNode | undefined {
  for (const c of node.children) {
    if (c.name === name) return c;
    const hit = findXml(c, name);
    if (hit) return hit;
  }
  return undefined;
}

/** An element as YANG JSON, typed by the contract's fields. */
export function xmlToJson(
  node: XmlNode,
  fields: Record<string, FieldSpec>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const child of node.children) {
    const spec = fields[child.name];
    if (spec === undefined) throw new Error(`${child.name} is not in the contract`);
    if (typeof spec === "object") {
      out[child.name] = xmlToJson(child, spec);
    } else if (spec === "empty") {
      out[child.name] = [null];
    } else if (spec === "list") {
      const items = (out[child.name] as unknown[] | undefined) ?? [];
      items.push(Object.fromEntries(child.children.map((c) => [c.name, c.text])));
      out[child.name] = items;
    } else if (spec.startsWith("leaf-list") || spec.startsWith("leafref-list")) {
      out[child.name] = [...((out[child.name] as string[] | undefined) ?? []), child.text];
    } else if (spec === "boolean") {
      out[child.name] = child.text === "true";
    } else if (spec.startsWith("uint")) {
      out[child.name] = Number(child.text);
    } else {
      out[child.name] = child.text;
    }
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Why a value does not fit a field type, or undefined. */
function valueProblem(spec: string, v: unknown): string | undefined {
  if (spec === "empty") {
    return Array.isArray(v) && v.length === 1 && v[0] === null ? undefined : "must be [null]";
  }
  if (spec.startsWith("leaf-list") || spec.startsWith("leafref-list")) {
    return Array.isArray(v) && v.every((x) => typeof x === "string")
      ? undefined
      : "must be an array of strings";
  }
  if (spec === "list") return Array.isArray(v) ? undefined : "must be an array";
  if (spec === "boolean") return typeof v === "boolean" ? undefined : "must be true or false";
  if (spec.startsWith("uint")) {
    return Number.isInteger(v) && (v as number) >= 0 ? undefined : "must be a whole number";
  }
  return typeof v === "string" ? undefined : "must be a string";
}

/** Problems of a value against the contract's fields (unknown members, wrong types), by path. */
export function fieldProblems(
  fields: Record<string, FieldSpec>,
  value: unknown,
  at = "",
): string[] {
  if (!isObject(value)) return [`${at || "entry"} must be an object`];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const spec = fields[k];
    const where = at ? `${at}/${k}` : k;
    if (spec === undefined) problems.push(`unknown element: ${where}`);
    else if (typeof spec === "object") problems.push(...fieldProblems(spec, v, where));
    else {
      const p = valueProblem(spec, v);
      if (p) problems.push(`${where} ${p}`);
    }
  }
  return problems;
}

/** Problems of an entry of an entity (fields, and a client's one-of choices). */
export function entryProblems(entity: EntityName, value: unknown): string[] {
  const spec = CURITY_CONTRACT.entities[entity];
  const problems = fieldProblems(spec.fields, value);
  if (problems.length > 0 || !isObject(value)) return problems;
  for (const [list, item] of Object.entries(spec.items ?? {})) {
    for (const [i, entry] of ((value[list] as unknown[] | undefined) ?? []).entries()) {
      problems.push(...fieldProblems(item.fields, entry, `${list}[${i}]`));
      if (isObject(entry) && typeof entry[item.key] !== "string") {
        problems.push(`${list}[${i}]/${item.key} is missing`);
      }
    }
  }
  if (spec.key !== undefined && typeof value[spec.key] !== "string") {
    problems.push(`${spec.key} is missing`);
  }
  if (spec.verifierChoice) {
    const chosen = spec.verifierChoice.filter((k) => value[k] !== undefined);
    if (chosen.length > 1) problems.push(`only one verifier may be set: ${chosen.join(", ")}`);
    const secondary = value["secondary-authentication-method"];
    if (isObject(secondary)) {
      const chosen2 = spec.verifierChoice.filter((k) => secondary[k] !== undefined);
      if (chosen2.length !== 1) {
        problems.push("secondary-authentication-method needs exactly one verifier");
      }
    }
    for (const mtls of ["mutual-tls", "mutual-tls-by-proxy"]) {
      const m = value[mtls];
      if (!isObject(m)) continue;
      const ids = (spec.mtlsIdentityChoice ?? []).filter((k) => m[k] !== undefined);
      if (ids.length > 1) problems.push(`${mtls} takes one client identity: ${ids.join(", ")}`);
    }
  }
  return problems;
}
