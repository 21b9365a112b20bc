// EventBus over @platformatic/kafka (pure JS): the same contract as kafkajs-bus.ts — idempotent producer
// with acks from all in-sync replicas, one micro-batch in flight at a time, partitions chosen as Java
// and kafkajs choose them, consumer groups with per-partition ordering, retries and a dead-letter topic.
import {
  Admin,
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  SASLMechanisms,
  compatibilityPartitioner,
  murmur2,
  stringSerializer,
  type Message,
  type MessagesStream,
} from "@platformatic/kafka";
import { Envelope, Topics, type TopicName } from "@steward/proto";
import type { BusOptions, EventBus, IncomingEvent, OutgoingEvent, Subscription, SubscriptionSpec } from "./event-bus.ts";
import { KafkaUnavailableError } from "./errors.ts";
import { cloudEventHeaders, decodeEnvelope, encodeEnvelope } from "./cloudevents.ts";
import { createPublishQueue, sleep } from "./publish-queue.ts";
import { assertOneHandler, chunks, deliverBatch } from "./batch-delivery.ts";
import { consumeConcurrency, topicSettings, topicsToCreate } from "./topic-settings.ts";
import { busMetrics } from "./bus-metrics.ts";
import { producerSpans, withProcessSpan } from "./trace-context.ts";

interface Pending {
  topic: string;
  key: Buffer | undefined;
  value: Buffer | undefined;
  headers: Record<string, string>;
  partition?: number;
}

type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** A subscription stops fetching while this many records wait for their handler, and resumes at half. */
const MAX_BUFFERED = 2000;
const noopLog = { warn: () => {}, error: () => {}, info: () => {} };
const SASL_MECHANISMS = { plain: SASLMechanisms.PLAIN, "scram-sha-256": SASLMechanisms.SCRAM_SHA_256, "scram-sha-512": SASLMechanisms.SCRAM_SHA_512 } as const;

