/** Shared by the federation components: refuse unusable args before registering anything. */

/** Throws `<Component> <name>: <problem>; <problem>…` when there are problems. */
export function rejectProblems(component: string, name: string, problems: string[]): void {
  if (problems.length > 0) {
    throw new Error(`${component} ${name}: ${problems.join("; ")}`);
  }
}
