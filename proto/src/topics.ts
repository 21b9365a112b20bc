// Kafka topics and the events each carries. Keys are ticket ids (agent ids on the agents topic).
export const Topics = {
  /** External integrations may publish `Submission` envelopes here directly; intake consumes them. */
  submissions: "steward.intake.submissions",
  /** intake -> triage: ticket.received, message.received */
  received: "steward.tickets.received",
  /** triage -> routing, escalation: ticket.triaged */
  triaged: "steward.tickets.triaged",
  /** routing -> everyone: queued, offers, assignment, follow-ups, resolve, reopen, reassign */
  routing: "steward.routing.events",
  /** agent profiles and presence, keyed by agent id */
  agents: "steward.agents.events",
  /** escalation -> routing, intake view: SLA clocks and ladder actions */
  escalation: "steward.escalation.events",
  /** outbound messages to customers and agents (acknowledgements, notices) */
  outbound: "steward.outbound.notifications",
  /** intake's delivery worker -> intake view: each outbound message's delivery status (delivered, retrying, failed) */
  outboundDeliveries: "steward.outbound.deliveries",
  /** outbound notifications no channel integration accepted after the configured attempts */
  outboundDeadLetter: "steward.outbound.deadletter",
  /** audit.recorded: privileged actions and who did them, keyed by the resource's id */
  audit: "steward.audit",
  /** events a consumer could not decode or handle after its retries, with the error in headers */
  deadLetter: "steward.deadletter",
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];
export const allTopics: readonly TopicName[] = Object.values(Topics);
