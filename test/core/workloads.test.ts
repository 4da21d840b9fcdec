/** Workloads and their SPIFFE IDs: exact errors for names, namespaces, paths, labels. */
import { describe } from "vitest";
import { rejectsEach, type Mutate } from "../support/config-problems";

const badConfigs: [string, Mutate, string[]][] = [
  [
    "workload namespace not a DNS label",
    (c) => c.workloads.push({ name: "x", namespace: "Bad_NS", serviceAccount: "x" }),
    ["spire-federation:workloads[2].namespace: must be a DNS-1123 label"],
  ],
  [
    "workload service account not a DNS subdomain",
    (c) => (c.workloads[1].serviceAccount = "Worker SA"),
    ["spire-federation:workloads[1].serviceAccount: must be a DNS-1123 subdomain"],
  ],
  [
    "duplicate workload names",
    (c) => c.workloads.push({ name: "api", namespace: "other", serviceAccount: "api" }),
    ['spire-federation:workloads[2].name: duplicates workloads[0].name "api"'],
  ],
  [
    "duplicate SPIFFE IDs",
    (c) =>
      c.workloads.push({
        name: "api-2",
        namespace: "x",
        serviceAccount: "y",
        spiffeIdPath: "/ns/shop/sa/api",
        podLabels: { app: "api-2" },
      }),
    [
      "spire-federation:workloads[2]: SPIFFE ID spiffe://test.example.com/ns/shop/sa/api duplicates the one of workloads[0]",
    ],
  ],
  [
    "spiffeIdPath with a dot segment",
    (c) => (c.workloads[0].spiffeIdPath = "/workloads/../admin"),
    ["spire-federation:workloads[0].spiffeIdPath: path cannot contain dot segments"],
  ],
  [
    "spiffeIdPath without a leading slash",
    (c) => (c.workloads[0].spiffeIdPath = "workloads/api"),
    ["spire-federation:workloads[0].spiffeIdPath: path must have a leading slash"],
  ],
  [
    "spiffeIdPath with a trailing slash",
    (c) => (c.workloads[0].spiffeIdPath = "/workloads/api/"),
    ["spire-federation:workloads[0].spiffeIdPath: path cannot have a trailing slash"],
  ],
  [
    "spiffeIdPath with percent-encoding",
    (c) => (c.workloads[0].spiffeIdPath = "/workloads/a%2Fb"),
    [
      "spire-federation:workloads[0].spiffeIdPath: path must not contain percent-encoded characters",
    ],
  ],
  [
    "a typo in a workload key",
    (c) => (c.workloads[0].serviceaccount = "api"),
    ["spire-federation:workloads[0].serviceaccount: unknown key"],
  ],
  [
    "an invalid pod label key",
    (c) => (c.workloads[1].podLabels = { "-bad": "x" }),
    ["spire-federation:workloads[1].podLabels.-bad: must be a valid label key"],
  ],
  [
    "workloads not a list",
    (c) => (c.workloads = { api: {} }),
    ["spire-federation:workloads: must be a list of workloads"],
  ],
];

describe("workload config errors", () => {
  rejectsEach(badConfigs);
});
