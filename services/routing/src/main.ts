// Composition root of the routing service (matching, ownership and the agent gateway).
// Telemetry starts before the service's modules load: the instrumentations (HTTP, gRPC, MongoDB) patch
// only modules loaded after them, hence the dynamic imports.
import { runService } from "@steward/config/run";
import { startTelemetry } from "@steward/telemetry";

const stopTelemetry = await startTelemetry("routing");
const { loadRoutingConfig } = await import("./config.ts");
const { startRouting } = await import("./service.ts");

await runService("routing", async () => {
  const running = await startRouting(loadRoutingConfig());
  // Spans still buffered are sent before the process exits.
  return { close: () => running.close().finally(stopTelemetry) };
});