export function createPlatformaticBus(opts: BusOptions): EventBus {
  const log = opts.log ?? noopLog;
  const prefix = opts.topicPrefix ?? "";
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
  const encoding = opts.encoding ?? "protobuf";
  // Produced and consumed counters only: the consumer lag gauge is read with kafkajs's admin client.
  const metrics = busMetrics(opts.metrics);
  const base = {
    clientId: opts.clientId,
    bootstrapBrokers: opts.brokers,
    ...(opts.ssl ? { tls: opts.ssl } : {}),
    ...(opts.sasl ? { sasl: { ...opts.sasl, mechanism: SASL_MECHANISMS[opts.sasl.mechanism] } } : {}),
    connectTimeout: 3_000,
    timeout: 30_000,
    retries: 10,
    // Exponential backoff, like kafkajs's retry settings: 100 ms doubling up to 2 s.
    retryDelay: (_client: unknown, _op: string, attempt: number) => Math.min(100 * 2 ** Math.max(0, attempt - 1), 2_000),
    autocreateTopics: false,
    // kafkajs's default: the client's 5 s default refreshes metadata inside sends every few seconds, a
    // latency spike on the hot path; errors that mean stale metadata refresh it anyway.
    metadataMaxAge: 300_000,
  };
  const admin = new Admin(base);
  const producer = new Producer<Buffer, Buffer, string, string>({
    ...base,
    idempotent: true,
    acks: ProduceAcks.ALL,
    // murmur2 & 0x7fffffff, the Java client's (and kafkajs's) choice: a ticket's events land on the same
    // partition whichever client produced them.
    partitioner: compatibilityPartitioner,
    serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
  });
  const partitionCounts = new Map<string, number>();
  const subscriptions = new Set<{ stop(): Promise<void> }>();
  let closed = false;

  const topicName = (t: TopicName) => `${prefix}${t}`;
  const logicalTopic = (physical: string) => physical.slice(prefix.length) as TopicName;

  async function partitionCount(topic: string): Promise<number> {
    let count = partitionCounts.get(topic);
    if (count === undefined) {
      const meta = await producer.metadata({ topics: [topic] });
      count = meta.topics.get(topic)?.partitionsCount ?? 0;
      if (count === 0) throw new Error(`topic ${topic} has no partitions`);
      partitionCounts.set(topic, count);
    }
    return count;
  }

  /** Sends a batch and checks that every partition written to was acknowledged; resends any that was not. */
  async function sendVerified(batch: Pending[], deadline: number): Promise<void> {
    let remaining = batch;
    while (remaining.length > 0) {
      if (Date.now() > deadline) throw new Error("publish deadline passed before every partition acknowledged");
      for (const p of remaining) {
        if (p.partition === undefined) {
          const count = await partitionCount(p.topic);
          p.partition = p.key ? (murmur2(p.key) & 0x7fffffff) % count : 0;
        }
      }
      const result = await producer.send({
        messages: remaining.map((p) => ({
          topic: p.topic,
          partition: p.partition as number,
          ...(p.key ? { key: p.key } : {}),
          ...(p.value ? { value: p.value } : {}),
          headers: p.headers,
        })),
      });
      const ok = new Set((result.offsets ?? []).map((o) => `${o.topic}\u0000${o.partition}`));
      const missing = remaining.filter((p) => !ok.has(`${p.topic}\u0000${p.partition}`));
      if (missing.length > 0) log.warn({ missing: missing.length }, "broker acknowledged only part of a batch; sending the rest again");
      remaining = missing;
    }
  }

  const publishQueue = createPublishQueue<Pending>((batch, deadline) => sendVerified(batch, deadline), {
    timeoutMs: publishTimeoutMs,
    onFailure: (err, events) => log.warn({ err, events }, "publish failed"),
  });

  function enqueue(item: Pending): Promise<void> {
    return publishQueue.enqueue([item]);
  }

  function deadLetter(raw: RawMessage, reason: string, err: unknown): Promise<void> {
    return enqueue({
      topic: topicName(Topics.deadLetter),
      key: raw.key ?? undefined,
      value: raw.value ?? undefined,
      headers: {
        "steward-dlq-reason": reason,
        "steward-dlq-error": err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : String(err).slice(0, 500),
        "steward-dlq-source": `${raw.topic}/${raw.partition}/${raw.offset}`,
      },
    });
  }

  /** A record that cannot be handled must not be skipped silently: retry its dead-lettering until it lands. */
  async function deadLetterSurely(raw: RawMessage, reason: string, err: unknown, stopped: () => boolean): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await deadLetter(raw, reason, err);
        return;
      } catch (dlqErr) {
        if (stopped()) throw dlqErr;
        log.error({ err: dlqErr, topic: raw.topic, partition: raw.partition, attempt }, "could not dead-letter an event; retrying");
        await sleep(Math.min(500 * attempt, 5_000));
      }
    }
  }

  /** The record as an event, or undefined once an undecodable record went to the dead letters. */
  async function decodeRecord(raw: RawMessage, stopped: () => boolean): Promise<IncomingEvent | undefined> {
    const headers: Record<string, string> = {};
    for (const [k, v] of raw.headers) headers[k.toString()] = v.toString();
    const offset = raw.offset.toString();
    let envelope: Envelope;
    try {
      if (!raw.value || raw.value.length === 0) throw new Error("empty record value");
      envelope = decodeEnvelope(raw.value, headers);
      if (!envelope.payload) throw new Error("envelope has no payload");
    } catch (err) {
      log.warn({ err, topic: raw.topic, partition: raw.partition, offset }, "undecodable event sent to dead letters");
      await deadLetterSurely(raw, "decode", err, stopped);
      return undefined;
    }
    return { topic: logicalTopic(raw.topic), partition: raw.partition, offset, key: raw.key && raw.key.length > 0 ? raw.key.toString() : null, envelope, headers };
  }

  async function handleOne(handler: (event: IncomingEvent) => Promise<void>, spec: SubscriptionSpec, raw: RawMessage, maxAttempts: number, stopped: () => boolean): Promise<void> {
    const event = await decodeRecord(raw, stopped);
    if (!event) return;
    const { envelope, offset } = event;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await withProcessSpan(event, spec.groupId, () => handler(event));
        return;
      } catch (err) {
        if (attempt >= maxAttempts) {
          log.error({ err, topic: raw.topic, offset, type: envelope.type, ticketId: envelope.ticketId }, "handler failed; event sent to dead letters");
          await deadLetterSurely(raw, "handler", err, stopped);
          return;
        }
        log.warn({ err, attempt, type: envelope.type, ticketId: envelope.ticketId }, "handler failed; retrying");
        // Heartbeats run on their own timer in this client, so a long backoff does not cost the group.
        await sleep(Math.min(100 * 2 ** attempt, 3_000));
      }
    }
  }

  return {
    topicName,

    publish(events) {
      if (closed) return Promise.reject(new KafkaUnavailableError("event bus is closed"));
      const list = Array.isArray(events) ? events : [events];
      if (list.length === 0) return Promise.resolve();
      const traced = producerSpans(list);
      const askedAt = performance.now();
      return Promise.all(
        list.map((e: OutgoingEvent, i) =>
          enqueue({
            topic: topicName(e.topic),
            key: Buffer.from(e.key ?? e.envelope.ticketId),
            value: encodeEnvelope(e.envelope, encoding),
            headers: { ...traced.headers[i], ...cloudEventHeaders(e.envelope, encoding) },
          }),
        ),
      ).then(
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
      const batchHandler = spec.batchHandler;
      const handler = spec.handler as (event: IncomingEvent) => Promise<void>;
      const concurrency = consumeConcurrency(spec, opts.partitions, 3);
      const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
        ...base,
        groupId: spec.groupId,
        sessionTimeout: spec.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        rebalanceTimeout: 20_000,
        // Offsets are committed after the handler, never on fetch: delivery stays at least once.
        autocommit: false,
        // kafkajs's protocol name (the encoding is Kafka's standard one), so instances on either client
        // can share a group, e.g. while a service moves from one client to the other.
        protocols: [{ name: "RoundRobinAssigner", version: 0 }],
      });
      // Records of one partition run one after another (order per key); up to `concurrency` partitions at once.
      const lanes = new Map<string, RawMessage[]>();
      const waiting: string[] = [];
      const running = new Set<string>();
      let buffered = 0;
      let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
      let stopping = false;
      let idle: (() => void) | undefined;

      const schedule = () => {
        while (running.size < concurrency && waiting.length > 0) {
          const lane = waiting.shift() as string;
          running.add(lane);
          void runLane(lane);
        }
        if (running.size === 0 && waiting.length === 0) idle?.();
      };

      const runLane = async (lane: string) => {
        const records = lanes.get(lane) ?? [];
        // One fetched run per turn, then the slot goes to the next waiting partition.
        const turn = records.splice(0, records.length);
        const stopped = () => stopping;
        // Not awaited: the client coalesces commits into one request per partition in flight.
        const commit = (raw: RawMessage) =>
          void raw.commit((err?: Error) => {
            if (err) log.warn({ err, topic: raw.topic, partition: raw.partition }, "offset commit failed; the event may be delivered again");
          });
        if (batchHandler) {
          for (const chunk of chunks(turn)) {
            if (stopping) break;
            metrics.consumed(logicalTopic((chunk[0] as RawMessage).topic), spec.groupId, chunk.length);
            metrics.delivered(
              logicalTopic((chunk[0] as RawMessage).topic),
              spec.groupId,
              chunk.map((m) => Number(m.timestamp)),
            );
            try {
              const items: Array<{ event: IncomingEvent; raw: RawMessage }> = [];
              for (const raw of chunk) {
                const event = await decodeRecord(raw, stopped);
                if (event) items.push({ event, raw });
              }
              // A write-behind handler's batch is committed once written; a failed write hands it over again.
              for (;;) {
                const taken = await deliverBatch(batchHandler, items, {
                  group: spec.groupId,
                  maxAttempts,
                  log,
                  stopped,
                  deadLetter: (item, err) => deadLetterSurely(item.raw, "handler", err, stopped),
                });
                try {
                  await taken?.durable;
                  break;
                } catch (err) {
                  if (stopping) throw err;
                  log.warn({ err, group: spec.groupId, events: items.length }, "a written-behind batch failed to land; handing it over again");
                  await sleep(500);
                }
              }
            } catch {
              break; // only while stopping: the uncommitted records are delivered again after a restart
            }
            commit(chunk[chunk.length - 1] as RawMessage);
          }
        } else {
          for (const raw of turn) {
            if (stopping) break;
            metrics.consumed(logicalTopic(raw.topic), spec.groupId, 1);
            metrics.delivered(logicalTopic(raw.topic), spec.groupId, [Number(raw.timestamp)]);
            try {
              await handleOne(handler, spec, raw, maxAttempts, stopped);
            } catch {
              break; // only while stopping: the uncommitted record is delivered again after a restart
            }
            commit(raw);
          }
        }
        buffered -= turn.length;
        running.delete(lane);
        if (records.length > 0 && !stopping) waiting.push(lane);
        else lanes.delete(lane);
        if (stream?.isPaused() && buffered < MAX_BUFFERED / 2 && !stopping) stream.resume();
        schedule();
      };

      const start = async (): Promise<void> => {
        const s = await consumer.consume({
          topics: spec.topics.map(topicName),
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: (spec.fromBeginning ?? true) ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
          autocommit: false,
        });
        stream = s;
        s.on("data", (raw: RawMessage) => {
          if (stopping) return;
          const lane = `${raw.topic}\u0000${raw.partition}`;
          let records = lanes.get(lane);
          if (!records) {
            records = [];
            lanes.set(lane, records);
          }
          records.push(raw);
          buffered += 1;
          if (!running.has(lane) && !waiting.includes(lane)) waiting.push(lane);
          if (buffered >= MAX_BUFFERED) s.pause();
          schedule();
        });
        s.on("error", (err: Error) => {
          if (stopping) return;
          log.warn({ err, group: spec.groupId }, "consumer stream failed; consuming again");
          setTimeout(() => {
            if (!stopping) start().catch((e: unknown) => log.error({ err: e, group: spec.groupId }, "could not resume consuming"));
          }, 500);
        });
      };

      try {
        await start();
      } catch (err) {
        await consumer.close(true).catch(() => undefined);
        throw err;
      }
      const subscription = {
        async stop() {
          if (stopping) return;
          stopping = true;
          subscriptions.delete(subscription);
          if (running.size > 0) await new Promise<void>((r) => (idle = r));
          await stream?.close().catch(() => undefined);
          await consumer.close(true).catch(() => undefined);
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    async ensureTopics() {
      const missing = topicsToCreate({ prefix, existing: await admin.listTopics(), createTopics: opts.createTopics ?? true });
      if (missing.length === 0) return;
      const cluster = await admin.metadata({ topics: [], forceUpdate: true });
      const settings = topicSettings({
        brokerCount: cluster.brokers.size,
        partitions: opts.partitions,
        replicationFactor: opts.replicationFactor,
        minInsyncReplicas: opts.minInsyncReplicas,
      });
      log.info({ topics: missing, ...settings }, "creating topics");
      try {
        await admin.createTopics({
          topics: missing,
          partitions: settings.partitions,
          replicas: settings.replicationFactor,
          configs: [{ name: "min.insync.replicas", value: String(settings.minInsyncReplicas) }],
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
      // Like kafkajs's waitForLeaders: a publish right after this finds a leader for every partition.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const meta = await admin.metadata({ topics: missing, forceUpdate: true });
        const ready = missing.every((t) => {
          const topic = meta.topics.get(t);
          return topic !== undefined && topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0);
        });
        if (ready) return;
        if (Date.now() > deadline) throw new Error(`topics without leaders after 30 s: ${missing.join(", ")}`);
        await sleep(100);
      }
    },

    async ping() {
      await admin.metadata({ topics: [], forceUpdate: true });
    },

    async close() {
      closed = true;
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      await publishQueue.drained();
      await Promise.allSettled([producer.close(true), admin.close()]);
    },
  };
}
