// The escalation use cases on one ticket's SLA: apply an input (event or agent command), perform the
// actions the timer found due, move to a new policy, and publish the view whenever it changes. Every
// write is conditional on the revision read (another instance may have written meanwhile: reload and
// redo); every action key is claimed in the store before its events are published. Writes start from
// the copy this instance last wrote or read (the revision guard catches a stale one), and the flag
// saying a view is published is cleared by the ticket's next write, or a moment later if none comes.
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
import type { ActionDoc, SlaDoc, SlaStore } from "./sla-store.ts";
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
  /** Views published whose `viewDirty` is still set in the store: ticket → revision and pending clear. */
  private readonly publishedViews = new Map<string, { rev: number; timer: NodeJS.Timeout }>();
  private readonly viewMarkDelayMs: number;

  constructor(deps: SlaLedgerDeps) {
    this.d = deps;
    this.now = deps.now ?? (() => new Date());
    this.viewMarkDelayMs = deps.viewMarkDelayMs ?? VIEW_MARK_DELAY_MS;
  }

  /** Applies an input another service reported. A re-delivered event id changes nothing. */
  applyEvent(ticketId: string, eventId: string, timed: TimedInput): Promise<void> {
    return this.applyEvents(ticketId, [{ eventId, timed }]);
  }

  /**
   * Applies several inputs of one ticket, in order, with one write. Event ids applied before (or twice
   * in `events`) change nothing, so a batch re-delivered in part is applied once.
   */
  async applyEvents(ticketId: string, events: readonly InputEvent[]): Promise<void> {
    await this.d.locks.run(ticketId, async () => {
      // A ticket this instance never saw, whose arrival is among the inputs, is almost always new: try
      // to insert it without reading (a duplicate key means it exists: then read it).
      const arrival = events.some((e) => e.timed.input.type === "received");
      let doc = this.cache.get(ticketId) ?? (arrival ? null : await this.read(ticketId));
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const fresh = unapplied(events, doc?.appliedEvents ?? []);
        if (fresh.length === 0) {
          // Applied before; its view may not have reached Kafka (the attempt failed after the write).
          if (doc !== null && this.viewUnpublished(doc)) await this.publishStoredView(doc);
          return;
        }
        let record = doc === null ? emptySlaRecord(ticketId) : parseRecord(doc);
        let policySeq = doc?.policySeq ?? 0;
        for (const e of fresh) ({ next: record, policySeq } = this.withInput(record, policySeq, e.timed));
        if (
          await this.commit(doc, record, {
            eventIds: fresh.map((e) => e.eventId),
            policySeq,
          })
        )
          return;
        doc = await this.read(ticketId);
      }
      throw new Error(`ticket ${ticketId}: too many concurrent SLA updates`);
    });
  }

  /** An agent's command ("waiting on the customer" / "no longer"): applied now, returns the new view. */
  async applyCommand(ticketId: string, input: Extract<SlaInput, { type: "waitingOnCustomer" | "customerWaitOver" }>): Promise<SlaSnapshot> {
    return this.d.locks.run(ticketId, async () => {
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

  async get(ticketId: string): Promise<SlaSnapshot | null> {
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
      let doc: SlaDoc | null = leased;
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

  /** Clears the flags of every view published and still flagged (at shutdown: a restart republishes nothing). */
  async flushViewMarks(): Promise<void> {
    const marks = [...this.publishedViews];
    await Promise.all(marks.map(([ticketId, { rev }]) => this.markViewPublished(ticketId, rev)));
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

  /** Writes the record if nobody wrote since `prev`; then wakes the timer and publishes a changed view. */
  private async commit(prev: SlaDoc | null, record: SlaRecord, opts: CommitOptions): Promise<SlaDoc | null> {
    const now = this.now();
    const state = record.state;
    const view = state === null ? null : slaView(state, now);
    const viewJson = view === null ? null : JSON.stringify(view);
    const wake = state === null ? null : nextWakeAt(state);
    // A flag left by a view this instance published is cleared by this write rather than by its own.
    const prevUnpublished = prev !== null && this.viewUnpublished(prev);
    const saved = await this.d.store.write(
      prev,
      {
        _id: record.ticketId,
        record: JSON.stringify(record),
        status: state === null ? "pending" : state.status,
        policySeq: opts.policySeq ?? prev?.policySeq ?? 0,
        nextWakeAt: wake === null ? null : new Date(wake),
        appliedEvents: [...(prev?.appliedEvents ?? []), ...(opts.eventIds ?? [])],
        view: viewJson,
        viewDirty: prevUnpublished || (viewJson !== null && viewJson !== prev?.view),
        updatedAt: now,
      },
      {
        ...(opts.releaseLease !== undefined ? { releaseLease: opts.releaseLease } : {}),
        ...(opts.leaseUntil !== undefined ? { leaseUntil: opts.leaseUntil } : {}),
      },
    );
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

  private async publishStoredView(doc: SlaDoc): Promise<void> {
    if (doc.view === null) return;
    await this.publishView(doc, parseRecord(doc), JSON.parse(doc.view) as SlaView);
  }

  /**
   * Publishes the view, then clears its flag: by the ticket's next write if it comes soon (input
   * events of one ticket come in bursts), else on its own. Until then only this instance knows the
   * view is out; were it to stop first, the timer's sweep would publish the view once more.
   */
  private async publishView(doc: SlaDoc, record: SlaRecord, view: SlaView): Promise<void> {
    await this.d.bus.publish(slaUpdatedEvent(record, view, doc.rev, this.now()));
    this.dropViewMark(doc._id);
    const timer = setTimeout(() => void this.markViewPublished(doc._id, doc.rev), this.viewMarkDelayMs);
    timer.unref();
    this.publishedViews.set(doc._id, { rev: doc.rev, timer });
  }

  private dropViewMark(ticketId: string): void {
    const mark = this.publishedViews.get(ticketId);
    if (mark === undefined) return;
    clearTimeout(mark.timer);
    this.publishedViews.delete(ticketId);
  }

  private async markViewPublished(ticketId: string, rev: number): Promise<void> {
    try {
      // Under the ticket's lock, so a write of the ticket is not racing with this one.
      await this.d.locks.run(ticketId, async () => {
        if (this.publishedViews.get(ticketId)?.rev !== rev) return;
        this.dropViewMark(ticketId);
        if (await this.d.store.markViewPublished(ticketId, rev)) {
          const cached = this.cache.get(ticketId);
          if (cached?.rev === rev) this.cache.remember({ ...cached, viewDirty: false });
        }
      });
    } catch (err) {
      // The sweep finds the flag and publishes the view again: a duplicate, never a loss.
      this.d.log.warn({ err, ticketId, rev }, "could not record the SLA view as published");
    }
  }
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
