/**
 * Team stacks on a platform stack: the platform's output contract, the team stack's config rules
 * and component, and the policies (the public API of `components/platform/`).
 */
export * from "./component";
export * from "./contract";
export * from "./policies";
