// Records describe themselves: a consumer that knows only CloudEvents (binary mode over Kafka) and the
// .proto files decodes what Steward produces, in either encoding. It reads records with a plain kafkajs
// consumer and decodes with @bufbuild/protobuf from descriptors parsed out of proto/steward/v1 — none of
// Steward's generated code is involved on the reading side.
import { afterAll, describe, expect, it } from "vitest";
import { Kafka, logLevel } from "kafkajs";
import { create, createFileRegistry, fromBinary, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, file_google_protobuf_timestamp } from "@bufbuild/protobuf/wkt";
import { TicketReceived, Topics } from "@steward/proto";
import { stewardPackageDefinition } from "@steward/proto/grpc-standard";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { createKafkaJsBus } from "./kafkajs-bus.ts";
import { createPlatformaticBus } from "./platformatic-bus.ts";
import { newEnvelope } from "./envelope.ts";
import type { EventBus, IncomingEvent } from "./event-bus.ts";
import type { RecordEncoding } from "./cloudevents.ts";

const t = isolatedEnv("cloudevents");
const buses: EventBus[] = [];
const kafka = new Kafka({ clientId: "ce-reader", brokers: t.brokers, logLevel: logLevel.NOTHING });
afterAll(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
});

/**
 * Every message type by full name, from the .proto sources (proto-loader's FileDescriptorProtos). protobuf.js
 * writes type names relative to their scope, which descriptor.proto allows; @bufbuild/protobuf wants them
 * fully qualified (and json_name set), so they are resolved here by protobuf's scoping rules (innermost scope first).
 */
function registry() {
  const files = (stewardPackageDefinition()["steward.v1.Envelope"] as unknown as { fileDescriptorProtos: Buffer[] }).fileDescriptorProtos
    .map((b) => fromBinary(FileDescriptorProtoSchema, b))
    .filter((f) => !f.name.startsWith("google/protobuf/"));
  const known = new Set<string>(["google.protobuf.Timestamp"]);
  type Msg = (typeof files)[number]["messageType"][number];
  const walk = (scope: string, messages: Msg[], enums: Array<{ name: string }>, visit: (m: Msg, fullName: string) => void) => {
    for (const e of enums) known.add(`${scope}.${e.name}`);
    for (const m of messages) {
      const fullName = `${scope}.${m.name}`;
      known.add(fullName);
      visit(m, fullName);
      walk(fullName, m.nestedType, m.enumType, visit);
    }
  };
  for (const f of files) walk(f.package, f.messageType, f.enumType, () => undefined);
  for (const f of files) {
    walk(f.package, f.messageType, f.enumType, (m, fullName) => {
      for (const field of m.field) {
        // protobuf.js leaves json_name empty; the proto3 JSON name is the field name in lowerCamelCase.
        if (!field.jsonName) field.jsonName = field.name.replace(/_([a-z0-9])/g, (_x, c: string) => c.toUpperCase());
        if (!field.typeName || field.typeName.startsWith(".")) continue;
        const scopes = fullName.split(".").map((_, i, parts) => parts.slice(0, parts.length - i).join("."));
        const resolved = [...scopes, ""].map((sc) => (sc ? `${sc}.${field.typeName}` : field.typeName)).find((n) => known.has(n));
        if (resolved) field.typeName = `.${resolved}`;
      }
    });
  }
  // proto-loader leaves the well-known types out (protobuf.js has them built in); the standard copy stands in.
  return createFileRegistry(create(FileDescriptorSetSchema, { file: [file_google_protobuf_timestamp.proto, ...files] }));
}

interface RawRecord {
  headers: Record<string, string>;
  value: Buffer;
}

async function readAll(topic: string, count: number): Promise<RawRecord[]> {
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  const got: RawRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
      got.push({ headers, value: message.value ?? Buffer.alloc(0) });
    },
  });
  await waitFor(() => got.length >= count, { what: `${count} records on ${topic}`, timeoutMs: 30_000 });
  await consumer.disconnect();
  return got;
}

