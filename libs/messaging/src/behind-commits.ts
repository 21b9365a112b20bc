// Commits for write-behind batch handlers (WrittenBehind in event-bus.ts). Such a handler answers as soon
// as it has a batch in memory, so the consumer fetches on while earlier batches still wait for their
// write. A partition's offset may then move past a batch only once its write landed and every earlier
// batch of the partition had too; a failed write sends the partition back to that batch's first event.
// Batches taken before a rebalance or a rewind are never noted: the consumer reads them again from the
// committed offset, and handlers are idempotent per event.

export interface BehindCommitsOptions {
  /** The partition may move past `offset` (the bus's offset committer notes it). */
  handled(topic: string, partition: number, offset: string): void;
  /** A batch's write failed: read the partition again from `offset`. */
  rewind(topic: string, partition: number, offset: string, err: unknown): void;
}

/** Taken when a batch starts: which reading of its partition it belongs to. */
export interface BatchTicket {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number;
  readonly generation: number;
}

export interface BehindCommits {
  /** Call before handing a batch over; pass the ticket to `add`. */
  begin(topic: string, partition: number): BatchTicket;
  /** The batch `first..last` was handled; `durable` when it was written behind. */
  add(ticket: BatchTicket, first: string, last: string, durable: Promise<void> | undefined): void;
  /** The group gave this member a new assignment: the consumer reads again from committed offsets. */
  assigned(): void;
  /** Resolves once every batch added so far landed or failed. */
  settled(): Promise<void>;
}

interface Lane {
  tail: Promise<void>;
  /** Bumped by a rewind: batches of an earlier reading are not noted. */
  epoch: number;
  /** Batches added and not yet settled. */
  open: number;
}

export function createBehindCommits(opts: BehindCommitsOptions): BehindCommits {
  const lanes = new Map<string, Lane>();
  let generation = 0;
  const laneOf = (topic: string, partition: number): Lane => {
    const k = `${topic}\u0000${partition}`;
    let lane = lanes.get(k);
    if (!lane) {
      lane = { tail: Promise.resolve(), epoch: 0, open: 0 };
      lanes.set(k, lane);
    }
    return lane;
  };

  return {
    begin(topic, partition) {
      return { topic, partition, epoch: laneOf(topic, partition).epoch, generation };
    },
    add(ticket, first, last, durable) {
      const { topic, partition } = ticket;
      const lane = laneOf(topic, partition);
      const current = () => lane.epoch === ticket.epoch && generation === ticket.generation;
      if (durable === undefined && lane.open === 0) {
        if (current()) opts.handled(topic, partition, last);
        return;
      }
      lane.open += 1;
      lane.tail = lane.tail.then(async () => {
        let failure: { err: unknown } | undefined;
        try {
          await durable;
        } catch (err) {
          failure = { err };
        }
        lane.open -= 1;
        if (!current()) return;
        if (failure === undefined) {
          opts.handled(topic, partition, last);
          return;
        }
        lane.epoch += 1;
        opts.rewind(topic, partition, first, failure.err);
      });
    },
    assigned() {
      generation += 1;
    },
    async settled() {
      await Promise.all([...lanes.values()].map((l) => l.tail));
    },
  };
}
