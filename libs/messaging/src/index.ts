// Steward's messaging interface. Services publish and consume protobuf envelopes through EventBus;
// the Kafka client behind it is a detail (kafkajs or @platformatic/kafka), chosen by createEventBus.
import type { BusOptions, EventBus } from "./event-bus.ts";
import { createKafkaJsBus } from "./kafkajs-bus.ts";
import { createPlatformaticBus } from "./platformatic-bus.ts";

export type { EventBus, IncomingEvent, OutgoingEvent, SubscriptionSpec, Subscription, BusOptions, WrittenBehind } from "./event-bus.ts";
export { createKafkaJsBus } from "./kafkajs-bus.ts";
export { createPlatformaticBus } from "./platformatic-bus.ts";
export { newEnvelope, payloadType, type PayloadCase, type PayloadOf } from "./envelope.ts";
export { KafkaUnavailableError } from "./errors.ts";
export { createKafkaLog, type KafkaLog, type KafkaLogOptions, type LogFollower, type LogRecord, type ReadRecord } from "./kafka-log.ts";
export { recordEncodings, cloudEventHeaders, cloudEventType, decodeEnvelope, encodeEnvelope, type RecordEncoding } from "./cloudevents.ts";

/** The Kafka clients an EventBus can run on; services take theirs from STEWARD_KAFKA_CLIENT. */
export const kafkaClients = ["kafkajs", "platformatic"] as const;
export type KafkaClientName = (typeof kafkaClients)[number];

/** Builds the EventBus over the named client; both pass the same contract tests (event-bus.int.test.ts). */
export function createEventBus(opts: BusOptions & { client: KafkaClientName }): EventBus {
  const { client, ...busOptions } = opts;
  switch (client) {
    case "kafkajs":
      return createKafkaJsBus(busOptions);
    case "platformatic":
      return createPlatformaticBus(busOptions);
    default:
      throw new Error(`unknown Kafka client ${String(client)}; expected one of ${kafkaClients.join(", ")}`);
  }
}
