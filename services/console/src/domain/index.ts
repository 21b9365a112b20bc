// The console's pure read-model decisions: folding events into ticket and agent records, and the
// queues, analytics and visibility computed from them.
export * from "./console-events.ts";
export * from "./ticket-summary.ts";
export * from "./agent-snapshot.ts";
export * from "./queue-snapshot.ts";
export * from "./analytics.ts";
export * from "./ticket-search.ts";
export * from "./ticket-reference.ts";
