/** SPIRE-to-SPIRE federation: the public API of this folder. */
export * from "./component";
export * from "./policies";
export * from "./rules";
export * from "./schema";
export * from "./values";
