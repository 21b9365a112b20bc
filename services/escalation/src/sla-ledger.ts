// The escalation use cases on one ticket's SLA: apply an input (event or agent command), perform the
// actions the timer found due, move to a new policy, and publish the view whenever it changes.
// Consumed inputs are decided in memory and written behind: every `flushMs` the changed documents of
// all tickets go to the store in one bulk write, and an input's promise settles only once a write
// covering it is done, so the consumer commits its offset after the flush (a crash before it loses
// nothing: the inputs are consumed again). Timer work and agent commands write through, after the
// ticket's pending changes. Every write is conditional on the revision it starts from (another
// instance may have written meanwhile: read again and redo the pending inputs); every action key is
// claimed in the store before its events are published; a view is published only once its revision
// is stored, and its flag is cleared by the ticket's next write, or by a later flush if none comes.
import { Envelope, type TopicName } from "@steward/proto";
import type { EventBus } from "@steward/messaging";
import type { Logger } from "@steward/telemetry";
import {
  applyPolicyChange,
  applySlaInput,
  calendarForGroup,
  dueActions,
  emptySlaRecord,
  markActionDone,
  nextWakeAt,
  onPriorityChanged,
  slaView,
  type DueAction,
  type SlaInput,
  type SlaRecord,
  type SlaView,
  type TimedInput,
} from "./domain/index.ts";
import type { PolicyRegistry } from "./policy-registry.ts";
import { SlaCache } from "./sla-cache.ts";
import { actionEvents, slaUpdatedEvent } from "./sla-events.ts";
import type { ActionDoc, SlaDoc, SlaFields, SlaStore, SlaWrite, ViewMark } from "./sla-store.ts";
import type { TicketLocks } from "./ticket-locks.ts";
import type { EscalationMetrics } from "./escalation-metrics.ts";

export class SlaNotFoundError extends Error {
  readonly code = "SLA_NOT_FOUND";
  constructor(ticketId: string) {
    super(`no SLA for ticket ${ticketId}: it is unknown or not triaged yet`);
    this.name = "SlaNotFoundError";
  }
}

export class TicketResolvedError extends Error {
  readonly code = "TICKET_RESOLVED";
  constructor(ticketId: string) {
    super(`ticket ${ticketId} is resolved: its SLA clocks are stopped`);
    this.name = "TicketResolvedError";
  }
}

export interface SlaSnapshot {
  ticketId: string;
  status: SlaDoc["status"];
  ownerId: string | null;
  /** The ticket's group as triage set it (for the access rules: its supervisors). */
  group: string | null;
  priority: string | null;
  policyName: string;
  view: SlaView | null;
  nextWakeAt: string | null;
  revision: number;
}

export interface SlaLedgerDeps {
  store: SlaStore;
  policies: PolicyRegistry;
  bus: EventBus;
  locks: TicketLocks;
  log: Logger;
  instanceId: string;
  leaseMs: number;
  /**
   * Told of the time each ticket this instance wrote next needs the timer (null: nothing pending), so
   * its timer fires on time without looking in the store.
   */
  onWake: (ticketId: string, at: Date | null) => void;
  metrics?: EscalationMetrics;
  /** How long consumed inputs wait in memory before their documents are written together, ms (default 500). */
  flushMs?: number;
  /** How long a published view's flag waits for the ticket's next write to clear it (default 2 s). */
  viewMarkDelayMs?: number;
  now?: () => Date;
}

/** One input event to apply: its id (for deduplication) and the input at the time it happened. */
export interface InputEvent {
  readonly eventId: string;
  readonly timed: TimedInput;
}

/** What a look at a ticket the timer tracks found when nothing was performed. */
export type DueCheck = { readonly performed: true } | { readonly performed: false; readonly wakeAt: Date | null };

/** Attempts at a conditional write before giving up (the handler is then retried by the bus). */
const MAX_ATTEMPTS = 12;
/** A ticket whose due action another instance is performing is looked at again after this. */
const BUSY_RETRY_MS = 1_000;
/** Tries at leasing a due ticket whose copy turned out stale before looking again later. */
const LEASE_ATTEMPTS = 3;

