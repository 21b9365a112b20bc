// Micro-batching shared by the Kafka client adapters: publishes made in the same tick go out in one
// request, one request at a time, and each publish settles when its batch is acknowledged or failed.
import { KafkaUnavailableError } from "./errors.ts";

const MAX_BATCH = 1000;

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface PublishQueue<T> {
  /** Resolves when the item's batch was acknowledged; rejects with KafkaUnavailableError otherwise. */
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
        const batch = queue.splice(0, MAX_BATCH);
        try {
          await withTimeout(
            send(
              batch.map((w) => w.item),
              Date.now() + opts.timeoutMs,
            ),
            opts.timeoutMs,
          );
          for (const w of batch) w.resolve();
        } catch (err) {
          opts.onFailure?.(err, batch.length);
          const failure = new KafkaUnavailableError("Kafka did not acknowledge the events", { cause: err });
          for (const w of batch) w.reject(failure);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return {
    enqueue(items) {
      if (items.length === 0) return Promise.resolve();
      const settled = items.map((item) => new Promise<void>((resolve, reject) => queue.push({ item, resolve, reject })));
      setImmediate(() => void flush());
      return Promise.all(settled).then(() => undefined);
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
