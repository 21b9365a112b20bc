// EventBus over kafkajs: idempotent producer with acks from all in-sync replicas, micro-batched sends
// (kafkajs does not batch by itself), consumer groups with retries and a dead-letter topic.
import {
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type EachMessagePayload,
  type KafkaMessage,
  type Producer,
  type Message,
  type PartitionMetadata,
  type SASLOptions,
} from "kafkajs";
import { Topics, allTopics, type TopicName } from "@steward/proto";
import type { BusOptions, EventBus, IncomingEvent, OutgoingEvent, Subscription, SubscriptionSpec } from "./event-bus.ts";
import { KafkaUnavailableError } from "./errors.ts";
import { cloudEventHeaders, decodeEnvelope, encodeEnvelope } from "./cloudevents.ts";
import { createPublishQueue, sleep } from "./publish-queue.ts";
import { assertOneHandler, chunks, deliverBatch } from "./batch-delivery.ts";
import { consumeConcurrency, topicSettings, topicsToCreate } from "./topic-settings.ts";
import { busMetrics, type GroupOffsets } from "./bus-metrics.ts";
import { createOffsetCommitter } from "./offset-committer.ts";
import { createBehindCommits } from "./behind-commits.ts";
import { producerSpans, withProcessSpan } from "./trace-context.ts";

/** How often a subscription commits the offsets of the records it handled (BusOptions.commitIntervalMs). */
export const DEFAULT_COMMIT_INTERVAL_MS = 1_000;
/**
 * The longest the broker may hold a fetch for a subscription's gatherMs: the consumer's stop (and its
 * heartbeat) waits for the fetch in flight, so a gather of a minute would make a stop take a minute.
 */
export const MAX_GATHER_MS = 500;

type RawRecord = { topic: string; partition: number; offset: string; key: Buffer | null; value: Buffer | null };

interface Pending {
  topic: string;
  message: Message;
}
const noopLog = { warn: () => {}, error: () => {}, info: () => {} };

let timeoutWarningMuted = false;

/**
 * kafkajs 2.2.4 arms timers with negative delays on Node 24 (kafkajs#1751); Node clamps them to 1 ms and
 * prints a TimeoutNegativeWarning per process, which says nothing to an operator. Only that warning
 * type is dropped.
 */
function muteKafkaJsTimeoutWarning(): void {
  if (timeoutWarningMuted) return;
  timeoutWarningMuted = true;
  const emit = process.emitWarning.bind(process) as (warning: string | Error, ...rest: unknown[]) => void;
  process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
    const type = warning instanceof Error ? warning.name : typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === "TimeoutNegativeWarning") return;
    emit(warning, ...rest);
  };
}

