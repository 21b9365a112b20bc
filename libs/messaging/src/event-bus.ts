// The messaging contract every Steward service codes against.
import type { Envelope, TopicName } from "@steward/proto";
import type { RecordEncoding } from "./cloudevents.ts";
import type { Registry } from "@steward/telemetry";

export interface OutgoingEvent {
  topic: TopicName;
  envelope: Envelope;
  /** Defaults to the envelope's ticket id, so one ticket's events stay in order on one partition. */
  key?: string;
}

export interface IncomingEvent {
  topic: TopicName;
  partition: number;
  offset: string;
  key: string | null;
  envelope: Envelope;
  headers: Record<string, string>;
}

export interface SubscriptionSpec {
  groupId: string;
  topics: TopicName[];
  /** Where a new group starts. Default true: a new consumer group never misses earlier events. */
  fromBeginning?: boolean;
  /** Handlers must be idempotent: delivery is at least once. A throw retries, then dead-letters. */
  handler?: (event: IncomingEvent) => Promise<void>;
  /**
   * Instead of `handler` (exactly one of the two): consecutive events of one partition, in offset order
   * (at most 256 per call), so a consumer can coalesce one ticket's events into one store write. Offsets
   * are committed after it resolves. A throw retries the whole batch; after maxAttempts each event is
   * retried alone and only one that keeps failing is dead-lettered: it must be idempotent per event.
   */
  batchHandler?: (events: IncomingEvent[]) => Promise<void | WrittenBehind>;
  /**
   * Partitions whose batches are handled at the same time (default 3). "all": every partition of every
   * subscribed topic at once (topics × the partitions the bus creates topics with), for a handler that
   * gathers batches into one write-behind flush: with fewer, a fetch's batches wait for the flush in
   * turns, and the view lags by one flush interval per turn.
   */
  partitionsConsumedConcurrently?: number | "all";
  /** Attempts before an event that keeps failing goes to the dead-letter topic. Default 5. */
  maxAttempts?: number;
  /**
   * How long the group waits for a member's heartbeat before it hands its partitions to others (ms,
   * default 10 000; Kafka refuses less than its group.min.session.timeout.ms, 6 000 by default). A
   * member that joins while a killed one is still counted waits this long for its partitions.
   */
  sessionTimeoutMs?: number;
  /**
   * How long the broker may hold a fetch to gather records (ms; default: it answers as soon as one
   * record is there). For a write-behind handler that need not see each record the moment it lands:
   * fewer, fuller fetches. Only kafkajs honours it, up to MAX_GATHER_MS: a stop, a rebalance and the
   * heartbeat all wait for the fetch in flight.
   */
  gatherMs?: number;
}

/**
 * What a write-behind batch handler may resolve with: it took the events into memory and writes them
 * later. The consumer fetches on at once, and moves the partition's committed offset past these events
 * only once `durable` resolved (and every earlier batch of the partition had). If `durable` rejects, the
 * partition is read again from this batch's first event. Delivery stays at least once; the handler
 * keeps its own buffer bounded (it resolves later when full). The platformatic client waits for
 * `durable` before its next batch of the partition.
 */
export interface WrittenBehind {
  durable: Promise<void>;
}

export interface Subscription {
  stop(): Promise<void>;
}

export interface EventBus {
  /** Resolves once every event is durably in Kafka (acks from all in-sync replicas). */
  publish(events: OutgoingEvent | OutgoingEvent[]): Promise<void>;
  subscribe(spec: SubscriptionSpec): Promise<Subscription>;
  /** Creates Steward's topics when missing (safe to call from every service at start). */
  ensureTopics(): Promise<void>;
  /** A real metadata call to the cluster; throws when it cannot be reached. */
  ping(): Promise<void>;
  /** The physical topic name (with the configured prefix). */
  topicName(topic: TopicName): string;
  close(): Promise<void>;
}

export interface BusOptions {
  brokers: string[];
  clientId: string;
  /** Prepended to every topic name: lets test runs and systems share one cluster. */
  topicPrefix?: string;
  /** For topics ensureTopics creates; see topic-settings.ts for the defaults. */
  partitions?: number;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  /** false: ensureTopics never creates a topic and fails when one is missing. Default true. */
  createTopics?: boolean;
  /** TLS to the brokers: `{}` trusts the system CAs; `ca` adds PEM certificates. */
  ssl?: { ca?: string[] };
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
  /** Milliseconds a publish waits for the broker before failing with KafkaUnavailableError. */
  publishTimeoutMs?: number;
  /** How record values are written (default protobuf); consumers read either, by the content-type header. */
  encoding?: RecordEncoding;
  /** The service's metrics registry: produced/consumed counters and consumer lag go there. */
  metrics?: Registry;
  /**
   * kafkajs client: how often a subscription commits the offsets of the records it has handled, in one
   * request (default 1,000 ms; also at a rebalance and when it stops). A crash re-delivers at most this much.
   */
  commitIntervalMs?: number;
  log?: { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void };
}
