// A single-partition Kafka topic used as a service's log of record (routing's decisions; ADR 0014): appends
// are acknowledged by every in-sync replica before they resolve, concurrent appends share one request (group
// commit) and keep their order, and a reader can replay the log from any offset to its end. kafkajs only
// consumes through consumer groups, so a replay joins a throwaway group, seeks, and deletes the group after.
// Joining costs seconds on a loaded cluster (6 s measured in the fault campaign), so a standby that will
// need the log's tail at a take-over follows it all along instead (`follow`) and holds its recent records.
import { Kafka, logLevel, type Consumer, type IHeaders, type Producer, type SASLOptions } from "kafkajs";
import { randomBytes } from "node:crypto";
import type { BusOptions } from "./event-bus.ts";
import { topicSettings } from "./topic-settings.ts";
import { busMetrics } from "./bus-metrics.ts";

export interface LogRecord {
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface ReadRecord {
  offset: number;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface KafkaLog {
  /** The physical topic name (with the prefix). */
  readonly topic: string;
  /** Creates the topic when missing: one partition, replication as for the event topics. */
  ensure(): Promise<void>;
  /** Appends in call order; resolves with each record's offset once all in-sync replicas hold it. */
  append(records: readonly LogRecord[]): Promise<number[]>;
  /**
   * Reads every record from `from` (inclusive) to the end as it was when the read started, in order.
   * `first` is the first offset the log still holds: above `from` means retention removed records.
   */
  read(from: number, onRecord: (record: ReadRecord) => void | Promise<void>): Promise<{ first: number; end: number; read: number }>;
  /** The partition's first offset still held and the next offset to be written. */
  offsets(): Promise<{ first: number; end: number }>;
  /**
   * Follows the log from its current end on and holds the records that arrived in the last `holdMs`, so a
   * take-over reads the tail it needs from memory instead of joining a consumer group then.
   */
  follow(opts?: { holdMs?: number }): LogFollower;
  close(): Promise<void>;
}

/** A running tail of the log: records [coveredFrom, position) are held, in order. */
export interface LogFollower {
  /** Lowest offset from which every record up to `position` is held (Infinity until it knows the log's end). */
  readonly coveredFrom: number;
  /** The next offset it will receive. */
  readonly position: number;
  /** Resolves true once every record below `end` has been received, false after `timeoutMs` or a failure. */
  caughtUp(end: number, timeoutMs: number): Promise<boolean>;
  /** The held records from `from` on, in order; undefined when records at or after `from` are no longer (or not yet) held. */
  recordsFrom(from: number): ReadRecord[] | undefined;
  close(): Promise<void>;
}

export interface KafkaLogOptions extends BusOptions {
  /** Logical topic name; the bus's prefix is prepended. */
  name: string;
  /** Milliseconds the log keeps records (retention.ms); -1 keeps them for ever. */
  retentionMs: number;
}

interface Waiting {
  records: readonly LogRecord[];
  resolve: (offsets: number[]) => void;
  reject: (err: unknown) => void;
}

export function createKafkaLog(opts: KafkaLogOptions): KafkaLog {
  const topic = `${opts.topicPrefix ?? ""}${opts.name}`;
  const log = opts.log;
  const kafka = new Kafka({
    clientId: `${opts.clientId}-log`,
    brokers: opts.brokers,
    ...(opts.ssl ? { ssl: opts.ssl } : {}),
    ...(opts.sasl ? { sasl: opts.sasl as SASLOptions } : {}),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 2_000 },
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      const { message, ...extra } = entry.log;
      if (entry.level <= logLevel.ERROR) log?.warn({ kafka: entry.namespace, ...extra }, String(message));
    },
  });
  const admin = kafka.admin();
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const metrics = busMetrics(opts.metrics);
  admin.on(admin.events.REQUEST, (e) => metrics.request("admin", e.payload.apiName));
  producer.on(producer.events.REQUEST, (e) => metrics.request("producer", e.payload.apiName));
  let adminReady: Promise<void> | undefined;
  let producerReady: Promise<void> | undefined;
  const queue: Waiting[] = [];
  let sending = false;
  let closed = false;

