/**
 * The public API, for other Pulumi programs: `import { Spire, CertManager, VaultFederation } from
 * "spire-federation"`. Every component, its args and the rules they enforce; the config parser
 * and the relying-party registry for programs that compose their own stack.
 */
export * from "./cert-manager";
export * from "./config";
export * from "./config-fields";
export * from "./duration";
export * from "./model";
export * from "./anchor-guard";
export * from "./anchors";
export * from "./nodes/index";
export * from "./platform/index";
export * from "./spire-federation/index";
export * from "./spiffe-id";
export * from "./spire";
export * from "./stack";
export * from "./federation/args";
export * from "./federation/contract";
export * from "./federation/paths";
export * from "./federation/registry";
export * from "./federation/aws/index";
export * from "./federation/azure/index";
export * from "./federation/curity/index";
export * from "./federation/gcp/index";
export * from "./federation/istio/index";
export * from "./federation/openziti/index";
export * from "./federation/vault/index";
export * from "./workload/index";