/** A published view's flag is cleared by the ticket's next write if one comes within this, else alone. */
const VIEW_MARK_DELAY_MS = 2_000;
/** How long consumed inputs wait in memory for others before the flush writes them. */
const FLUSH_MS = 500;
/** Documents one flush writes at most (the next flush follows at once). */
const FLUSH_LIMIT = 1_000;

/** An input's promise: settled once a write covering the first `covers` pending inputs is done. */
interface Waiter {
  covers: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A ticket's inputs decided in memory and not written yet. */
interface Pending {
  /** The stored document they build on (null: the ticket is not stored yet). */
  base: SlaDoc | null;
  /** `base` with `events` applied: what this instance decides from. */
  record: SlaRecord;
  policySeq: number;
  /** Applied since `base`, in order; kept so a lost race can redo them on the newer document. */
  events: InputEvent[];
  waiters: Waiter[];
}

type CommitOptions = {
  eventIds?: readonly string[];
  policySeq?: number;
  releaseLease?: boolean;
  leaseUntil?: Date;
};

export class SlaLedger {
  private readonly d: SlaLedgerDeps;
  private readonly now: () => Date;
  private readonly cache = new SlaCache();
  /** Views published whose `viewDirty` is still set in the store: ticket → revision, and since when. */
  private readonly publishedViews = new Map<string, { rev: number; at: number }>();
  /** Stored revisions (as cached) whose views this instance published; flushes write no flag for them. */
  private readonly publishedDocs = new WeakSet<SlaDoc>();
  private readonly viewMarkDelayMs: number;
  private readonly flushMs: number;
  /** Tickets with inputs decided and not written. */
  private readonly pending = new Map<string, Pending>();
  /** Tickets whose pending inputs a write is taking to the store right now. */
  private readonly writing = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushTimerAt = Number.POSITIVE_INFINITY;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(deps: SlaLedgerDeps) {
    this.d = deps;
    this.now = deps.now ?? (() => new Date());
    this.viewMarkDelayMs = deps.viewMarkDelayMs ?? VIEW_MARK_DELAY_MS;
    this.flushMs = deps.flushMs ?? FLUSH_MS;
  }

  /** Applies an input another service reported. A re-delivered event id changes nothing. */
  applyEvent(ticketId: string, eventId: string, timed: TimedInput): Promise<void> {
    return this.applyEvents(ticketId, [{ eventId, timed }]);
  }

  /**
   * Applies several inputs of one ticket, in order, in memory; resolves once a write covering them is
   * in the store and their view on Kafka (the next flush, within `flushMs`). Event ids applied before
   * (or twice in `events`) change nothing, so a batch re-delivered in part is applied once; one applied
   * and not written yet resolves with the write that takes it. A domain error rejects and changes nothing.
   */
  async applyEvents(ticketId: string, events: readonly InputEvent[]): Promise<void> {
    const { written } = await this.d.locks.run(ticketId, async (): Promise<{ written: Promise<void> | undefined }> => {
      let p = this.pending.get(ticketId);
      if (p === undefined) {
        // A ticket this instance never saw, whose arrival is among the inputs, is almost always new: it
        // is inserted without reading (a duplicate key means it exists: then read and redo).
        const arrival = events.some((e) => e.timed.input.type === "received");
        const doc = this.cache.get(ticketId) ?? (arrival ? null : await this.read(ticketId));
        p = { base: doc, record: doc === null ? emptySlaRecord(ticketId) : parseRecord(doc), policySeq: doc?.policySeq ?? 0, events: [], waiters: [] };
      }
      const fresh = unapplied(events, [...(p.base?.appliedEvents ?? []), ...p.events.map((e) => e.eventId)]);
      if (fresh.length === 0) {
        if (p.events.length > 0) return { written: this.waitForWrite(p) };
        // Written before; its view may not have reached Kafka (the writer failed or died after the
        // write, before the offsets were committed: this redelivery is how the view gets out).
        if (p.base !== null && !this.viewKnownPublished(p.base)) await this.publishStoredView(p.base);
        return { written: undefined };
      }
      // Decided first, recorded after: an input the domain refuses leaves the ticket as it was.
      let { record, policySeq } = p;
      for (const e of fresh) ({ next: record, policySeq } = this.withInput(record, policySeq, e.timed));
      p.record = record;
      p.policySeq = policySeq;
      p.events.push(...fresh);
      this.pending.set(ticketId, p);
      this.d.onWake(ticketId, pendingWake(p));
      this.scheduleFlush(this.flushMs);
      return { written: this.waitForWrite(p) };
    });
    await written;
  }

