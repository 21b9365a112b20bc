// Builds envelopes: every event carries its id, type, ticket id, time, producer and schema version.
import { randomUUID } from "node:crypto";
import type { Envelope } from "@steward/proto";

export const SCHEMA_VERSION = 1;

type Payload = NonNullable<Envelope["payload"]>;
export type PayloadCase = Payload["$case"];
export type PayloadOf<C extends PayloadCase> = Extract<Payload, { $case: C }>["value"];

/** "ticketReceived" -> "ticket.received" */
export function payloadType(c: PayloadCase): string {
  return c.replace(/[A-Z]/g, (m) => `.${m.toLowerCase()}`);
}

export function newEnvelope<C extends PayloadCase>(
  payloadCase: C,
  ticketId: string,
  value: PayloadOf<C>,
  producer: string,
  opts: { eventId?: string; occurredAt?: Date } = {},
): Envelope {
  return {
    eventId: opts.eventId ?? randomUUID(),
    type: payloadType(payloadCase),
    ticketId,
    occurredAt: opts.occurredAt ?? new Date(),
    producer,
    schemaVersion: SCHEMA_VERSION,
    payload: { $case: payloadCase, value } as Payload,
  };
}
