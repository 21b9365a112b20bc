// Composition root of the escalation service.
// Telemetry starts before the service's modules load: the instrumentations (HTTP, gRPC, MongoDB) patch
// only modules loaded after them, hence the dynamic imports.
import { runService } from "@steward/config/run";
import { startTelemetry } from "@steward/telemetry";

const stopTelemetry = await startTelemetry("escalation");
const { loadEscalationConfig } = await import("./config.ts");
const { startEscalation } = await import("./service.ts");

await runService("escalation", async () => {
  const running = await startEscalation(loadEscalationConfig());
  // Spans still buffered are sent before the process exits.
  return { close: () => running.close().finally(stopTelemetry) };
});
