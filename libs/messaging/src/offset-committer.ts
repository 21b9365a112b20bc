// Consumer offsets committed in batches (issue 12: "offsets are committed in batches"). kafkajs commits
// after every fetched batch, and at Steward's rates a batch is mostly one record: routing sent 8.75
// OffsetCommit requests per ticket, as many as its Fetch and Produce requests together. Here a
// subscription notes the next offset of every handled record and one request commits all of them every
// interval, when the group rebalances (while its generation still accepts commits), and when it stops.
// Delivery stays at least once: only handled records are noted, and a crash re-delivers at most one
// interval's worth, which the handlers already take (they are idempotent by event id).

export interface OffsetCommit {
  topic: string;
  partition: number;
  /** The next offset to read: the handled record's offset + 1. */
  offset: string;
}

export interface OffsetCommitterOptions {
  /** Sends one commit request for all of these. */
  commit: (offsets: OffsetCommit[]) => Promise<void>;
  intervalMs: number;
  onError?: (err: unknown, offsets: OffsetCommit[]) => void;
}

export interface OffsetCommitter {
  /** A record was handled (or sent to dead letters): its partition may move past it. */
  handled(topic: string, partition: number, offset: string): void;
  /** The group gave this member a new assignment: forget what belongs to partitions it no longer has. */
  assigned(assignment: Record<string, number[]>): void;
  /** Commits what is noted now; resolves when the request is answered (failures go to onError). */
  flush(): Promise<void>;
  /** Stops the timer, then commits what is left. */
  close(): Promise<void>;
  /** Offsets noted and not yet committed, for tests and diagnostics. */
  pending(): OffsetCommit[];
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export function createOffsetCommitter(opts: OffsetCommitterOptions): OffsetCommitter {
  const noted = new Map<string, OffsetCommit>();
  let inFlight: Promise<void> = Promise.resolve();
  let closed = false;

  const flush = (): Promise<void> => {
    // One commit at a time, in order: a slow request must not be overtaken by an older set of offsets.
    inFlight = inFlight.then(async () => {
      if (noted.size === 0) return;
      const batch = [...noted.values()];
      try {
        await opts.commit(batch);
        // Forget only what this request carried: a record handled meanwhile stays noted.
        for (const c of batch) if (noted.get(key(c.topic, c.partition)) === c) noted.delete(key(c.topic, c.partition));
      } catch (err) {
        opts.onError?.(err, batch);
      }
    });
    return inFlight;
  };

  const timer = setInterval(() => void flush(), opts.intervalMs);
  timer.unref();

  return {
    handled(topic, partition, offset) {
      const next = (BigInt(offset) + 1n).toString();
      const k = key(topic, partition);
      const prev = noted.get(k);
      // Records of one partition are handled in order; a repeat of an older one never moves it back.
      if (prev && BigInt(prev.offset) >= BigInt(next)) return;
      noted.set(k, { topic, partition, offset: next });
    },
    assigned(assignment) {
      for (const [k, c] of noted) if (!(assignment[c.topic] ?? []).includes(c.partition)) noted.delete(k);
    },
    flush,
    async close() {
      if (closed) return inFlight;
      closed = true;
      clearInterval(timer);
      await flush();
    },
    pending: () => [...noted.values()],
  };
}