  /** An agent's command ("waiting on the customer" / "no longer"): applied now, returns the new view. */
  async applyCommand(ticketId: string, input: Extract<SlaInput, { type: "waitingOnCustomer" | "customerWaitOver" }>): Promise<SlaSnapshot> {
    return this.d.locks.run(ticketId, async () => {
      await this.writePendingNow(ticketId);
      let doc = this.cache.get(ticketId) ?? (await this.read(ticketId));
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const record = doc === null ? null : parseRecord(doc);
        if (doc === null || record === null || record.state === null) throw new SlaNotFoundError(ticketId);
        if (record.state.status === "resolved") throw new TicketResolvedError(ticketId);
        const { next, policySeq } = this.withInput(record, doc.policySeq, {
          at: this.now().toISOString(),
          input,
        });
        const saved = await this.commit(doc, next, { policySeq });
        if (saved) return snapshot(saved, next);
        doc = await this.read(ticketId);
      }
      throw new Error(`ticket ${ticketId}: too many concurrent SLA updates`);
    });
  }

  /** The ticket's SLA as this instance decides it: its pending inputs if it has any, else the store's. */
  async get(ticketId: string): Promise<SlaSnapshot | null> {
    const p = this.pending.get(ticketId);
    if (p !== undefined) return pendingSnapshot(p, this.now());
    const doc = await this.d.store.get(ticketId);
    return doc === null ? null : snapshot(doc, parseRecord(doc));
  }

  /**
   * The timer's look at a ticket it tracks: when its next wake-up has come and no other instance holds
   * it, leases it (by `_id`, on the revision) and performs the due actions. `fresh` reads the store
   * first (a wake-up another instance wrote); otherwise this instance's own copy is trusted, the lease
   * failing if it is stale. Not performed: when the ticket next needs the timer, as far as seen.
   */
  async runDue(ticketId: string, fresh: boolean): Promise<DueCheck> {
    return this.d.locks.run(ticketId, async () => {
      // Actions are decided on what is stored: the inputs pending in memory go first.
      await this.writePendingNow(ticketId);
      let doc = (fresh ? undefined : this.cache.get(ticketId)) ?? (await this.read(ticketId));
      for (let attempt = 0; attempt < LEASE_ATTEMPTS && doc !== null; attempt += 1) {
        const now = this.now();
        const wakeAt = timerDue(doc);
        if (wakeAt === null || wakeAt.getTime() > now.getTime()) return { performed: false, wakeAt };
        const leased = await this.d.store.leaseDue(doc, now, this.d.instanceId, this.d.leaseMs);
        if (leased !== null) {
          this.cache.remember(leased);
          await this.performLeased(leased);
          return { performed: true };
        }
        // Changed or leased since this copy: look again at what the store holds.
        doc = await this.read(ticketId);
      }
      return {
        performed: false,
        wakeAt: doc === null ? null : new Date(this.now().getTime() + BUSY_RETRY_MS),
      };
    });
  }

