// What other Steward packages may use from escalation: the pure SLA domain, the names of the actions
// it publishes, and the service entry point (for end-to-end tests that start it in-process).
export * from "./domain/index.ts";
export { DEFAULT_POLICY_NAME, effectToProto, supervisorOf } from "./sla-events.ts";
export { DEFAULT_POLICY_FILE, escalationEnv, loadEscalationConfig, type EscalationConfig } from "./config.ts";
export { CONSUMER_GROUP, startEscalation, type RunningEscalation } from "./service.ts";
