// Kafka records that describe themselves: CloudEvents 1.0 binary mode (Kafka protocol binding) headers on
// every record Steward produces, so a consumer that knows only CloudEvents and the .proto files can tell
// what a record is and decode it. The value is a steward.v1.Envelope, protobuf by default or the proto's
// canonical JSON (STEWARD_KAFKA_ENCODING=json); consumers decode by content-type.
import { Envelope } from "@steward/proto";

export const recordEncodings = ["protobuf", "json"] as const;
export type RecordEncoding = (typeof recordEncodings)[number];

export const CONTENT_TYPES: Record<RecordEncoding, string> = { protobuf: "application/protobuf", json: "application/json" };
/** The message every record value is encoded as; ce_type names the payload inside it. */
export const ENVELOPE_MESSAGE = "steward.v1.Envelope";
/** ce_dataschema: a URI naming the proto message of the value (resolved against proto/steward/v1). */
export const ENVELOPE_DATASCHEMA = `proto:${ENVELOPE_MESSAGE}`;

/** "ticketReceived" -> "steward.v1.TicketReceived": the payload's proto message full name. */
export function cloudEventType(envelope: Envelope): string {
  const c = envelope.payload?.$case ?? "unknown";
  return `steward.v1.${c.charAt(0).toUpperCase()}${c.slice(1)}`;
}

/** The CloudEvents attributes as Kafka headers (ce_ prefix), plus the content type and Steward's own type header. */
export function cloudEventHeaders(envelope: Envelope, encoding: RecordEncoding): Record<string, string> {
  return {
    ce_specversion: "1.0",
    ce_id: envelope.eventId,
    ce_source: envelope.producer || "steward",
    ce_type: cloudEventType(envelope),
    ce_time: (envelope.occurredAt ?? new Date()).toISOString(),
    ce_dataschema: ENVELOPE_DATASCHEMA,
    ...(envelope.ticketId ? { ce_subject: envelope.ticketId } : {}),
    "content-type": CONTENT_TYPES[encoding],
    // Kept for consumers written before the CloudEvents headers.
    "steward-type": envelope.type,
  };
}

export function encodeEnvelope(envelope: Envelope, encoding: RecordEncoding): Buffer {
  return encoding === "json" ? Buffer.from(JSON.stringify(Envelope.toJSON(envelope)), "utf8") : Buffer.from(Envelope.encode(envelope).finish());
}

/** Decodes a record value by its content-type header; records without one (written before) are protobuf. */
export function decodeEnvelope(value: Buffer, headers: Readonly<Record<string, string>>): Envelope {
  const contentType = (headers["content-type"] ?? CONTENT_TYPES.protobuf).split(";")[0]?.trim().toLowerCase();
  if (contentType === CONTENT_TYPES.json) return Envelope.fromJSON(JSON.parse(value.toString("utf8")));
  if (contentType === CONTENT_TYPES.protobuf || contentType === "application/x-protobuf") return Envelope.decode(value);
  throw new Error(`unsupported content-type ${contentType ?? ""}`);
}
