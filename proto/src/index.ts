// Steward's contracts: generated protobuf types (src/gen, never edited by hand) and topic names.
export * from "./gen/steward/v1/common.ts";
export * from "./gen/steward/v1/intake.ts";
export * from "./gen/steward/v1/events.ts";
export * from "./gen/steward/v1/agent_desk.ts";
export { Timestamp } from "./gen/google/protobuf/timestamp.ts";
export * from "./topics.ts";
export * from "./names.ts";
export * from "./escalation-effects.ts";
