/**
 * The components, for other Pulumi programs: `import { Spire, CertManager } from "spire-federation"`.
 */
export * from "./cert-manager";
export * from "./config";
export * from "./spiffe-id";
export * from "./spire";
export * from "./stack";