  /**
   * Performs the actions due on a ticket the timer leased: each key is claimed in the store, then its
   * events are published, then it is recorded as done in the state. A claim that another attempt
   * already published is only recorded; one another instance is performing now is left for later.
   */
  private async performLeased(leased: SlaDoc): Promise<void> {
    let doc: SlaDoc | null = leased;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && doc !== null; attempt += 1) {
      const record = parseRecord(doc);
      const now = this.now();
      let state = record.state;
      let busy = false;
      if (state !== null) {
        for (const action of dueActions(state, now)) {
          const performed = await this.perform(record, state, action, now);
          if (performed === undefined) {
            busy = true;
            break;
          }
          state = markActionDone(state, action.key);
          // The ladder's own raise reorders queues; it does not tighten the targets (see onPriorityChanged).
          if (performed.effect.type === "raisePriority") state = onPriorityChanged(state, performed.effect.to, now, "slaEscalation");
        }
      }
      const lease: CommitOptions = busy ? { leaseUntil: new Date(now.getTime() + BUSY_RETRY_MS) } : { releaseLease: true };
      if (await this.commit(doc, { ...record, state }, lease)) return;
      doc = await this.read(leased._id);
    }
  }

  /** Claims and publishes one action; returns the action as first decided, or undefined when busy elsewhere. */
  private async perform(record: SlaRecord, state: NonNullable<SlaRecord["state"]>, action: DueAction, now: Date): Promise<DueAction | undefined> {
    const events = actionEvents(record, state, action, now).map((e) => ({
      topic: e.topic,
      envelope: Buffer.from(Envelope.encode(e.envelope).finish()),
    }));
    const claim = await this.d.store.claimAction(
      {
        _id: action.key,
        ticketId: record.ticketId,
        action: JSON.stringify(action),
        events,
        owner: this.d.instanceId,
        claimedAt: now,
      },
      this.d.leaseMs,
    );
    if (claim.outcome === "busy") return undefined;
    if (claim.outcome !== "published") {
      await this.d.bus.publish(decodeEvents(claim.doc));
      await this.d.store.markActionPublished(action.key);
      this.d.metrics?.actionPublished(action.effect.type, claim.doc.events);
      this.d.log.info(
        {
          ticketId: record.ticketId,
          key: action.key,
          kind: action.kind,
          retried: claim.outcome === "unfinished",
        },
        "escalation action published",
      );
    }
    return JSON.parse(claim.doc.action) as DueAction;
  }

  /** Moves a leased open ticket to the active policy: its open deadlines are recomputed once. */
  async recomputePolicy(leased: SlaDoc): Promise<void> {
    await this.d.locks.run(leased._id, async () => {
      await this.writePendingNow(leased._id);
      let doc: SlaDoc | null = this.pending.has(leased._id) ? null : leased;
      for (let attempt = 0; attempt < MAX_ATTEMPTS && doc !== null; attempt += 1) {
        const active = this.d.policies.active();
        const record = parseRecord(doc);
        if (record.state === null || record.state.status !== "open" || doc.policySeq >= active.seq) {
          await this.d.store.releaseLease(doc._id, this.d.instanceId, new Date(0));
          return;
        }
        const state = applyPolicyChange(record.state, active.policy, calendarForGroup(active.policy, record.group), this.now());
        if (await this.commit(doc, { ...record, state }, { policySeq: active.seq, releaseLease: true })) {
          this.d.log.info(
            {
              ticketId: doc._id,
              version: active.policy.version,
              seq: active.seq,
            },
            "SLA moved to the active policy",
          );
          return;
        }
        doc = await this.read(leased._id);
      }
    });
  }

  /** Publishes a view that was written but not published (the writer failed or crashed in between). */
  async publishLeasedView(leased: SlaDoc): Promise<void> {
    await this.d.locks.run(leased._id, async () => {
      await this.writePendingNow(leased._id);
      const doc = await this.read(leased._id);
      if (doc !== null && this.viewUnpublished(doc)) await this.publishStoredView(doc);
      await this.d.store.releaseLease(leased._id, this.d.instanceId, new Date(0));
    });
  }

  private withInput(record: SlaRecord, policySeq: number, timed: TimedInput): { next: SlaRecord; policySeq: number } {
    const active = this.d.policies.active();
    let next = applySlaInput(record, timed, active.policy);
    if (next.state === null) return { next, policySeq };
    // A ticket that starts now follows the active policy; an open one still on an older activation
    // moves to it as soon as anything happens to it (the timer's sweep moves the quiet ones).
    if (record.state === null) return { next, policySeq: active.seq };
    if (policySeq < active.seq && next.state.status === "open") {
      next = {
        ...next,
        state: applyPolicyChange(next.state, active.policy, calendarForGroup(active.policy, next.group), new Date(timed.at)),
      };
      return { next, policySeq: active.seq };
    }
    return { next, policySeq };
  }

  /**
   * At shutdown, once the consumer has stopped: writes every pending input (a few flushes at most; what
   * cannot be written now is consumed again by the next instance, its offset not being committed),
   * then clears the flags of every view published and still flagged, so a restart republishes nothing.
   */
  async close(): Promise<void> {
    for (let round = 0; round < 5 && (this.pending.size > 0 || this.flushing !== undefined); round += 1) {
      await this.flush().catch((err: unknown) => this.d.log.warn({ err, pending: this.pending.size }, "SLA flush at shutdown failed"));
    }
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const marks = [...this.publishedViews].map(([ticketId, { rev }]) => ({ ticketId, rev }));
    this.publishedViews.clear();
    if (marks.length === 0) return;
    try {
      await this.d.store.writeMany([], marks);
    } catch (err) {
      this.d.log.warn({ err, views: marks.length }, "could not record SLA views as published");
    }
  }

  /** This instance published the view of that revision and has yet to clear its flag. */
  publishedHere(ticketId: string, rev: number): boolean {
    return this.publishedViews.get(ticketId)?.rev === rev;
  }

  /**
   * Writes the pending inputs of every ticket, in one bulk write, and clears the flags of views
   * published a while ago; then publishes the views the write changed and settles the inputs' promises.
   * One flush at a time: a call during one waits for it and runs again.
   */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing.catch(() => undefined);
    const run = this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    this.flushing = run;
    await run;
  }

  /** Flushes in `delayMs`, or sooner if a flush is already due sooner. */
  private scheduleFlush(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.closed || at >= this.flushTimerAt) return;
    clearTimeout(this.flushTimer);
    this.flushTimerAt = at;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushTimerAt = Number.POSITIVE_INFINITY;
      void this.flush()
        .catch((err: unknown) => this.d.log.warn({ err }, "SLA flush failed; retrying"))
        .finally(() => this.rescheduleFlush());
    }, delayMs);
  }

  /** After a flush: at once if more is pending than one flush takes, else when pending work or a view flag is due. */
  private rescheduleFlush(): void {
    if (this.pending.size > FLUSH_LIMIT) return this.scheduleFlush(0);
    if (this.pending.size > 0) return this.scheduleFlush(this.flushMs);
    let soonest = Number.POSITIVE_INFINITY;
    for (const mark of this.publishedViews.values()) soonest = Math.min(soonest, mark.at + this.viewMarkDelayMs);
    if (soonest !== Number.POSITIVE_INFINITY) this.scheduleFlush(Math.max(this.flushMs, soonest - Date.now()));
  }

  private async flushOnce(): Promise<void> {
    const nowMs = Date.now();
    const taken: Array<{ ticketId: string; p: Pending; covers: number; write: SlaWrite; record: SlaRecord; view: SlaView | null }> = [];
    for (const [ticketId, p] of this.pending) {
      if (taken.length >= FLUSH_LIMIT) break;
      if (this.writing.has(ticketId)) continue;
      const { fields, view } = this.nextFields(p.base, p.record, { eventIds: p.events.map((e) => e.eventId), policySeq: p.policySeq });
      // No flag: the view is published right after the write, before the inputs settle; were that to
      // fail, their redelivery publishes the stored view (see applyEvents).
      const publish = fields.viewDirty && view !== null;
      taken.push({ ticketId, p, covers: p.events.length, write: { prev: p.base, next: { ...fields, viewDirty: false } }, record: p.record, view: publish ? view : null });
    }
    const inWrite = new Set(taken.map((t) => t.ticketId));
    const marks: ViewMark[] = [];
    for (const [ticketId, mark] of this.publishedViews) {
      // A ticket written now has its flag settled by that write.
      if (!inWrite.has(ticketId) && mark.at + this.viewMarkDelayMs <= nowMs) marks.push({ ticketId, rev: mark.rev });
    }
    if (taken.length === 0 && marks.length === 0) return;
    for (const t of taken) this.writing.add(t.ticketId);
    let saved: Array<SlaDoc | null>;
    try {
      saved = await this.d.store.writeMany(
        taken.map((t) => t.write),
        marks,
      );
    } catch (err) {
      // Nothing is known written: the inputs stay pending (retried by the next flush) and their
      // deliveries fail, so the consumer backs off, heartbeats and delivers them again.
      for (const t of taken) {
        this.writing.delete(t.ticketId);
        rejectWaiters(t.p, t.covers, err);
      }
      throw err;
    }
    for (const m of marks) {
      if (this.publishedViews.get(m.ticketId)?.rev !== m.rev) continue;
      this.publishedViews.delete(m.ticketId);
      const cached = this.cache.get(m.ticketId);
      if (cached?.rev === m.rev) this.cache.remember({ ...cached, viewDirty: false });
    }
    const views: Array<{ ticketId: string; doc: SlaDoc; record: SlaRecord; view: SlaView }> = [];
    const done: Array<{ p: Pending; waiters: Waiter[] }> = [];
    taken.forEach((t, i) => {
      this.writing.delete(t.ticketId);
      const doc = saved[i] ?? null;
      if (doc === null) {
        // Another writer got there first: read the ticket again and redo its inputs on what it wrote.
        this.cache.forget(t.ticketId);
        void this.d.locks
          .run(t.ticketId, () => this.rebase(t.ticketId))
          .catch((err: unknown) => this.d.log.warn({ err, ticketId: t.ticketId }, "could not redo an SLA's inputs after a lost write race"))
          // Redone on the newer revision: written by the next flush, at once.
          .finally(() => this.scheduleFlush(0));
        return;
      }
      done.push({ p: t.p, waiters: this.advance(t.ticketId, t.p, t.covers, doc) });
      if (t.view !== null) views.push({ ticketId: t.ticketId, doc, record: t.record, view: t.view });
    });
    try {
      if (views.length > 0) await this.d.bus.publish(views.map((v) => slaUpdatedEvent(v.record, v.view, v.doc.rev, this.now())));
    } catch (err) {
      // Written, not published: the deliveries fail and their redelivery publishes the stored view
      // (or the sweep does, after a while).
      for (const { waiters } of done) for (const w of waiters) w.reject(err);
      throw err;
    }
    for (const v of views) this.publishedDocs.add(v.doc);
    for (const { waiters } of done) for (const w of waiters) w.resolve();
  }

  /**
   * The first `covers` pending inputs of a ticket are in `doc`: they leave the pending list (the
   * ticket leaves it with its last input) and their waiters are returned, to settle once the view is out.
   */
  private advance(ticketId: string, p: Pending, covers: number, doc: SlaDoc): Waiter[] {
    this.cache.remember(doc);
    this.publishedViews.delete(ticketId);
    p.base = doc;
    p.events = p.events.slice(covers);
    const settled = p.waiters.filter((w) => w.covers <= covers);
    p.waiters = p.waiters.filter((w) => w.covers > covers);
    for (const w of p.waiters) w.covers -= covers;
    if (p.events.length === 0 && this.pending.get(ticketId) === p) {
      this.pending.delete(ticketId);
      this.d.onWake(ticketId, timerDue(doc));
    }
    return settled;
  }

  /**
   * A write of the ticket's pending inputs lost a race: reads what the store holds and applies, on it,
   * the pending inputs it does not have yet. Called under the ticket's lock.
   */
  private async rebase(ticketId: string): Promise<void> {
    const p = this.pending.get(ticketId);
    if (p === undefined) return;
    this.writing.add(ticketId);
    try {
      const doc = await this.read(ticketId);
      const applied = new Set(doc?.appliedEvents ?? []);
      let record = doc === null ? emptySlaRecord(ticketId) : parseRecord(doc);
      let policySeq = doc?.policySeq ?? 0;
      let left = 0;
      try {
        for (const e of p.events) {
          if (applied.has(e.eventId)) continue;
          ({ next: record, policySeq } = this.withInput(record, policySeq, e.timed));
          left += 1;
        }
      } catch (err) {
        // The newer document refuses an input: its delivery fails, and is applied again on what is stored.
        this.pending.delete(ticketId);
        rejectWaiters(p, p.events.length, err);
        return;
      }
      p.base = doc;
      p.record = record;
      p.policySeq = policySeq;
      if (left === 0 && doc !== null) {
        // Everything pending is in the store already (another write of this instance took it).
        const waiters = this.advance(ticketId, p, p.events.length, doc);
        try {
          if (!this.viewKnownPublished(doc)) await this.publishStoredView(doc);
        } catch (err) {
          for (const w of waiters) w.reject(err);
          return;
        }
        for (const w of waiters) w.resolve();
        return;
      }
      this.d.onWake(ticketId, pendingWake(p));
    } catch (err) {
      this.d.log.warn({ err, ticketId }, "could not read an SLA after a lost write race; retrying");
      rejectWaiters(p, p.events.length, err);
    } finally {
      this.writing.delete(ticketId);
    }
  }

  /** Writes the ticket's pending inputs now, alone (before timer work or a command). Called under its lock. */
  private async writePendingNow(ticketId: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      while (this.writing.has(ticketId) && this.flushing !== undefined) await this.flushing.catch(() => undefined);
      const p = this.pending.get(ticketId);
      if (p === undefined) return;
      const covers = p.events.length;
      this.writing.add(ticketId);
      let saved: SlaDoc | null;
      try {
        saved = await this.commit(p.base, p.record, { eventIds: p.events.map((e) => e.eventId), policySeq: p.policySeq });
      } catch (err) {
        rejectWaiters(p, covers, err);
        throw err;
      } finally {
        this.writing.delete(ticketId);
      }
      if (saved !== null) {
        for (const w of this.advance(ticketId, p, covers, saved)) w.resolve();
        return;
      }
      await this.rebase(ticketId);
    }
    throw new Error(`ticket ${ticketId}: too many concurrent SLA updates`);
  }

  private waitForWrite(p: Pending): Promise<void> {
    return new Promise<void>((resolve, reject) => p.waiters.push({ covers: p.events.length, resolve, reject }));
  }

  private async read(ticketId: string): Promise<SlaDoc | null> {
    const doc = await this.d.store.get(ticketId);
    if (doc === null) this.cache.forget(ticketId);
    else this.cache.remember(doc);
    return doc;
  }

  /** The view of this revision may not be on Kafka: flagged, and not published by this instance. */
  private viewUnpublished(doc: SlaDoc): boolean {
    return doc.viewDirty && this.publishedViews.get(doc._id)?.rev !== doc.rev;
  }

  /** This instance published the view of this stored revision. */
  private viewKnownPublished(doc: SlaDoc): boolean {
    return doc.view === null || this.publishedDocs.has(doc) || this.publishedViews.get(doc._id)?.rev === doc.rev;
  }

  /** Writes the record if nobody wrote since `prev`; then wakes the timer and publishes a changed view. */
  private async commit(prev: SlaDoc | null, record: SlaRecord, opts: CommitOptions): Promise<SlaDoc | null> {
    const { fields, view } = this.nextFields(prev, record, opts);
    const saved = await this.d.store.write(prev, fields, {
      ...(opts.releaseLease !== undefined ? { releaseLease: opts.releaseLease } : {}),
      ...(opts.leaseUntil !== undefined ? { leaseUntil: opts.leaseUntil } : {}),
    });
    if (saved === null) {
      this.cache.forget(record.ticketId);
      return null;
    }
    this.cache.remember(saved);
    // The flag of the view published before is gone with this write: its own clearing is not needed.
    this.dropViewMark(saved._id);
    this.d.onWake(saved._id, timerDue(saved));
    if (saved.viewDirty && view !== null) await this.publishView(saved, record, view);
    return saved;
  }

  /** The stored fields of `record` written over `prev`, and its view. */
  private nextFields(prev: SlaDoc | null, record: SlaRecord, opts: CommitOptions): { fields: SlaFields; view: SlaView | null } {
    const now = this.now();
    const state = record.state;
    const view = state === null ? null : slaView(state, now);
    const viewJson = view === null ? null : JSON.stringify(view);
    const wake = state === null ? null : nextWakeAt(state);
    // A flag left by a view this instance published is cleared by this write rather than by its own.
    const prevUnpublished = prev !== null && this.viewUnpublished(prev);
    const known = new Set(prev?.appliedEvents ?? []);
    const fields: SlaFields = {
      _id: record.ticketId,
      record: JSON.stringify(record),
      status: state === null ? "pending" : state.status,
      policySeq: opts.policySeq ?? prev?.policySeq ?? 0,
      nextWakeAt: wake === null ? null : new Date(wake),
      appliedEvents: [...(prev?.appliedEvents ?? []), ...(opts.eventIds ?? []).filter((id) => !known.has(id))],
      view: viewJson,
      viewDirty: prevUnpublished || (viewJson !== null && viewJson !== prev?.view),
      updatedAt: now,
    };
    return { fields, view };
  }

  private async publishStoredView(doc: SlaDoc): Promise<void> {
    if (doc.view === null) return;
    await this.publishView(doc, parseRecord(doc), JSON.parse(doc.view) as SlaView);
  }

  /**
   * Publishes the view, then clears its flag: by the ticket's next write if it comes soon (input
   * events of one ticket come in bursts), else with a later flush. Until then only this instance knows
   * the view is out; were it to stop first, the timer's sweep would publish the view once more.
   */
  private async publishView(doc: SlaDoc, record: SlaRecord, view: SlaView): Promise<void> {
    await this.d.bus.publish(slaUpdatedEvent(record, view, doc.rev, this.now()));
    this.publishedDocs.add(doc);
    if (!doc.viewDirty) return;
    this.publishedViews.set(doc._id, { rev: doc.rev, at: Date.now() });
    this.scheduleFlush(this.viewMarkDelayMs);
  }

  private dropViewMark(ticketId: string): void {
    this.publishedViews.delete(ticketId);
  }
}

