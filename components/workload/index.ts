/**
 * The workload's half: each workload's spiffe-helper configuration, relying-party files and pod
 * patch, made from the relying parties' contributions (`RelyingParty.workloadFiles`).
 */
export * from "./component";
export * from "./helper-conf";
export * from "./pod-patch";
export * from "./rules";