/** Decodes with nothing but the CloudEvents headers and the descriptors. */
function decodeByHeaders(record: RawRecord): { type: string; envelope: Record<string, unknown> } {
  const reg = registry();
  const schema = record.headers["ce_dataschema"] ?? "";
  const messageName = schema.replace(/^proto:/, "");
  const desc = reg.getMessage(messageName);
  if (!desc) throw new Error(`no message ${messageName}`);
  const message =
    record.headers["content-type"] === "application/json"
      ? fromJson(desc, JSON.parse(record.value.toString("utf8")) as JsonValue, { registry: reg })
      : fromBinary(desc, record.value);
  const type = record.headers["ce_type"] ?? "";
  // ce_type is the payload's message: it must be a known message, and the one the envelope carries.
  expect(reg.getMessage(type)).toBeDefined();
  return { type, envelope: toJson(desc, message, { registry: reg }) as Record<string, unknown> };
}

const producers: Array<[string, RecordEncoding, typeof createKafkaJsBus]> = [
  ["kafkajs", "protobuf", createKafkaJsBus],
  ["kafkajs", "json", createKafkaJsBus],
  ["platformatic", "json", createPlatformaticBus],
];

describe("CloudEvents headers on every record", () => {
  it.each(producers)("%s writing %s: a reader decodes by ce_* headers and descriptors; Steward's consumers read it too", async (client, encoding, createBus) => {
    const prefix = `${t.topicPrefix}${client}-${encoding}.`;
    const bus = createBus({ brokers: t.brokers, clientId: "ce-test", topicPrefix: prefix, encoding });
    buses.push(bus);
    await bus.ensureTopics();
    const envelope = newEnvelope("ticketQueued", "T-ce-1", { group: "billing", priority: 2, reason: "triaged" }, "routing", { occurredAt: new Date("2026-01-02T03:04:05.678Z") });
    const received = newEnvelope(
      "ticketReceived",
      "T-ce-2",
      TicketReceived.fromJSON({
        channel: "CHANNEL_CHAT",
        externalId: "x-1",
        customer: { id: "c-1", name: "Ana" },
        subject: "Invoice",
        body: "hello",
        metadata: { k: "v" },
        messageId: "m-1",
        integrationId: "dev",
      }),
      "intake",
    );
    await bus.publish([
      { topic: Topics.routing, envelope },
      { topic: Topics.routing, envelope: received },
    ]);

    const records = await readAll(`${prefix}${Topics.routing}`, 2);
    const first = records.find((r) => r.headers["ce_id"] === envelope.eventId);
    expect(first?.headers).toMatchObject({
      ce_specversion: "1.0",
      ce_id: envelope.eventId,
      ce_source: "routing",
      ce_type: "steward.v1.TicketQueued",
      ce_time: "2026-01-02T03:04:05.678Z",
      ce_dataschema: "proto:steward.v1.Envelope",
      "content-type": encoding === "json" ? "application/json" : "application/protobuf",
      "steward-type": "ticket.queued",
    });
    const decoded = decodeByHeaders(first as RawRecord);
    expect(decoded.type).toBe("steward.v1.TicketQueued");
    expect(decoded.envelope).toMatchObject({ eventId: envelope.eventId, ticketId: "T-ce-1", producer: "routing", ticketQueued: { group: "billing", reason: "triaged" } });
    const second = decodeByHeaders(records.find((r) => r.headers["ce_id"] === received.eventId) as RawRecord);
    expect(second.type).toBe("steward.v1.TicketReceived");
    expect(second.envelope).toMatchObject({ ticketReceived: { channel: "CHANNEL_CHAT", customer: { id: "c-1", name: "Ana" }, metadata: { k: "v" } } });

    // Steward's own consumers decode by content-type, whichever encoding the producer chose.
    const got: IncomingEvent[] = [];
    const reader = createKafkaJsBus({ brokers: t.brokers, clientId: "ce-consumer", topicPrefix: prefix });
    buses.push(reader);
    await reader.subscribe({ groupId: `${prefix}ce-consumer`, topics: [Topics.routing], handler: async (e) => void got.push(e) });
    await waitFor(() => got.length >= 2, { what: "both events through the EventBus", timeoutMs: 30_000 });
    expect(got.map((e) => e.envelope.eventId).sort()).toEqual([envelope.eventId, received.eventId].sort());
    expect(got.find((e) => e.envelope.eventId === envelope.eventId)?.envelope).toEqual(envelope);
  });
});
