/**
 * Every stack of the repository, planned once and each of its Helm releases rendered once by the
 * real `helm template`; the checks live in the `*.checks.ts` files beside this one, which this
 * file loads so that they share one set of plans and renders (the memo in render.ts is per test
 * file): the spire chart (server, agent, discovery provider, controller manager, CSI driver),
 * cert-manager and spire-crds, and the values keys of every release.
 */
import "./spire.checks";
import "./cert-manager.checks";
import "./values.checks";