export function createKafkaJsBus(opts: BusOptions): EventBus {
  muteKafkaJsTimeoutWarning();
  const log = opts.log ?? noopLog;
  const prefix = opts.topicPrefix ?? "";
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
  const encoding = opts.encoding ?? "protobuf";
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    ...(opts.ssl ? { ssl: opts.ssl } : {}),
    // kafkajs types each mechanism separately; ours is the same shape with the union in one field.
    ...(opts.sasl ? { sasl: opts.sasl as SASLOptions } : {}),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      const { message, ...extra } = entry.log;
      // kafkajs reports transient broker states (coordinator loading, leader moving) as errors and
      // retries them itself; they are warnings for us. Failures that reach callers are logged there.
      if (entry.level <= logLevel.ERROR) log.warn({ kafka: entry.namespace, ...extra }, String(message));
    },
  });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // A leader fail-over takes ~9 s on a 3-node cluster; the default retry budget gives up sooner.
    retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 2_000 },
  });
  const metrics = busMetrics(opts.metrics);
  admin.on(admin.events.REQUEST, (e) => metrics.request("admin", e.payload.apiName));
  producer.on(producer.events.REQUEST, (e) => metrics.request("producer", e.payload.apiName));
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionsOf = new Map<string, PartitionMetadata[]>();
  let producerConnected: Promise<void> | undefined;
  /** Running subscriptions, by their graceful stop. */
  const consumers = new Map<Consumer, () => Promise<void>>();
  let closed = false;
  /** groupId -> what it subscribed to, for the lag gauge */
  const groups = new Map<string, { topics: TopicName[]; fromBeginning: boolean }>();

  const topicName = (t: TopicName) => `${prefix}${t}`;
  const logicalTopic = (physical: string) => physical.slice(prefix.length) as TopicName;

  function connectProducer(): Promise<void> {
    producerConnected ??= producer.connect().catch((err: unknown) => {
      producerConnected = undefined;
      throw err;
    });
    return producerConnected;
  }

  function connectAdmin(): Promise<void> {
    adminConnected ??= admin.connect().catch((err: unknown) => {
      adminConnected = undefined;
      throw err;
    });
    return adminConnected;
  }

  async function partitionsFor(topic: string): Promise<PartitionMetadata[]> {
    let partitions = partitionsOf.get(topic);
    if (!partitions) {
      await connectAdmin();
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      partitions = meta.topics[0]?.partitions ?? [];
      if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions`);
      partitionsOf.set(topic, partitions);
    }
    return partitions;
  }

  /**
   * Sends a batch and checks that every partition written to was acknowledged. kafkajs 2.2.4 can
   * resolve a multi-partition send while silently dropping the part whose leader died mid-request
   * (kafkajs#1303), so partitions are chosen here, explicitly, and any missing one is sent again.
   * A repeat can duplicate a record; consumers are idempotent by event id.
   */
  async function sendVerified(batch: Pending[], deadline: number): Promise<void> {
    let remaining = batch;
    while (remaining.length > 0) {
      if (Date.now() > deadline) throw new Error("publish deadline passed before every partition acknowledged");
      const byTopic = new Map<string, Message[]>();
      for (const p of remaining) {
        if (p.message.partition === undefined) {
          p.message.partition = partitioner({ topic: p.topic, partitionMetadata: await partitionsFor(p.topic), message: p.message });
        }
        const list = byTopic.get(p.topic) ?? [];
        list.push(p.message);
        byTopic.set(p.topic, list);
      }
      await connectProducer();
      const acked = await producer.sendBatch({
        acks: -1,
        timeout: publishTimeoutMs,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      const ok = new Set(acked.filter((m) => m.errorCode === 0).map((m) => `${m.topicName}\u0000${m.partition}`));
      const missing = remaining.filter((p) => !ok.has(`${p.topic}\u0000${p.message.partition}`));
      if (missing.length > 0) log.warn({ missing: missing.length }, "broker acknowledged only part of a batch; sending the rest again");
      remaining = missing;
    }
  }

  const publishQueue = createPublishQueue<Pending>((batch, deadline) => sendVerified(batch, deadline), {
    timeoutMs: publishTimeoutMs,
    onFailure: (err, events) => log.warn({ err, events }, "publish failed"),
  });

  /**
   * Topics another service created a moment ago may not have leaders yet; a consumer or producer that
   * starts then fails with "does not host this topic-partition". Wait until every partition has one.
   */
  async function waitForLeaders(timeoutMs = 30_000): Promise<void> {
    const topics = allTopics.map(topicName);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
      const ready = meta !== undefined && meta.topics.length === topics.length && meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topics have no leaders after ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  /** Watermarks and the groups' committed offsets, read with the admin client when metrics are scraped. */
  async function readOffsets(): Promise<GroupOffsets[]> {
    if (groups.size === 0) return [];
    await connectAdmin();
    const out: GroupOffsets[] = [];
    for (const [group, sub] of groups) {
      const committed = await admin.fetchOffsets({ groupId: group, topics: sub.topics.map(topicName) });
      for (const topic of sub.topics) {
        const ends = await admin.fetchTopicOffsets(topicName(topic));
        const mine = committed.find((c) => c.topic === topicName(topic))?.partitions ?? [];
        out.push({
          group,
          topic,
          fromBeginning: sub.fromBeginning,
          ends: new Map(ends.map((e) => [e.partition, { low: Number(e.low), high: Number(e.high) }])),
          committed: new Map(mine.filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)])),
        });
      }
    }
    return out;
  }
  const unwatchLag = metrics.watchLag(readOffsets);

  /** Through the publish queue like every send: never beside another request of the idempotent producer. */
  async function deadLetter(event: RawRecord, reason: string, err: unknown): Promise<void> {
    await publishQueue.enqueue([
      {
        topic: topicName(Topics.deadLetter),
        message: {
          key: event.key,
          value: event.value,
          headers: {
            "steward-dlq-reason": reason,
            "steward-dlq-error": err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : String(err).slice(0, 500),
            "steward-dlq-source": `${event.topic}/${event.partition}/${event.offset}`,
          },
        },
      },
    ]);
  }

  return {
    topicName,

    publish(events) {
      if (closed) return Promise.reject(new KafkaUnavailableError("event bus is closed"));
      const list = Array.isArray(events) ? events : [events];
      if (list.length === 0) return Promise.resolve();
      const traced = producerSpans(list);
      const askedAt = performance.now();
      const sent = publishQueue.enqueue(
        list.map((e: OutgoingEvent, i) => ({
          topic: topicName(e.topic),
          message: {
            key: e.key ?? e.envelope.ticketId,
            value: encodeEnvelope(e.envelope, encoding),
            headers: { ...traced.headers[i], ...cloudEventHeaders(e.envelope, encoding) },
          },
        })),
      );
      return sent.then(
        () => {
          traced.end();
          const seconds = (performance.now() - askedAt) / 1000;
          for (const e of list) {
            metrics.produced(e.topic, 1);
            metrics.publishTook(e.topic, seconds);
          }
        },
        (err: unknown) => {
          traced.end(err);
          throw err;
        },
      );
    },

    async subscribe(spec: SubscriptionSpec): Promise<Subscription> {
      assertOneHandler(spec);
      const maxAttempts = spec.maxAttempts ?? 5;
      const consumer = kafka.consumer({
        groupId: spec.groupId,
        sessionTimeout: spec.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        rebalanceTimeout: 20_000,
        allowAutoTopicCreation: false,
        retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
        // gatherMs: the broker answers a fetch when it holds a MiB or the time is up, whichever first.
        ...(spec.gatherMs === undefined ? {} : { minBytes: 1 << 20, maxWaitTimeInMs: Math.min(spec.gatherMs, MAX_GATHER_MS) }),
      });
      consumer.on(consumer.events.REQUEST, (e) => metrics.request("consumer", e.payload.apiName));
      // Offsets go in one request per interval (offset-committer.ts), not one per fetched batch.
      const committer = createOffsetCommitter({
        intervalMs: opts.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
        commit: (offsets) => consumer.commitOffsets(offsets),
        onError: (err, offsets) => log.warn({ err, group: spec.groupId, partitions: offsets.length }, "offset commit failed; retried with the next one"),
      });
      // A write-behind handler's batches are committed once durable, in order per partition (behind-commits.ts).
      const behind = createBehindCommits({
        handled: (topic, partition, offset) => committer.handled(topic, partition, offset),
        rewind: (topic, partition, offset, err) => {
          log.warn({ err, group: spec.groupId, topic, partition, offset }, "a written-behind batch failed to land; reading the partition again from it");
          consumer.seek({ topic, partition, offset });
        },
      });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        behind.assigned();
        committer.assigned(e.payload.memberAssignment);
      });
      // While a rebalance is only being prepared, the old generation's commits are still accepted.
      consumer.on(consumer.events.REBALANCING, () => void committer.flush());
      let stopping = false;
      let active = 0;
      const idle: Array<() => void> = [];
      const track = async <T>(work: () => Promise<T>): Promise<T> => {
        active += 1;
        try {
          return await work();
        } finally {
          active -= 1;
          if (active === 0) for (const wake of idle.splice(0)) wake();
        }
      };
      const stopSubscription = async () => {
        // No new records to handlers, the ones in hand finished, their offsets committed, then leave.
        stopping = true;
        try {
          consumer.pause(spec.topics.map((t) => ({ topic: topicName(t) })));
        } catch {
          // Not running yet (closed while subscribing): nothing is in hand.
        }
        if (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
        await behind.settled();
        await committer.close();
        await consumer.disconnect();
      };
      consumers.set(consumer, stopSubscription);
      groups.set(spec.groupId, { topics: spec.topics, fromBeginning: spec.fromBeginning ?? true });
      await consumer.connect();
      await consumer.subscribe({ topics: spec.topics.map(topicName), fromBeginning: spec.fromBeginning ?? true });
      const decode = (topic: string, partition: number, message: KafkaMessage): { raw: RawRecord; event?: IncomingEvent; err?: unknown } => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          const first = Array.isArray(v) ? v[0] : v;
          if (first !== undefined) headers[k] = first.toString();
        }
        const raw = { topic, partition, offset: message.offset, key: message.key, value: message.value };
        try {
          if (!message.value) throw new Error("empty record value");
          const envelope = decodeEnvelope(message.value, headers);
          if (!envelope.payload) throw new Error("envelope has no payload");
          return { raw, event: { topic: logicalTopic(topic), partition, offset: message.offset, key: message.key ? message.key.toString() : null, envelope, headers } };
        } catch (err) {
          return { raw, err };
        }
      };
      const concurrency = consumeConcurrency(spec, opts.partitions, 3);
      const batchHandler = spec.batchHandler;
      if (batchHandler) {
        await consumer.run({
          partitionsConsumedConcurrently: concurrency,
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: (payload) =>
            track(async () => {
              const { batch } = payload;
              for (const chunk of chunks(batch.messages)) {
                if (stopping || !payload.isRunning() || payload.isStale()) return;
                const items: Array<{ event: IncomingEvent; raw: RawRecord }> = [];
                for (const message of chunk) {
                  const d = decode(batch.topic, batch.partition, message);
                  if (d.event) items.push({ event: d.event, raw: d.raw });
                  else {
                    log.warn({ err: d.err, topic: batch.topic, partition: batch.partition, offset: message.offset }, "undecodable event sent to dead letters");
                    await deadLetter(d.raw, "decode", d.err);
                  }
                }
                const ticket = behind.begin(batch.topic, batch.partition);
                metrics.consumed(logicalTopic(batch.topic), spec.groupId, chunk.length);
                metrics.delivered(
                  logicalTopic(batch.topic),
                  spec.groupId,
                  chunk.map((m) => Number(m.timestamp)),
                );
                const taken = await deliverBatch(batchHandler, items, {
                  group: spec.groupId,
                  maxAttempts,
                  log,
                  deadLetter: (item, err) => deadLetter(item.raw, "handler", err),
                  onWait: () => payload.heartbeat(),
                  stopped: () => !payload.isRunning(),
                });
                const first = chunk[0];
                const last = chunk[chunk.length - 1];
                if (first && last) {
                  payload.resolveOffset(last.offset);
                  behind.add(ticket, first.offset, last.offset, taken?.durable);
                }
                await payload.heartbeat();
              }
            }),
        });
      } else {
        const handler = spec.handler as (event: IncomingEvent) => Promise<void>;
        // Handles one record: the handler (retried), or dead letters. Returns once it may be committed.
        const handleOne = async (payload: EachMessagePayload): Promise<void> => {
          const { topic, partition, message } = payload;
          const { raw, event, err: decodeErr } = decode(topic, partition, message);
          metrics.consumed(logicalTopic(topic), spec.groupId, 1);
          metrics.delivered(logicalTopic(topic), spec.groupId, [Number(message.timestamp)]);
          if (!event) {
            log.warn({ err: decodeErr, topic, partition, offset: message.offset }, "undecodable event sent to dead letters");
            await deadLetter(raw, "decode", decodeErr);
            return;
          }
          const envelope = event.envelope;
          for (let attempt = 1; ; attempt += 1) {
            try {
              await withProcessSpan(event, spec.groupId, () => handler(event));
              return;
            } catch (err) {
              if (attempt >= maxAttempts) {
                log.error({ err, topic, offset: message.offset, type: envelope.type, ticketId: envelope.ticketId }, "handler failed; event sent to dead letters");
                await deadLetter(raw, "handler", err);
                return;
              }
              log.warn({ err, attempt, type: envelope.type, ticketId: envelope.ticketId }, "handler failed; retrying");
              await sleep(Math.min(100 * 2 ** attempt, 3_000));
              await payload.heartbeat();
            }
          }
        };
        await consumer.run({
          partitionsConsumedConcurrently: concurrency,
          autoCommit: false,
          eachMessage: (payload) =>
            track(async () => {
              // Stopping: left unhandled and uncommitted, for whoever holds the partition next.
              if (stopping) return;
              await handleOne(payload);
              committer.handled(payload.topic, payload.partition, payload.message.offset);
            }),
        });
      }
      return {
        async stop() {
          consumers.delete(consumer);
          groups.delete(spec.groupId);
          await stopSubscription();
        },
      };
    },

    async ensureTopics() {
      await connectAdmin();
      const missing = topicsToCreate({ prefix, existing: await admin.listTopics(), createTopics: opts.createTopics ?? true });
      if (missing.length === 0) {
        await waitForLeaders();
        return;
      }
      const { brokers } = await admin.describeCluster();
      const settings = topicSettings({
        brokerCount: brokers.length,
        partitions: opts.partitions,
        replicationFactor: opts.replicationFactor,
        minInsyncReplicas: opts.minInsyncReplicas,
      });
      log.info({ topics: missing, ...settings }, "creating topics");
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: settings.partitions,
            replicationFactor: settings.replicationFactor,
            configEntries: [{ name: "min.insync.replicas", value: String(settings.minInsyncReplicas) }],
          })),
        });
      } catch (err) {
        // Another service (or an operator) created some at the same moment: fine, as long as they all
        // exist now. On a multi-broker cluster the broker asked may learn of new topics a moment late.
        const deadline = Date.now() + 10_000;
        for (;;) {
          const now = new Set(await admin.listTopics());
          if (missing.every((t) => now.has(t))) break;
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await waitForLeaders();
    },

    async ping() {
      await connectAdmin();
      await admin.describeCluster();
    },

    async close() {
      closed = true;
      unwatchLag();
      groups.clear();
      await Promise.allSettled([...consumers.values()].map((stop) => stop()));
      consumers.clear();
      await publishQueue.drained();
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}
