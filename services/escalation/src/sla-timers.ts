// Durable SLA timers: the due times live in the store (`nextWakeAt`), so a restart loses nothing.
// Each instance keeps in memory the wake-ups of the tickets it writes and fires them on time; a due
// ticket is leased by `_id` on its revision before its actions are performed, so two instances never
// work on one ticket at once. A sweep every `sweepMs` reads the store for what memory cannot know:
// wake-ups written by other instances or before a restart (taken over after a grace, in case their
// writer is still alive), open tickets on an older policy, and views a failed writer left
// unpublished. Finished tickets (resolved, nothing pending) have no wake-up and are never looked at.
import type { Logger } from "@steward/telemetry";
import type { PolicyRegistry } from "./policy-registry.ts";
import type { SlaLedger } from "./sla-ledger.ts";
import type { SlaDoc, SlaStore } from "./sla-store.ts";

export interface SlaTimersDeps {
  store: SlaStore;
  ledger: SlaLedger;
  policies: PolicyRegistry;
  log: Logger;
  instanceId: string;
  /** The longest the loop sleeps when nothing is due, ms. */
  pollMs: number;
  leaseMs: number;
  policyPollMs: number;
  /** How often the store is read for wake-ups this instance did not write, ms. */
  sweepMs: number;
}

/** Tickets worked on concurrently. */
const BATCH = 16;
/** Tickets leased per pass of one kind before the loop yields (the next pass continues at once). */
const MAX_PER_PASS = 256;
/** A failed attempt (broker or store unreachable) is retried after this. */
const RETRY_AFTER_MS = 2_000;
/** A view written this long ago and still not published was left behind by a failed writer. */
const UNPUBLISHED_VIEW_GRACE_MS = 5_000;
/** A wake-up another instance wrote is taken over this long after it is due, if still pending. */
const FOREIGN_GRACE_MS = 1_000;
/** Tickets one sweep reads at most (the earliest wake-ups first). */
const SWEEP_LIMIT = 2_000;

interface Wake {
  at: number;
  /** Written by another instance (or before a restart): read afresh, and only after a grace. */
  foreign: boolean;
}

export class SlaTimers {
  private readonly d: SlaTimersDeps;
  /** Tickets with a pending wake-up known to this instance. */
  private readonly wakes = new Map<string, Wake>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastPolicyCheck = 0;
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** The policy activation whose older tickets were all moved; 0 so a start looks once. */
  private drainedSeq = 0;

  constructor(deps: SlaTimersDeps) {
    this.d = deps;
  }

  start(): void {
    this.stopped = false;
    this.schedule(Date.now());
  }

  /** A ticket this instance wrote next needs the timer at `at` (null: nothing pending). */
  track(ticketId: string, at: Date | null): void {
    if (at === null) {
      this.wakes.delete(ticketId);
      return;
    }
    this.wakes.set(ticketId, { at: at.getTime(), foreign: false });
    if (this.stopped) return;
    if (this.running !== undefined && at.getTime() <= Date.now()) this.again = true;
    this.schedule(at.getTime());
  }

