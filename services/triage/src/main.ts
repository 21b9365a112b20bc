// Composition root of the triage service.
// Telemetry starts before the service's modules load: the instrumentations (HTTP, gRPC, MongoDB) patch
// only modules loaded after them, hence the dynamic imports.
import { runService } from "@steward/config/run";
import { startTelemetry } from "@steward/telemetry";

const stopTelemetry = await startTelemetry("triage");
const { loadTriageConfig } = await import("./config.ts");
const { startTriage } = await import("./service.ts");

await runService("triage", async () => {
  const running = await startTriage(loadTriageConfig());
  // Spans still buffered are sent before the process exits.
  return { close: () => running.close().finally(stopTelemetry) };
});
