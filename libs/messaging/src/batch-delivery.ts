// How a batch handler's failures are handled, the same for every Kafka client: retry the whole batch,
// then isolate. One poison event must not dead-letter the good events that happened to share its batch,
// and one slow store write must not cost a batch its place in the partition's order.
import type { IncomingEvent, WrittenBehind } from "./event-bus.ts";
import { sleep } from "./publish-queue.ts";
import { withBatchSpans } from "./trace-context.ts";

/** Events handed to one batch handler call at most; a longer fetched run is split into several calls. */
export const MAX_BATCH_EVENTS = 256;

export interface BatchDeliveryHooks<T extends { event: IncomingEvent }> {
  group: string;
  maxAttempts: number;
  /** Sends one event that kept failing alone to the dead-letter topic. */
  deadLetter(item: T, err: unknown): Promise<void>;
  /** Called while waiting between attempts (kafkajs needs heartbeats from the consuming code). */
  onWait?(): Promise<void>;
  /** True once the consumer is stopping: give up retrying and let the batch be delivered again later. */
  stopped?(): boolean;
  log: {
    warn: (obj: object, msg: string) => void;
    error: (obj: object, msg: string) => void;
  };
}

export class DeliveryStoppedError extends Error {
  constructor() {
    super("consumer stopping; the batch will be delivered again");
    this.name = "DeliveryStoppedError";
  }
}

async function backoff(attempt: number, hooks: { onWait?(): Promise<void>; stopped?(): boolean }): Promise<void> {
  if (hooks.stopped?.()) throw new DeliveryStoppedError();
  await sleep(Math.min(100 * 2 ** attempt, 3_000));
  await hooks.onWait?.();
}

export type BatchHandler = (events: IncomingEvent[]) => Promise<void | WrittenBehind>;

// (A promise is returned inside an object: an async function returning it bare would wait for it.)
async function call<T extends { event: IncomingEvent }>(handler: BatchHandler, items: T[], group: string): Promise<WrittenBehind | undefined> {
  const events = items.map((i) => i.event);
  const taken = await withBatchSpans(events, group, () => handler(events));
  if (!taken) return undefined;
  // Observed here so that a rejection nobody has awaited yet is not reported as unhandled.
  taken.durable.catch(() => undefined);
  return taken;
}

/**
 * Runs `handler` over `items` (consecutive events of one partition, in order). Resolves once every event
 * was handled or dead-lettered; the caller then commits past the last one, or, when the handler wrote
 * behind (WrittenBehind), once the returned promise resolves. Throws DeliveryStoppedError only when the
 * consumer stops mid-way (nothing after the failure point may be committed then).
 */
export async function deliverBatch<T extends { event: IncomingEvent }>(handler: BatchHandler, items: T[], hooks: BatchDeliveryHooks<T>): Promise<WrittenBehind | undefined> {
  if (items.length === 0) return undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call(handler, items, hooks.group);
    } catch (err) {
      if (items.length > 1 && attempt >= hooks.maxAttempts) {
        hooks.log.warn({ err, events: items.length, group: hooks.group }, "batch keeps failing; handling its events one by one");
        break;
      }
      if (items.length === 1 && attempt >= hooks.maxAttempts) {
        const e = items[0] as T;
        hooks.log.error(
          {
            err,
            topic: e.event.topic,
            offset: e.event.offset,
            type: e.event.envelope.type,
            ticketId: e.event.envelope.ticketId,
          },
          "handler failed; event sent to dead letters",
        );
        await hooks.deadLetter(e, err);
        return undefined;
      }
      hooks.log.warn({ err, attempt, events: items.length, group: hooks.group }, "batch handler failed; retrying");
      await backoff(attempt, hooks);
    }
  }
  // Isolate: in order, each event alone, so the good ones are handled and only the poison one is dead-lettered.
  const durable: Array<Promise<void>> = [];
  for (const item of items) {
    const d = await deliverBatch(handler, [item], hooks);
    if (d) durable.push(d.durable);
  }
  if (durable.length === 0) return undefined;
  const all = Promise.all(durable).then(() => undefined);
  all.catch(() => undefined);
  return { durable: all };
}

/** Splits a fetched run into handler-sized chunks, in order. */
export function chunks<T>(items: T[], size = MAX_BATCH_EVENTS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A subscription names exactly one of handler / batchHandler. */
export function assertOneHandler(spec: { groupId: string; handler?: unknown; batchHandler?: unknown }): void {
  if ((spec.handler === undefined) === (spec.batchHandler === undefined)) {
    throw new Error(`subscription ${spec.groupId} needs exactly one of handler and batchHandler`);
  }
}
