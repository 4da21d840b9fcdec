/**
 * cert-manager v1.19.1 and spire-crds 0.6.0 as the stacks install them, rendered by the real
 * `helm template`; every cert-manager object the package and the spire chart create, validated
 * against the CRDs that cert-manager chart installs; SPIRE's upstream authority wired to the
 * ClusterIssuer the stack names.
 */
import { describe, expect, it } from "vitest";
import { crdObjectValidator } from "../crd";
import { kinds, one, plan, releaseOf, releases, render, STACKS, type K8sObject } from "./render";

/** The cert-manager CRDs of the dev stack's release, by kind. */
async function certManagerCrds(): Promise<Map<string, K8sObject>> {
  const crds = kinds(
    render(releaseOf(await plan("dev"), "cert-manager")),
    "CustomResourceDefinition",
  );
  return new Map(crds.map((c) => [(c as any).spec.names.kind as string, c]));
}

/** Checks objects against the rendered CRD of their kind; returns the problems. */
async function problems(objects: { kind: string; apiVersion: string }[]): Promise<string[]> {
  const crds = await certManagerCrds();
  return objects.flatMap((o) => {
    const crd = crds.get(o.kind);
    if (!crd) return [`${o.kind}: no CRD`];
    const validate = crdObjectValidator(crd, o.apiVersion.split("/")[1]);
    const ok: boolean = validate(o);
    return ok ? [] : [`${o.kind}: ${JSON.stringify(validate.errors)}`];
  });
}

describe("cert-manager, rendered", () => {
  it("stacks that install it get v1.19.1 with its CRDs, in the cert-manager namespace", async () => {
    const installing: string[] = [];
    for (const stack of STACKS) {
      const hits = releases(await plan(stack)).filter((r) => r.chart === "cert-manager");
      if (hits.length === 0) continue;
      installing.push(stack);
      const objects = render(hits[0]);
      const crds = kinds(objects, "CustomResourceDefinition").map(
        (c) => (c as any).spec.names.kind,
      );
      expect(crds.sort()).toEqual([
        "Certificate",
        "CertificateRequest",
        "Challenge",
        "ClusterIssuer",
        "Issuer",
        "Order",
      ]);
      for (const name of ["cert-manager", "cert-manager-webhook", "cert-manager-cainjector"]) {
        const d = one(objects, "Deployment", name) as any;
        expect(d.metadata.namespace).toBe("cert-manager");
        expect(d.spec.template.spec.containers[0].image).toMatch(/:v1\.19\.1$/);
      }
    }
    // prod brings its own cert-manager (certManager.install: false).
    expect(installing).toEqual(["curity", "dev", "east", "edge", "mesh", "west"]);
  });

  it("the package's ClusterIssuer and the spire chart's Issuer and Certificate fit cert-manager's CRDs", async () => {
    const objects: { kind: string; apiVersion: string }[] = [];
    for (const stack of STACKS) {
      const p = await plan(stack);
      for (const r of p.resources) {
        const apiVersion = (r.inputs as { apiVersion?: string }).apiVersion ?? "";
        if (apiVersion.startsWith("cert-manager.io/")) objects.push(r.inputs as any);
      }
      for (const o of render(releaseOf(p, "spire"))) {
        if (o.object.apiVersion.startsWith("cert-manager.io/")) objects.push(o.object);
      }
    }
    expect(objects.map((o) => o.kind).sort()).toEqual([
      "Certificate",
      "Certificate",
      "Certificate",
      "ClusterIssuer",
      "ClusterIssuer",
      "ClusterIssuer",
      "ClusterIssuer",
      "ClusterIssuer",
      "Issuer",
      "Issuer",
      "Issuer",
    ]);
    expect(await problems(objects)).toEqual([]);
    // The check bites: a field cert-manager does not know.
    const bad = { ...objects[0], spec: { ...(objects[0] as any).spec, issuerRefs: {} } };
    expect(await problems([bad])).toHaveLength(1);
  });

  it.each(STACKS)(
    "%s: SPIRE's upstream authority asks the stack's ClusterIssuer, with RBAC for its requests",
    async (stack) => {
      const p = await plan(stack);
      const objects = render(releaseOf(p, "spire"));
      const conf = JSON.parse(
        (one(objects, "ConfigMap", "spire-server") as any).data["server.conf"],
      );
      const ua = conf.plugins.UpstreamAuthority[0]["cert-manager"].plugin_data;
      const created = p.resources.find((r) => (r.inputs as any).kind === "ClusterIssuer");
      if (created) expect(ua.issuer_name).toBe((created.inputs as any).metadata.name);
      else expect(ua.issuer_name).toBe("vault-pki-spiffe");
      const role = one(objects, "Role", "spire-server-cm") as any;
      expect(role.metadata.namespace).toBe(ua.namespace);
      expect(role.rules).toContainEqual(
        expect.objectContaining({
          apiGroups: ["cert-manager.io"],
          resources: expect.arrayContaining(["certificaterequests"]),
          verbs: expect.arrayContaining(["create", "get"]),
        }),
      );
    },
  );

  it.each(STACKS)(
    "%s: spire-crds renders the three CRDs the package's objects use",
    async (stack) => {
      const objects = render(releaseOf(await plan(stack), "spire-crds"));
      expect(objects.map((o) => o.name).sort()).toEqual([
        "clusterfederatedtrustdomains.spire.spiffe.io",
        "clusterspiffeids.spire.spiffe.io",
        "clusterstaticentries.spire.spiffe.io",
      ]);
    },
  );
});
