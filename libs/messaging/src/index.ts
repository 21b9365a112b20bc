// Steward's messaging interface. Services publish and consume protobuf envelopes through EventBus;
// the Kafka client behind it is a detail (kafkajs today), so it can be swapped and measured.
export type { EventBus, IncomingEvent, OutgoingEvent, SubscriptionSpec, Subscription, BusOptions } from "./event-bus.ts";
export { createKafkaJsBus } from "./kafkajs-bus.ts";
export { newEnvelope, payloadType, type PayloadCase, type PayloadOf } from "./envelope.ts";
export { KafkaUnavailableError } from "./errors.ts";
