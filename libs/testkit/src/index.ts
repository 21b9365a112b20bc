// Helpers for Steward's integration tests: isolation by unique names, polling, and SSE reading.
export { provisionInfra, type ProvisionedInfra } from "./provision.ts";
export { uniqueName, waitFor } from "./helpers.ts";
export { readSse, type SseEvent, type SseReader } from "./sse.ts";
export { isolatedEnv, type TestEnv } from "./system.ts";
export { generalistAgent, type AgentProfileInput } from "./agents.ts";
export { bearer, testAuthEnv, testToken, tokens } from "./auth.ts";
