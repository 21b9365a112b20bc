// Kafka series shared by both clients: records produced and consumed per topic, how long a publish waits
// for its acknowledgement, how old a record is when its handler gets it (the hop's latency, producer to
// handler), and each consumer group's lag per topic and partition (the log end offset minus the group's
// committed offset), computed when Prometheus scrapes so it is as fresh as the scrape and costs nothing
// between scrapes.
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, metricOnce, type Registry } from "@steward/telemetry";
import type { TopicName } from "@steward/proto";
import { withTimeout } from "./publish-queue.ts";

/** What a client reports for one subscribed group and topic: offsets per partition. */
export interface GroupOffsets {
  group: string;
  topic: TopicName;
  /** partition -> { low, high } watermarks */
  ends: Map<number, { low: number; high: number }>;
  /** partition -> committed offset; absent when the group has committed nothing there yet */
  committed: Map<number, number>;
  /** Where the group starts without a commit: the oldest record, or only new ones. */
  fromBeginning: boolean;
}

export interface BusMetrics {
  produced(topic: TopicName, count: number): void;
  consumed(topic: TopicName, group: string, count: number): void;
  /** A publish of records to `topic` was acknowledged `seconds` after it was asked for (queueing and batching included). */
  publishTook(topic: string, seconds: number): void;
  /**
   * Records are handed to a handler: their age is now less their timestamp (the producer's clock at send,
   * so exact when both run on one host, and off by the clocks' skew otherwise).
   */
  delivered(topic: TopicName, group: string, timestampsMs: readonly number[]): void;
  /** One request this client sent to a broker (Produce, Fetch, OffsetCommit, Heartbeat, ...). */
  request(client: "producer" | "consumer" | "admin", api: string): void;
  /** Registers the client's offsets reader for the lag gauge; returns the function that removes it. */
  watchLag(read: () => Promise<GroupOffsets[]>): () => void;
}

const noMetrics: BusMetrics = { produced: () => {}, consumed: () => {}, publishTook: () => {}, delivered: () => {}, request: () => {}, watchLag: () => () => {} };

// The gauge is one per registry, read from every bus registered on it.
const lagReaders = new WeakMap<Registry, Set<() => Promise<GroupOffsets[]>>>();

/** A scrape should not hang on an unreachable broker: past this, the lag series are left out of it. */
const LAG_READ_TIMEOUT_MS = 3_000;

export function lagOf(o: GroupOffsets): Array<{ partition: number; lag: number }> {
  return [...o.ends].map(([partition, { low, high }]) => {
    const committed = o.committed.get(partition);
    const from = committed !== undefined && committed >= 0 ? committed : o.fromBeginning ? low : high;
    return { partition, lag: Math.max(0, high - from) };
  });
}

export function busMetrics(registry: Registry | undefined): BusMetrics {
  if (!registry) return noMetrics;
  const produced = metricOnce(
    registry,
    "steward_kafka_produced_total",
    (registers) => new Counter({ name: "steward_kafka_produced_total", help: "Records acknowledged by Kafka, per topic", labelNames: ["topic"], registers }),
  );
  const consumed = metricOnce(
    registry,
    "steward_kafka_consumed_total",
    (registers) =>
      new Counter({ name: "steward_kafka_consumed_total", help: "Records delivered to handlers, per topic and consumer group", labelNames: ["topic", "group"], registers }),
  );
  // Requests are what a broker and the client's CPU pay for: a record batch fetched, an offset commit,
  // a heartbeat each cost one, whatever the number of records in them.
  const requests = metricOnce(
    registry,
    "steward_kafka_requests_total",
    (registers) =>
      new Counter({
        name: "steward_kafka_requests_total",
        help: "Requests sent to Kafka brokers, per client role and API (kafkajs client)",
        labelNames: ["client", "api"],
        registers,
      }),
  );
  const publishSeconds = metricOnce(
    registry,
    "steward_kafka_publish_duration_seconds",
    (registers) =>
      new Histogram({
        name: "steward_kafka_publish_duration_seconds",
        help: "From a publish asked for to the broker's acknowledgement (acks=all), per topic",
        labelNames: ["topic"],
        buckets: LATENCY_BUCKETS,
        registers,
      }),
  );
  const recordAge = metricOnce(
    registry,
    "steward_kafka_record_age_seconds",
    (registers) =>
      new Histogram({
        name: "steward_kafka_record_age_seconds",
        help: "Age of a record (now less its producer timestamp) when it reaches its handler, per topic and consumer group",
        labelNames: ["topic", "group"],
        buckets: LATENCY_BUCKETS,
        registers,
      }),
  );
  let readers = lagReaders.get(registry);
  if (!readers) {
    const set = new Set<() => Promise<GroupOffsets[]>>();
    readers = set;
    lagReaders.set(registry, set);
    new Gauge({
      name: "steward_kafka_consumer_lag",
      help: "Records not yet consumed by the group: log end offset minus committed offset, per topic and partition",
      labelNames: ["group", "topic", "partition"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const read of set) {
          const groups = await withTimeout(read(), LAG_READ_TIMEOUT_MS).catch(() => []);
          for (const o of groups) for (const { partition, lag } of lagOf(o)) this.set({ group: o.group, topic: o.topic, partition: String(partition) }, lag);
        }
      },
    });
  }
  const watched = readers;
  return {
    produced: (topic, count) => produced.inc({ topic }, count),
    consumed: (topic, group, count) => consumed.inc({ topic, group }, count),
    publishTook: (topic, seconds) => publishSeconds.observe({ topic }, seconds),
    delivered(topic, group, timestampsMs) {
      const now = Date.now();
      for (const ts of timestampsMs) if (Number.isFinite(ts) && ts > 0) recordAge.observe({ topic, group }, Math.max(0, now - ts) / 1000);
    },
    request: (client, api) => requests.inc({ client, api }),
    watchLag(read) {
      watched.add(read);
      return () => watched.delete(read);
    },
  };
}
