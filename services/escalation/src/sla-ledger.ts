// The escalation use cases on one ticket's SLA: apply an input (event or agent command), perform the
// actions the timer found due, move to a new policy, and publish the view whenever it changes. Every
// write is conditional on the revision read (another instance may have written meanwhile: reload and
// redo); every action key is claimed in the store before its events are published.
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
import { actionEvents, slaUpdatedEvent } from "./sla-events.ts";
import type { ActionDoc, SlaDoc, SlaStore } from "./sla-store.ts";
import type { TicketLocks } from "./ticket-locks.ts";

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
  /** Told of every ticket's next wake-up this instance writes, so its timer can fire on time. */
  onWake: (at: Date) => void;
  now?: () => Date;
}

/** Attempts at a conditional write before giving up (the handler is then retried by the bus). */
const MAX_ATTEMPTS = 12;
/** A ticket whose due action another instance is performing is looked at again after this. */
const BUSY_RETRY_MS = 1_000;

type CommitOptions = { eventId?: string; policySeq?: number; releaseLease?: boolean; leaseUntil?: Date };

export class SlaLedger {
  private readonly d: SlaLedgerDeps;
  private readonly now: () => Date;

  constructor(deps: SlaLedgerDeps) {
    this.d = deps;
    this.now = deps.now ?? (() => new Date());
  }