  const connectAdmin = () =>
    (adminReady ??= admin.connect().catch((err: unknown) => {
      adminReady = undefined;
      throw err;
    }));
  const connectProducer = () =>
    (producerReady ??= producer.connect().catch((err: unknown) => {
      producerReady = undefined;
      throw err;
    }));

  /** The partition's first and next offsets; retried while a just-created partition has no known leader. */
  async function endOffsets(): Promise<{ first: number; end: number }> {
    await connectAdmin();
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const p0 = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0);
        return { first: Number(p0?.low ?? 0), end: Number(p0?.high ?? 0) };
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  function headersOf(raw: IHeaders | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString("utf8") : String(v);
    return headers;
  }

  function followLog(holdMs: number): LogFollower {
    const groupId = `${opts.topicPrefix ?? ""}log-follow-${randomBytes(6).toString("hex")}`;
    // A short fetch wait: closing waits for the fetch in flight, and a take-over closes it at once.
    const consumer: Consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 500,
      maxBytes: 16 * 1024 * 1024,
      readUncommitted: false,
    });
    consumer.on(consumer.events.REQUEST, (e) => metrics.request("consumer", e.payload.apiName));
    const held: Array<{ record: ReadRecord; at: number }> = [];
    let coveredFrom = Number.POSITIVE_INFINITY;
    let position = -1;
    let failed = false;
    let stopped = false;
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of [...waiters]) w();
    };
    consumer.on(consumer.events.CRASH, (e) => {
      // kafkajs restarts a consumer after a retriable crash (a broker gone): it resumes at the log's end, and a
      // gap shows below as a new coveredFrom. Only a crash it gives up on ends the following.
      if (e.payload.restart) {
        log?.warn({ err: e.payload.error, topic }, "following the log: the consumer restarts");
        return;
      }
      failed = true;
      log?.warn({ err: e.payload.error, topic }, "following the log failed; a take-over reads it instead");
      wake();
    });
    const started = (async () => {
      // Held from here on: every record in [coveredFrom, position) is held, whatever the consumer does.
      const { end } = await endOffsets();
      position = end;
      coveredFrom = end;
      wake();
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          const now = Date.now();
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset < position) continue; // a re-fetch after a seek or rebalance
            if (offset > position) {
              // A gap (the consumer started past `end`): what is held before it is no longer continuous.
              held.length = 0;
              coveredFrom = offset;
            }
            held.push({ record: { offset, key: m.key === null ? null : m.key.toString("utf8"), value: m.value ?? Buffer.alloc(0), headers: headersOf(m.headers) }, at: now });
            position = offset + 1;
          }
          // Offsets a batch spans without records (transaction markers) are received too.
          position = Math.max(position, Number(batch.lastOffset()) + 1);
          let drop = 0;
          while (drop < held.length && (held[drop] as { at: number }).at < now - holdMs) drop++;
          if (drop > 0) {
            held.splice(0, drop);
            coveredFrom = held[0]?.record.offset ?? position;
          }
          if (held.length === 0) coveredFrom = position;
          wake();
          await payload.heartbeat();
        },
      });
      consumer.seek({ topic, partition: 0, offset: String(end) });
    })().catch((err: unknown) => {
      failed = true;
      log?.warn({ err, topic }, "following the log could not start; a take-over reads it instead");
      wake();
    });
    return {
      get coveredFrom() {
        return coveredFrom;
      },
      get position() {
        return position;
      },
      async caughtUp(end, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        while (!failed && !stopped && position < end) {
          const left = deadline - Date.now();
          if (left <= 0) return false;
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            };
            const timer = setTimeout(done, Math.min(left, 200));
            waiters.add(done);
          });
        }
        return !failed && !stopped && position >= end;
      },
      recordsFrom(from) {
        if (failed || from < coveredFrom) return undefined;
        return held.filter((h) => h.record.offset >= from).map((h) => h.record);
      },
      async close() {
        stopped = true;
        wake();
        await started;
        await consumer.disconnect().catch(() => undefined);
        await admin.deleteGroups([groupId]).catch(() => undefined);
      },
    };
  }

  async function pump(): Promise<void> {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, queue.length);
        try {
          await connectProducer();
          const messages = batch.flatMap((w) => w.records.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}), partition: 0 })));
          const meta = await producer.send({ topic, acks: -1, messages });
          let next = Number(meta[0]?.baseOffset ?? NaN);
          if (!Number.isFinite(next)) throw new Error(`the broker did not say where ${topic} stored the records`);
          for (const w of batch) {
            const offsets = w.records.map(() => next++);
            w.resolve(offsets);
          }
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      sending = false;
    }
  }

  return {
    topic,
    async ensure() {
      await connectAdmin();
      const existing = new Set(await admin.listTopics());
      if (existing.has(topic)) return;
      if (opts.createTopics === false) throw new Error(`topic creation is off (KAFKA_CREATE_TOPICS=false) and ${topic} is missing`);
      const { brokers } = await admin.describeCluster();
      const settings = topicSettings({ brokerCount: brokers.length, partitions: 1, replicationFactor: opts.replicationFactor, minInsyncReplicas: opts.minInsyncReplicas });
      try {
        // Not waitForLeaders: kafkajs gives up on a partition the broker does not know yet; endOffsets waits.
        await admin.createTopics({
          waitForLeaders: false,
          topics: [
            {
              topic,
              numPartitions: 1,
              replicationFactor: settings.replicationFactor,
              configEntries: [
                { name: "min.insync.replicas", value: String(settings.minInsyncReplicas) },
                { name: "retention.ms", value: String(opts.retentionMs) },
                { name: "cleanup.policy", value: "delete" },
              ],
            },
          ],
        });
      } catch (err) {
        // Created at the same moment by another instance: fine once it exists (endOffsets below waits for it).
        log?.warn({ err, topic }, "creating the log topic failed; waiting for it to appear");
      }
      await endOffsets(); // the new partition's leader may be known a moment after creation
    },
    append(records) {
      if (closed) return Promise.reject(new Error(`log ${topic} is closed`));
      if (records.length === 0) return Promise.resolve([]);
      const askedAt = performance.now();
      return new Promise<number[]>((resolve, reject) => {
        queue.push({
          records,
          resolve: (offsets) => {
            metrics.publishTook(opts.name, (performance.now() - askedAt) / 1000);
            resolve(offsets);
          },
          reject,
        });
        void pump();
      });
    },
    async read(from, onRecord) {
      const { first, end } = await endOffsets();
      const start = Math.max(from, first);
      if (start >= end) return { first, end, read: 0 };
      const groupId = `${opts.topicPrefix ?? ""}log-replay-${randomBytes(6).toString("hex")}`;
      const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxBytes: 16 * 1024 * 1024, readUncommitted: false });
      consumer.on(consumer.events.REQUEST, (e) => metrics.request("consumer", e.payload.apiName));
      let read = 0;
      const failed: { error: Error | null } = { error: null };
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          let done = false;
          const finish = (err?: unknown) => {
            if (done) return;
            done = true;
            if (err !== undefined) reject(err instanceof Error ? err : new Error("the log reader stopped"));
            else resolve();
          };
          const { CRASH } = consumer.events;
          consumer.on(CRASH, (e) => finish(e.payload.error));
          consumer
            .run({
              autoCommit: false,
              eachBatch: async (payload) => {
                const { batch } = payload;
                for (const m of batch.messages) {
                  if (done) return;
                  const offset = Number(m.offset);
                  if (offset < start) continue;
                  if (offset >= end) return finish();
                  try {
                    await onRecord({ offset, key: m.key === null ? null : m.key.toString("utf8"), value: m.value ?? Buffer.alloc(0), headers: headersOf(m.headers) });
                  } catch (err) {
                    failed.error = err instanceof Error ? err : new Error("a log record could not be handled");
                    return finish(failed.error);
                  }
                  read++;
                  if (offset === end - 1) return finish();
                }
                const last = batch.lastOffset();
                if (Number(last) >= end - 1) return finish();
                await payload.heartbeat();
              },
            })
            .then(() => consumer.seek({ topic, partition: 0, offset: String(start) }))
            .catch(finish);
        });
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await admin.deleteGroups([groupId]).catch(() => undefined);
      }
      if (failed.error !== null) throw failed.error;
      return { first, end, read };
    },
    offsets: endOffsets,
    follow(followOpts) {
      return followLog(followOpts?.holdMs ?? 30_000);
    },
    async close() {
      closed = true;
      while (sending || queue.length > 0) await new Promise((r) => setTimeout(r, 10));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
