// Micro-batching shared by the Kafka client adapters: publishes made in the same tick go out in one
// request, one request at a time, and each publish settles when its batch is acknowledged or failed.
//
// One at a time, always: an idempotent producer numbers each partition's batches, and two sends in flight
// at once can carry the same sequence number, so the broker takes the second for a retry of the first and
// drops it while answering success (kafkajs#1005, platformatic/kafka#326). The fault campaign lost 17
// tickets answered 202 that way (broker and store kills, 2026-12-07) when a send that outlived the publish
// timeout was abandoned and the next batch started beside it. Now a caller is answered at the timeout (its
// publish failed, as far as it knows), but the next batch waits until the abandoned send has settled.
import { KafkaUnavailableError } from "./errors.ts";

const MAX_BATCH = 1000;

interface Waiting<T> {
  item: T;
  /** Answered (acknowledged, failed or timed out): nothing more is said to the caller. */
  settled: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface PublishQueue<T> {
  /**
   * Resolves when the item's batch was acknowledged; rejects with KafkaUnavailableError when it failed or
   * was not acknowledged within the timeout from this call (an item still queued then is never sent).
   */
  enqueue(items: T[]): Promise<void>;
  /** Resolves once no batch is in flight. */
  drained(): Promise<void>;
}

/** `send` gets a batch and a deadline; it must resolve only when every item is durably written. */
export function createPublishQueue<T>(
  send: (batch: T[], deadline: number) => Promise<void>,
  opts: { timeoutMs: number; onFailure?: (err: unknown, size: number) => void },
): PublishQueue<T> {
  const queue: Array<Waiting<T>> = [];
  let flushing = false;

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, MAX_BATCH).filter((w) => !w.settled);
        if (batch.length === 0) continue;
        try {
          // Awaited to the end even when its callers were answered at the timeout: see the file's comment.
          await send(
            batch.map((w) => w.item),
            Date.now() + opts.timeoutMs,
          );
          for (const w of batch) settle(w, null);
        } catch (err) {
          opts.onFailure?.(err, batch.length);
          const failure = new KafkaUnavailableError("Kafka did not acknowledge the events", { cause: err });
          for (const w of batch) settle(w, failure);
        }
      }
    } finally {
      flushing = false;
    }
  }

  function settle(w: Waiting<T>, err: unknown): void {
    if (w.settled) return;
    w.settled = true;
    if (err === null) w.resolve();
    else w.reject(err);
  }

  return {
    enqueue(items) {
      if (items.length === 0) return Promise.resolve();
      const waiting = items.map((item) => {
        let w!: Waiting<T>;
        const settled = new Promise<void>((resolve, reject) => {
          w = { item, settled: false, resolve, reject };
        });
        queue.push(w);
        return { w, settled };
      });
      const timer = setTimeout(() => {
        const late = new KafkaUnavailableError("Kafka did not acknowledge the events", { cause: new Error(`timed out after ${opts.timeoutMs} ms`) });
        const open = waiting.filter(({ w }) => !w.settled);
        if (open.length > 0) opts.onFailure?.(late.cause, open.length);
        for (const { w } of open) settle(w, late);
      }, opts.timeoutMs);
      setImmediate(() => void flush());
      return Promise.all(waiting.map((x) => x.settled))
        .finally(() => clearTimeout(timer))
        .then(() => undefined);
    },
    async drained() {
      while (flushing) await sleep(10);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
