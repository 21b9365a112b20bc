// The events the console's read models are folded from, as plain data: the adapter (projector.ts) maps
// Steward's protobuf envelopes to these, so the folds below know nothing of Kafka or protobuf.

export interface EventMeta {
  eventId: string;
  ticketId: string;
  at: Date;
}

export type TicketEvent = EventMeta &
  (
    | { kind: "received"; channel: string; customerId: string; customerName: string; customerLanguage: string; subject: string; reference: string }
    | { kind: "triaged"; language: string; intent: string; priority: string; group: string; repeatContactCount: number; reasons: string[] }
    | { kind: "queued"; group: string }
    | { kind: "offerMade"; agentId: string; offerId: string; expiresAt: Date | null; why: string }
    | { kind: "offerClosed"; agentId: string; offerId: string; outcome: string }
    | { kind: "assigned"; agentId: string; offerId: string }
    | { kind: "resolved"; agentId: string }
    | { kind: "reopened"; ownerId: string }
    | { kind: "reassigned"; fromAgentId: string; toAgentId: string; supervisorId: string; reason: string }
    | { kind: "slaUpdated"; firstResponseDue: Date | null; nextResponseDue: Date | null; resolutionDue: Date | null; paused: boolean; warnings: string[]; breaches: string[] }
  );

export type AgentEvent =
  | { kind: "profile"; agentId: string; at: Date; name: string; groups: string[]; languages: string[]; capacity: Record<string, number> }
  | { kind: "presence"; agentId: string; at: Date; status: string };