/** When the timer must look at a ticket whose inputs are pending: as decided, not before a lease runs out. */
function pendingWake(p: Pending): Date | null {
  const wake = p.record.state === null ? null : nextWakeAt(p.record.state);
  if (wake === null) return null;
  const at = new Date(wake);
  return p.base !== null && p.base.leaseUntil.getTime() > at.getTime() ? p.base.leaseUntil : at;
}

/** Fails the promises of the first `covers` pending inputs (their deliveries are retried). */
function rejectWaiters(p: Pending, covers: number, err: unknown): void {
  const failed = p.waiters.filter((w) => w.covers <= covers);
  p.waiters = p.waiters.filter((w) => w.covers > covers);
  for (const w of failed) w.reject(err);
}

function pendingSnapshot(p: Pending, now: Date): SlaSnapshot {
  const state = p.record.state;
  const wake = state === null ? null : nextWakeAt(state);
  return {
    ticketId: p.record.ticketId,
    status: state === null ? "pending" : state.status,
    ownerId: state?.ownerId ?? null,
    group: p.record.group ?? null,
    priority: state?.priority ?? null,
    policyName: p.record.policyName,
    view: state === null ? null : slaView(state, now),
    nextWakeAt: wake,
    // The revision it is written as, unless another instance writes the ticket first.
    revision: (p.base?.rev ?? 0) + 1,
  };
}

