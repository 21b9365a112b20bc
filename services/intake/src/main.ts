// Composition root of the intake service.
// Telemetry starts before the service's modules load: the instrumentations (HTTP, gRPC, MongoDB) patch
// only modules loaded after them, hence the dynamic imports.
import { runService } from "@steward/config/run";
import { startTelemetry } from "@steward/telemetry";

const stopTelemetry = await startTelemetry("intake");
const { loadIntakeConfig } = await import("./config.ts");
const { startIntake } = await import("./service.ts");

await runService("intake", async () => {
  const running = await startIntake(loadIntakeConfig());
  // Spans still buffered are sent before the process exits.
  return { close: () => running.close().finally(stopTelemetry) };
});
