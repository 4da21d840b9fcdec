/** hcl-parser 0.1.1 (a GopherJS build of hashicorp/hcl v1, the parser SPIRE uses) ships no types. */
declare module "hcl-parser" {
  /** Parses HCL v1: `[value, null]`, or `[null, error]` with the error's position. */
  export function parse(src: string): [unknown, unknown];
}
