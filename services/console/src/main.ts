// Composition root of the console service.
// Telemetry starts before the service's modules load: the instrumentations patch only modules loaded after them.
import { runService } from "@steward/config/run";
import { startTelemetry } from "@steward/telemetry";

const stopTelemetry = await startTelemetry("console");
const { loadConsoleConfig } = await import("./config.ts");
const { startConsole } = await import("./service.ts");

await runService("console", async () => {
  const running = await startConsole(loadConsoleConfig());
  return { close: () => running.close().finally(stopTelemetry) };
});