  /** Applies an input another service reported. A re-delivered event id changes nothing. */
  async applyEvent(ticketId: string, eventId: string, timed: TimedInput): Promise<void> {
    await this.d.locks.run(ticketId, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const doc = await this.d.store.get(ticketId);
        if (doc?.appliedEvents.includes(eventId)) {
          // Applied before; its view may not have reached Kafka (the attempt failed after the write).
          if (doc.viewDirty) await this.publishStoredView(doc);
          return;
        }
        const record = doc === null ? emptySlaRecord(ticketId) : parseRecord(doc);
        const { next, policySeq } = this.withInput(record, doc?.policySeq ?? 0, timed);
        if (await this.commit(doc, next, { eventId, policySeq })) return;
      }
      throw new Error(`ticket ${ticketId}: too many concurrent SLA updates`);
    });
  }

  /** An agent's command ("waiting on the customer" / "no longer"): applied now, returns the new view. */
  async applyCommand(ticketId: string, input: Extract<SlaInput, { type: "waitingOnCustomer" | "customerWaitOver" }>): Promise<SlaSnapshot> {
    return this.d.locks.run(ticketId, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const doc = await this.d.store.get(ticketId);
        const record = doc === null ? null : parseRecord(doc);
        if (doc === null || record === null || record.state === null) throw new SlaNotFoundError(ticketId);
        if (record.state.status === "resolved") throw new TicketResolvedError(ticketId);
        const { next, policySeq } = this.withInput(record, doc.policySeq, { at: this.now().toISOString(), input });
        const saved = await this.commit(doc, next, { policySeq });
        if (saved) return snapshot(saved, next);
      }
      throw new Error(`ticket ${ticketId}: too many concurrent SLA updates`);
    });
  }

  async get(ticketId: string): Promise<SlaSnapshot | null> {
    const doc = await this.d.store.get(ticketId);
    return doc === null ? null : snapshot(doc, parseRecord(doc));
  }

  /**
   * Performs the actions due on a ticket the timer leased: each key is claimed in the store, then its
   * events are published, then it is recorded as done in the state. A claim that another attempt
   * already published is only recorded; one another instance is performing now is left for later.
   */
  async performDueActions(leased: SlaDoc): Promise<void> {
    await this.d.locks.run(leased._id, async () => {
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
        doc = await this.d.store.get(leased._id);
      }
    });
  }

  /** Claims and publishes one action; returns the action as first decided, or undefined when busy elsewhere. */
  private async perform(record: SlaRecord, state: NonNullable<SlaRecord["state"]>, action: DueAction, now: Date): Promise<DueAction | undefined> {
    const events = actionEvents(record, state, action, now).map((e) => ({ topic: e.topic, envelope: Buffer.from(Envelope.encode(e.envelope).finish()) }));
    const claim = await this.d.store.claimAction(
      { _id: action.key, ticketId: record.ticketId, action: JSON.stringify(action), events, owner: this.d.instanceId, claimedAt: now },
      this.d.leaseMs,
    );
    if (claim.outcome === "busy") return undefined;
    if (claim.outcome !== "published") {
      await this.d.bus.publish(decodeEvents(claim.doc));
      await this.d.store.markActionPublished(action.key);
      this.d.log.info({ ticketId: record.ticketId, key: action.key, kind: action.kind, retried: claim.outcome === "unfinished" }, "escalation action published");
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
          this.d.log.info({ ticketId: doc._id, version: active.policy.version, seq: active.seq }, "SLA moved to the active policy");
          return;
        }
        doc = await this.d.store.get(leased._id);
      }
    });
  }

  /** Publishes a view that was written but not published (the writer failed or crashed in between). */
  async publishLeasedView(leased: SlaDoc): Promise<void> {
    await this.d.locks.run(leased._id, async () => {
      const doc = await this.d.store.get(leased._id);
      if (doc?.viewDirty) await this.publishStoredView(doc);
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
      next = { ...next, state: applyPolicyChange(next.state, active.policy, calendarForGroup(active.policy, next.group), new Date(timed.at)) };
      return { next, policySeq: active.seq };
    }
    return { next, policySeq };
  }

  /** Writes the record if nobody wrote since `prev`; then wakes the timer and publishes a changed view. */
  private async commit(prev: SlaDoc | null, record: SlaRecord, opts: CommitOptions): Promise<SlaDoc | null> {
    const now = this.now();
    const state = record.state;
    const view = state === null ? null : slaView(state, now);
    const viewJson = view === null ? null : JSON.stringify(view);
    const wake = state === null ? null : nextWakeAt(state);
    const saved = await this.d.store.write(
      prev,
      {
        _id: record.ticketId,
        record: JSON.stringify(record),
        status: state === null ? "pending" : state.status,
        policySeq: opts.policySeq ?? prev?.policySeq ?? 0,
        nextWakeAt: wake === null ? null : new Date(wake),
        appliedEvents: opts.eventId === undefined ? (prev?.appliedEvents ?? []) : [...(prev?.appliedEvents ?? []), opts.eventId],
        view: viewJson,
        viewDirty: (prev?.viewDirty ?? false) || (viewJson !== null && viewJson !== prev?.view),
        updatedAt: now,
      },
      { ...(opts.releaseLease !== undefined ? { releaseLease: opts.releaseLease } : {}), ...(opts.leaseUntil !== undefined ? { leaseUntil: opts.leaseUntil } : {}) },
    );
    if (saved === null) return null;
    if (saved.nextWakeAt !== null) this.d.onWake(saved.nextWakeAt);
    if (saved.viewDirty && view !== null) await this.publishView(saved, record, view);
    return saved;
  }

  private async publishStoredView(doc: SlaDoc): Promise<void> {
    if (doc.view === null) return;
    await this.publishView(doc, parseRecord(doc), JSON.parse(doc.view) as SlaView);
  }

  private async publishView(doc: SlaDoc, record: SlaRecord, view: SlaView): Promise<void> {
    await this.d.bus.publish(slaUpdatedEvent(record, view, doc.rev, this.now()));
    await this.d.store.markViewPublished(doc._id, doc.rev);
  }
}

function parseRecord(doc: SlaDoc): SlaRecord {
  return JSON.parse(doc.record) as SlaRecord;
}

function snapshot(doc: SlaDoc, record: SlaRecord): SlaSnapshot {
  return {
    ticketId: doc._id,
    status: doc.status,
    ownerId: record.state?.ownerId ?? null,
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
