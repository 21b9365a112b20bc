// Gathers each ticket's SLA inputs for a short while before applying them, across partitions and
// topics: a ticket's received, triaged, assigned and resolved events come on three topics within
// moments of each other, and applied together they cost one store write and one view instead of one
// each. Every event's promise settles once it is applied (or failed), so the consumer commits its
// offset only then. (The kafkajs consumer fetches again only when its batches are handled, so events
// coalesce within one fetch, across topics and partitions; the wait spaces the fetches out.)
import type { InputEvent } from "./sla-ledger.ts";

export interface InputCoalescerDeps {
  /** How long the first input of a ticket waits for others before they are applied together, ms. */
  lingerMs: number;
  /** Applies one ticket's inputs, in arrival order, with one write. */
  apply: (ticketId: string, events: readonly InputEvent[]) => Promise<void>;
  /** Tickets applied at once. */
  concurrency?: number;
}

interface Waiting {
  event: InputEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Gathering {
  dueAt: number;
  waiting: Waiting[];
}

const DEFAULT_CONCURRENCY = 16;

export class InputCoalescer {
  private readonly d: InputCoalescerDeps;
  private readonly concurrency: number;
  /** Tickets gathering inputs. */
  private readonly gathering = new Map<string, Gathering>();
  /** Tickets whose gathering is over, waiting for a free slot. */
  private readonly ready: Array<[string, Waiting[]]> = [];
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(deps: InputCoalescerDeps) {
    this.d = deps;
    this.concurrency = Math.max(1, deps.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /**
   * Resolves once the event is applied (with whatever else came for its ticket meanwhile). `linger`
   * false applies the ticket's inputs as soon as a slot is free (a consumer that is behind already
   * has plenty to coalesce in each batch).
   */
  submit(ticketId: string, event: InputEvent, linger = true): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const dueAt = Date.now() + (linger ? this.d.lingerMs : 0);
      let entry = this.gathering.get(ticketId);
      if (entry === undefined) {
        entry = { dueAt, waiting: [] };
        this.gathering.set(ticketId, entry);
      } else if (dueAt < entry.dueAt) {
        entry.dueAt = dueAt;
      }
      entry.waiting.push({ event, resolve, reject });
      this.arm(dueAt);
    });
  }

  /** Applies everything gathered without waiting any longer (at shutdown). */
  flush(): void {
    this.release(Number.POSITIVE_INFINITY);
  }

  /** Sets the timer for the soonest due ticket (`at`, or the earliest gathering when not given). */
  private arm(at?: number): void {
    let soonest = at ?? Number.POSITIVE_INFINITY;
    if (at === undefined) for (const entry of this.gathering.values()) soonest = Math.min(soonest, entry.dueAt);
    if (soonest === Number.POSITIVE_INFINITY || soonest >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = soonest;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.release(Date.now());
        this.arm();
      },
      Math.max(0, soonest - Date.now()),
    );
  }

  private release(now: number): void {
    for (const [ticketId, entry] of this.gathering) {
      if (entry.dueAt > now) continue;
      this.gathering.delete(ticketId);
      this.ready.push([ticketId, entry.waiting]);
    }
    this.pump();
  }

  private pump(): void {
    while (this.active < this.concurrency && this.ready.length > 0) {
      const [ticketId, waiting] = this.ready.shift()!;
      this.active += 1;
      void this.applyAll(ticketId, waiting).finally(() => {
        this.active -= 1;
        this.pump();
      });
    }
  }

  /**
   * One write for all; if that fails, each event alone, so one event that cannot be applied fails only
   * its own delivery (the consumer retries and dead-letters it) and not its neighbours'.
   */
  private async applyAll(ticketId: string, waiting: Waiting[]): Promise<void> {
    try {
      await this.d.apply(
        ticketId,
        waiting.map((w) => w.event),
      );
      for (const w of waiting) w.resolve();
      return;
    } catch (err) {
      if (waiting.length === 1) {
        waiting[0]!.reject(err);
        return;
      }
    }
    for (const w of waiting) {
      try {
        await this.d.apply(ticketId, [w.event]);
        w.resolve();
      } catch (err) {
        w.reject(err);
      }
    }
  }
}
