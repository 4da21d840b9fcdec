import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { helm, kubectl } from "./support/k8s-tools";

const home = path.join(os.tmpdir(), `sf-k8s-tools-${process.pid}`);

describe("the real helm and kubectl from the npm registry", () => {
  it("helm is v4 and kubectl is 1.35", () => {
    expect(helm(["version", "--short"], { home })).toMatch(/^v4\./);
    expect(kubectl(["version", "--client", "-o", "json"], { home })).toMatch(
      /"gitVersion": "v1\.35\./,
    );
  });

  it("kubectl patch --local merges a strategic patch offline", () => {
    const deployment = JSON.stringify({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "a" },
      spec: {
        selector: { matchLabels: { app: "a" } },
        template: {
          metadata: { labels: { app: "a" } },
          spec: { containers: [{ name: "app", image: "x", env: [{ name: "A", value: "1" }] }] },
        },
      },
    });
    const out = JSON.parse(
      kubectl(
        [
          "patch",
          "--local",
          "-f",
          "-",
          "--type",
          "strategic",
          "-p",
          JSON.stringify({
            spec: {
              template: {
                spec: { containers: [{ name: "app", env: [{ name: "B", value: "2" }] }] },
              },
            },
          }),
          "-o",
          "json",
        ],
        { home, input: deployment },
      ),
    ) as { spec: { template: { spec: { containers: { env: unknown[] }[] } } } };
    expect(out.spec.template.spec.containers[0].env).toEqual([
      { name: "B", value: "2" },
      { name: "A", value: "1" },
    ]);
  });
});