  /** Stops after the pass in progress; no lease stays held by this instance. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(atMs: number): void {
    if (this.stopped) return;
    const now = Date.now();
    const when = Math.max(atMs, now);
    if (this.timer !== undefined && this.timerAt <= when) return;
    clearTimeout(this.timer);
    this.timerAt = when;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.run();
    }, when - now);
  }

  private async run(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.pass().catch((err: unknown) => this.d.log.error({ err }, "SLA timer pass failed"));
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    const rerun = this.again;
    this.again = false;
    this.schedule(rerun ? Date.now() : Math.min(this.soonest(), Date.now() + this.d.pollMs));
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPolicyCheck >= this.d.policyPollMs) {
      this.lastPolicyCheck = now;
      await this.d.policies.refresh();
    }
    const seq = this.d.policies.active().seq;
    let sweptOlderPolicy = false;
    let sweptUnpublished = false;
    if (now - this.lastSweep >= this.d.sweepMs) {
      this.lastSweep = now;
      ({ olderPolicy: sweptOlderPolicy, unpublished: sweptUnpublished } = await this.sweep(seq));
    }
    await this.fireDue();
    const { store, ledger, instanceId, leaseMs } = this.d;
    // Tickets on an older policy exist only after an activation (or when the sweep saw some left).
    if (seq > this.drainedSeq || sweptOlderPolicy) {
      if (
        await this.drain(
          () => store.claimOlderPolicy(seq, new Date(), instanceId, leaseMs),
          (doc) => ledger.recomputePolicy(doc),
        )
      )
        this.drainedSeq = seq;
    }
    if (sweptUnpublished) {
      await this.drain(
        () => store.claimUnpublishedView(new Date(), UNPUBLISHED_VIEW_GRACE_MS, instanceId, leaseMs),
        (doc) => ledger.publishLeasedView(doc),
      );
    }
  }

  /**
   * Reads what memory cannot know. Wake-ups due before the next sweep are tracked (as another
   * instance's, unless this one wrote them); the two other kinds are only reported, their fixes lease
   * by a conditional findAndModify only when there is something to fix.
   */
  private async sweep(seq: number): Promise<{ olderPolicy: boolean; unpublished: boolean }> {
    const now = Date.now();
    const found = await this.d.store.sweep(new Date(now + 2 * this.d.sweepMs), seq, new Date(now - UNPUBLISHED_VIEW_GRACE_MS), SWEEP_LIMIT);
    let olderPolicy = false;
    let unpublished = false;
    for (const doc of found) {
      if (doc.status === "open" && doc.policySeq < seq) olderPolicy = true;
      // A flag this instance will clear with a coming flush is no view left unpublished.
      if (doc.viewDirty && doc.updatedAt.getTime() < now - UNPUBLISHED_VIEW_GRACE_MS && !this.d.ledger.publishedHere(doc._id, doc.rev)) unpublished = true;
      if (doc.nextWakeAt === null || this.wakes.get(doc._id)?.foreign === false) continue;
      const at = Math.max(doc.nextWakeAt.getTime(), doc.leaseUntil.getTime());
      this.wakes.set(doc._id, { at, foreign: true });
    }
    return { olderPolicy, unpublished };
  }

  /** Looks at every ticket whose wake-up has come, a batch at a time, earliest first. */
  private async fireDue(): Promise<void> {
    const now = Date.now();
    const due = [...this.wakes]
      .filter(([, w]) => w.at + (w.foreign ? FOREIGN_GRACE_MS : 0) <= now)
      .sort(([, a], [, b]) => a.at - b.at)
      .slice(0, MAX_PER_PASS);
    for (let i = 0; i < due.length && !this.stopped; i += BATCH) {
      await Promise.all(due.slice(i, i + BATCH).map(([ticketId, wake]) => this.fire(ticketId, wake)));
    }
    if (due.length >= MAX_PER_PASS) this.again = true;
  }

  private async fire(ticketId: string, wake: Wake): Promise<void> {
    // Forgotten first: a write during the work tracks the ticket's next wake-up again.
    if (this.wakes.get(ticketId) === wake) this.wakes.delete(ticketId);
    try {
      const check = await this.d.ledger.runDue(ticketId, wake.foreign);
      // Nothing performed: the store holds another wake-up (another instance wrote it, or holds it).
      if (!check.performed && check.wakeAt !== null && !this.wakes.has(ticketId)) this.wakes.set(ticketId, { at: check.wakeAt.getTime(), foreign: true });
    } catch (err) {
      this.d.log.warn({ err, ticketId }, "SLA timer work failed; retrying later");
      const retryAt = new Date(Date.now() + RETRY_AFTER_MS);
      await this.d.store.releaseLease(ticketId, this.d.instanceId, retryAt).catch(() => undefined);
      if (!this.wakes.has(ticketId))
        this.wakes.set(ticketId, {
          at: retryAt.getTime(),
          foreign: wake.foreign,
        });
    }
  }

  private soonest(): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const w of this.wakes.values()) soonest = Math.min(soonest, w.at + (w.foreign ? FOREIGN_GRACE_MS : 0));
    return soonest;
  }

  /**
   * Leases tickets in batches and works on each batch concurrently; a failure is retried later.
   * True when nothing was left to lease.
   */
  private async drain(claim: () => Promise<SlaDoc | null>, work: (doc: SlaDoc) => Promise<void>): Promise<boolean> {
    let done = 0;
    while (!this.stopped && done < MAX_PER_PASS) {
      const batch: SlaDoc[] = [];
      while (batch.length < BATCH) {
        const doc = await claim();
        if (doc === null) break;
        batch.push(doc);
      }
      if (batch.length === 0) return true;
      done += batch.length;
      await Promise.all(
        batch.map((doc) =>
          work(doc).catch(async (err: unknown) => {
            this.d.log.warn({ err, ticketId: doc._id }, "SLA timer work failed; retrying later");
            await this.d.store.releaseLease(doc._id, this.d.instanceId, new Date(Date.now() + RETRY_AFTER_MS)).catch(() => undefined);
          }),
        ),
      );
      if (batch.length < BATCH) return true;
    }
    if (done >= MAX_PER_PASS) this.again = true;
    return false;
  }
}