/** When the timer must next look at the ticket: its next wake-up, not before a lease runs out. */
export function timerDue(doc: Pick<SlaDoc, "nextWakeAt" | "leaseUntil">): Date | null {
  if (doc.nextWakeAt === null) return null;
  return doc.leaseUntil.getTime() > doc.nextWakeAt.getTime() ? doc.leaseUntil : doc.nextWakeAt;
}

/** The events not applied yet, each once, in order. */
function unapplied(events: readonly InputEvent[], appliedBefore: readonly string[]): InputEvent[] {
  const seen = new Set(appliedBefore);
  const fresh: InputEvent[] = [];
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    fresh.push(e);
  }
  return fresh;
}

function parseRecord(doc: SlaDoc): SlaRecord {
  return JSON.parse(doc.record) as SlaRecord;
}

function snapshot(doc: SlaDoc, record: SlaRecord): SlaSnapshot {
  return {
    ticketId: doc._id,
    status: doc.status,
    ownerId: record.state?.ownerId ?? null,
    group: record.group ?? null,
    priority: record.state?.priority ?? null,
    policyName: record.policyName,
    view: doc.view === null ? null : (JSON.parse(doc.view) as SlaView),
    nextWakeAt: doc.nextWakeAt?.toISOString() ?? null,
    revision: doc.rev,
  };
}

/** The stored envelopes; the driver hands binary fields back as BSON Binary, not Buffer. */
function decodeEvents(doc: ActionDoc): Array<{ topic: TopicName; envelope: Envelope }> {
  return doc.events.map((e) => {
    const raw: unknown = e.envelope;
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from((raw as { buffer: Uint8Array }).buffer);
    return { topic: e.topic as TopicName, envelope: Envelope.decode(bytes) };
  });
}
