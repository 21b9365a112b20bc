// The rules check:deploy holds every rendered Deployment to.
import { describe, expect, it } from "vitest";
import { deploymentProblems } from "./check-deploy.ts";

const container = {
  name: "triage",
  readinessProbe: { httpGet: { path: "/health/ready" } },
  livenessProbe: { httpGet: { path: "/health/live" } },
  resources: { requests: { cpu: "250m", memory: "384Mi" }, limits: { memory: "768Mi" } },
  securityContext: { allowPrivilegeEscalation: false },
};
const deployment = (c: object, podSecurity: object = { runAsNonRoot: true, runAsUser: 1000 }) => ({
  kind: "Deployment",
  spec: { template: { spec: { securityContext: podSecurity, containers: [c] } } },
});

describe("deploymentProblems", () => {
  it("accepts probes on the health endpoints, requests and a memory limit, and a non-root pod", () => {
    expect(deploymentProblems(deployment(container))).toEqual([]);
  });

  it("names each missing piece", () => {
    const bare = { name: "triage" };
    expect(deploymentProblems(deployment(bare, {}))).toEqual([
      "container triage: readinessProbe must GET /health/ready",
      "container triage: livenessProbe must GET /health/live",
      "container triage: resources.requests needs cpu and memory",
      "container triage: resources.limits needs memory",
      "container triage: securityContext.runAsNonRoot must be true",
      "container triage: securityContext.allowPrivilegeEscalation must be false",
    ]);
  });

  it("lets the container's security context override the pod's, and refuses uid 0", () => {
    expect(deploymentProblems(deployment({ ...container, securityContext: { ...container.securityContext, runAsNonRoot: false } }))).toEqual([
      "container triage: securityContext.runAsNonRoot must be true",
    ]);
    expect(deploymentProblems(deployment(container, { runAsNonRoot: true, runAsUser: 0 }))).toEqual(["container triage: runAsUser 0 is root"]);
  });
});
