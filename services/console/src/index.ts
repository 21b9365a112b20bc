// What other Steward packages may use from the console: its config and entry point (for tests and
// ./steward start), and the pure read-model domain.
export * from "./domain/index.ts";
export { consoleEnv, loadConsoleConfig, type ConsoleConfig } from "./config.ts";
export { startConsole, type RunningConsole } from "./service.ts";
export { CONSUMER_GROUP } from "./projector.ts";
