// Escalation's durable state: one SLA document per ticket (its record, the next timer wake-up, a
// lease so one instance at a time performs its actions, and a revision for optimistic concurrency),
// the record of every action performed (unique key: an action is claimed once), and the active policy.
// Documents are written one at a time (timer work, agent commands) or many at once (the write-behind
// flush of the consumed inputs): both are conditional on the revision the writer started from.
import { randomUUID } from "node:crypto";
import type { Collection, Db } from "@steward/store";
import { ensureIndexes, isDuplicateKeyError } from "@steward/store";

export type SlaStatus = "pending" | "open" | "resolved";

export interface SlaDoc {
  /** The ticket id. */
  _id: string;
  /** The SlaRecord as JSON: stored as text so no instant, number or key changes on the way. */
  record: string;
  status: SlaStatus;
  /** Grows by one with every write of the record: writes are conditional on the revision read. */
  rev: number;
  /** Activation sequence of the policy the clocks follow; 0 before the SLA starts. */
  policySeq: number;
  /** When the timer must next look at the ticket; null when nothing is pending. */
  nextWakeAt: Date | null;
  leaseUntil: Date;
  leaseOwner: string | null;
  /** Ids of the latest input events applied, so a re-delivered event changes nothing. */
  appliedEvents: string[];
  /** The last view computed, as JSON; null before the SLA starts. */
  view: string | null;
  /** The view of this revision may not be on Kafka yet. */
  viewDirty: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** The flush that wrote this revision (one id for all the documents it wrote). */
  writeId?: string;
}

/** The fields a writer sets; the store adds `rev`, the lease and the timestamps. */
export type SlaFields = Omit<SlaDoc, "_id" | "rev" | "createdAt" | "leaseUntil" | "leaseOwner" | "writeId"> & { _id: string };

/** One document of a bulk write: the revision it starts from (null: a ticket not stored yet) and what to set. */
export interface SlaWrite {
  prev: SlaDoc | null;
  next: SlaFields;
}

/** A published view whose flag may be cleared, if the document is still at that revision. */
export interface ViewMark {
  ticketId: string;
  rev: number;
}

export type ActionStatus = "claimed" | "published";

export interface ActionDoc {
  /** The action key `${ticketId}:${source}:${kind}:${level}:${policyVersion}`. */
  _id: string;
  ticketId: string;
  /** The DueAction as JSON, as decided when first claimed. */
  action: string;
  /** The encoded envelopes, so a retry after a crash publishes exactly the same events. */
  events: Array<{ topic: string; envelope: Buffer }>;
  status: ActionStatus;
  owner: string;
  claimedAt: Date;
  publishedAt: Date | null;
}

export interface PolicyDoc {
  _id: "active";
  version: string;
  /** The policy document as JSON text. */
  document: string;
  /** Grows by one with every activation: tickets on a lower sequence are recomputed, never the reverse. */
  seq: number;
  activatedAt: Date;
  activatedBy: string;
}

/** How claiming an action key went. */
export type ActionClaim =
  | { readonly outcome: "claimed"; readonly doc: ActionDoc }
  /** Another attempt already published it: only record it as done. */
  | { readonly outcome: "published"; readonly doc: ActionDoc }
  /** An attempt claimed it and did not finish (a crash): publish the stored events again. */
  | { readonly outcome: "unfinished"; readonly doc: ActionDoc }
  /** Another instance is performing it right now: come back later. */
  | { readonly outcome: "busy" };

type UpdatedFields = Pick<SlaDoc, "record" | "status" | "rev" | "policySeq" | "nextWakeAt" | "appliedEvents" | "view" | "viewDirty" | "updatedAt" | "writeId">;

/** What the timers' sweep reads of a ticket. */
export type SweptSla = Pick<SlaDoc, "_id" | "rev" | "nextWakeAt" | "leaseUntil" | "status" | "policySeq" | "viewDirty" | "updatedAt">;

const NO_LEASE = new Date(0);
/** Input event ids remembered per ticket; redeliveries come within a few events of the original. */
const APPLIED_EVENTS_KEPT = 200;
/** Updates of one flush sent at once. */
const UPDATES_IN_FLIGHT = 4;
/** Documents per insert command. */
const INSERT_CHUNK = 500;

export class SlaStore {
  readonly slas: Collection<SlaDoc>;
  readonly actions: Collection<ActionDoc>;
  readonly policies: Collection<PolicyDoc>;

  constructor(db: Db) {
    this.slas = db.collection<SlaDoc>("escalation_slas");
    this.actions = db.collection<ActionDoc>("escalation_actions");
    this.policies = db.collection<PolicyDoc>("escalation_policy");
  }

  async init(): Promise<void> {
    await ensureIndexes(this.slas, [
      { key: { nextWakeAt: 1 }, name: "next_wake" },
      { key: { status: 1, policySeq: 1 }, name: "status_policy_seq" },
      { key: { viewDirty: 1 }, name: "view_dirty" },
    ]);
    await ensureIndexes(this.actions, [{ key: { ticketId: 1 }, name: "ticket" }]);
  }

  get(ticketId: string): Promise<SlaDoc | null> {
    return this.slas.findOne({ _id: ticketId });
  }

  /** Writes a new revision. False when another writer got there first (reload and try again). */
  async write(prev: SlaDoc | null, next: SlaFields, opts: { releaseLease?: boolean; leaseUntil?: Date } = {}): Promise<SlaDoc | null> {
    const now = new Date();
    const appliedEvents = next.appliedEvents.slice(-APPLIED_EVENTS_KEPT);
    if (prev === null) {
      const doc: SlaDoc = {
        ...next,
        appliedEvents,
        rev: 1,
        leaseUntil: NO_LEASE,
        leaseOwner: null,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await this.slas.insertOne(doc);
        return doc;
      } catch (err) {
        if (isDuplicateKeyError(err)) return null;
        throw err;
      }
    }
    const lease = opts.leaseUntil !== undefined ? { leaseUntil: opts.leaseUntil } : opts.releaseLease === true ? { leaseUntil: NO_LEASE, leaseOwner: null } : {};
    const fields = {
      record: next.record,
      status: next.status,
      rev: prev.rev + 1,
      policySeq: next.policySeq,
      nextWakeAt: next.nextWakeAt,
      appliedEvents,
      view: next.view,
      viewDirty: next.viewDirty,
      updatedAt: now,
      ...lease,
    };
    const result = await this.slas.updateOne({ _id: prev._id, rev: prev.rev }, { $set: fields });
    if (result.matchedCount !== 1) return null;
    return { ...prev, ...fields };
  }

  /**
   * Writes many documents at once: one insert command for all new tickets, and a `{_id, rev}`-guarded
   * update for each of the others, sent together; also clears the flags of published views. Answers
   * per write: the new revision, or null when another writer got there first (read it again and
   * redo). Throws when the store fails; then any part may have been written, and each ticket's next
   * write finds out which by its revision guard.
   */
  async writeMany(writes: readonly SlaWrite[], marks: readonly ViewMark[] = []): Promise<Array<SlaDoc | null>> {
    const now = new Date();
    const writeId = randomUUID();
    const out: Array<SlaDoc | null> = writes.map(() => null);
    const inserts: Array<{ i: number; doc: SlaDoc }> = [];
    const updates: Array<{ i: number; prev: SlaDoc; fields: UpdatedFields }> = [];
    writes.forEach(({ prev, next }, i) => {
      const appliedEvents = next.appliedEvents.slice(-APPLIED_EVENTS_KEPT);
      if (prev === null) {
        inserts.push({ i, doc: { ...next, appliedEvents, rev: 1, leaseUntil: NO_LEASE, leaseOwner: null, createdAt: now, updatedAt: now, writeId } });
        return;
      }
      const fields: UpdatedFields = {
        record: next.record,
        status: next.status,
        rev: prev.rev + 1,
        policySeq: next.policySeq,
        nextWakeAt: next.nextWakeAt,
        appliedEvents,
        view: next.view,
        viewDirty: next.viewDirty,
        updatedAt: now,
        writeId,
      };
      updates.push({ i, prev, fields });
    });
    for (let at = 0; at < inserts.length; at += INSERT_CHUNK) {
      const chunk = inserts.slice(at, at + INSERT_CHUNK);
      const refused = new Set<number>();
      try {
        await this.slas.insertMany(
          chunk.map((c) => c.doc),
          { ordered: false },
        );
      } catch (err) {
        const duplicates = duplicateKeyIndexes(err);
        if (duplicates === null) throw err;
        for (const k of duplicates) refused.add(k);
      }
      chunk.forEach((c, k) => {
        if (!refused.has(k)) out[c.i] = c.doc;
      });
    }
    // Each update is a command of its own: FerretDB's relay answers a single-statement `{_id, rev}`
    // filter through an `_id` lookup, but scans the collection for every statement of a
    // multi-statement update (ADR 0016). A few at a time: the database takes one write at a time
    // anyway, and a burst of them slows every other database's writes in the same store process.
    const updated: Array<{ matchedCount: number }> = [];
    for (let at = 0; at < updates.length; at += UPDATES_IN_FLIGHT) {
      const chunk = updates.slice(at, at + UPDATES_IN_FLIGHT);
      updated.push(...(await Promise.all(chunk.map(({ prev, fields }) => this.slas.updateOne({ _id: prev._id, rev: prev.rev }, { $set: fields })))));
    }
    for (let at = 0; at < marks.length; at += UPDATES_IN_FLIGHT) {
      const chunk = marks.slice(at, at + UPDATES_IN_FLIGHT);
      await Promise.all(chunk.map((m) => this.slas.updateOne({ _id: m.ticketId, rev: m.rev, viewDirty: true }, { $set: { viewDirty: false } })));
    }
    updates.forEach((u, k) => {
      if (updated[k]?.matchedCount === 1) out[u.i] = { ...u.prev, ...u.fields };
    });
    return out;
  }

  /**
   * Leases a ticket whose timer is due, by `_id` and conditional on the revision the caller holds (a
   * filter on anything but `_id` scans the whole collection on FerretDB). Null when the ticket changed
   * or is leased: read it again.
   */
  async leaseDue(doc: SlaDoc, now: Date, owner: string, leaseMs: number): Promise<SlaDoc | null> {
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const result = await this.slas.updateOne({ _id: doc._id, rev: doc.rev, leaseUntil: { $lt: now } }, { $set: { leaseUntil, leaseOwner: owner } });
    return result.matchedCount === 1 ? { ...doc, leaseUntil, leaseOwner: owner } : null;
  }

  /**
   * The timers' safety net, one read (no write lock): tickets due before `horizon`, open tickets on a
   * policy activation older than `seq`, and views left unpublished since `dirtyBefore`. Only the fields
   * the timer needs; the work itself leases each ticket by `_id`.
   */
  sweep(horizon: Date, seq: number, dirtyBefore: Date, limit: number): Promise<SweptSla[]> {
    return this.slas
      .find(
        {
          $or: [{ nextWakeAt: { $lte: horizon } }, { status: "open", policySeq: { $lt: seq } }, { viewDirty: true, updatedAt: { $lt: dirtyBefore } }],
        },
        {
          projection: {
            _id: 1,
            rev: 1,
            nextWakeAt: 1,
            leaseUntil: 1,
            status: 1,
            policySeq: 1,
            viewDirty: 1,
            updatedAt: 1,
          },
          sort: { nextWakeAt: 1 },
          limit,
        },
      )
      .toArray();
  }

  /** Leases one open ticket still on an older policy activation than `seq`. */
  claimOlderPolicy(seq: number, now: Date, owner: string, leaseMs: number): Promise<SlaDoc | null> {
    return this.lease({ status: "open", policySeq: { $lt: seq }, leaseUntil: { $lt: now } }, now, owner, leaseMs);
  }

  /** Leases one ticket whose latest view was written but not published for `graceMs` (a crash between the two). */
  claimUnpublishedView(now: Date, graceMs: number, owner: string, leaseMs: number): Promise<SlaDoc | null> {
    return this.lease(
      {
        viewDirty: true,
        updatedAt: { $lt: new Date(now.getTime() - graceMs) },
        leaseUntil: { $lt: now },
      },
      now,
      owner,
      leaseMs,
    );
  }

  private lease(filter: Record<string, unknown>, now: Date, owner: string, leaseMs: number): Promise<SlaDoc | null> {
    // Without a projection: FerretDB 1.24's findAndModify rejects projections.
    return this.slas.findOneAndUpdate(
      filter,
      {
        $set: {
          leaseUntil: new Date(now.getTime() + leaseMs),
          leaseOwner: owner,
        },
      },
      { returnDocument: "after", sort: { nextWakeAt: 1 } },
    );
  }

  /** Gives a leased ticket back, to be looked at again from `retryAt` (a failed attempt). */
  async releaseLease(ticketId: string, owner: string, retryAt: Date): Promise<void> {
    await this.slas.updateOne({ _id: ticketId, leaseOwner: owner }, { $set: { leaseUntil: retryAt, leaseOwner: null } });
  }

  /**
   * Claims an action key before anything is published. The unique `_id` lets one attempt win; a claim
   * left unfinished by a crashed instance is taken over once its lease has run out.
   */
  async claimAction(fresh: Omit<ActionDoc, "status" | "publishedAt">, leaseMs: number): Promise<ActionClaim> {
    const doc: ActionDoc = { ...fresh, status: "claimed", publishedAt: null };
    try {
      await this.actions.insertOne(doc);
      return { outcome: "claimed", doc };
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const existing = await this.actions.findOne({ _id: fresh._id });
    if (existing === null) return { outcome: "busy" };
    if (existing.status === "published") return { outcome: "published", doc: existing };
    const stale = existing.owner === fresh.owner || existing.claimedAt.getTime() + leaseMs < fresh.claimedAt.getTime();
    if (!stale) return { outcome: "busy" };
    const taken = await this.actions.updateOne(
      {
        _id: fresh._id,
        status: "claimed",
        owner: existing.owner,
        claimedAt: existing.claimedAt,
      },
      { $set: { owner: fresh.owner, claimedAt: fresh.claimedAt } },
    );
    return taken.matchedCount === 1
      ? {
          outcome: "unfinished",
          doc: { ...existing, owner: fresh.owner, claimedAt: fresh.claimedAt },
        }
      : { outcome: "busy" };
  }

  async markActionPublished(key: string): Promise<void> {
    await this.actions.updateOne({ _id: key }, { $set: { status: "published", publishedAt: new Date() } });
  }

  actionsOf(ticketId: string): Promise<ActionDoc[]> {
    return this.actions.find({ ticketId }).toArray();
  }
}

/**
 * The positions an unordered bulk insert refused as duplicate keys (those tickets were stored by someone
 * else first), or null when the error is anything else (the driver's MongoBulkWriteError, duck-typed so
 * this package needs no driver import of its own).
 */
function duplicateKeyIndexes(err: unknown): number[] | null {
  if (typeof err !== "object" || err === null || !("writeErrors" in err)) return null;
  const raw = err.writeErrors;
  const errors = (Array.isArray(raw) ? raw : [raw]) as Array<{ code?: unknown; index?: unknown }>;
  if (errors.length === 0 || errors.some((e) => e.code !== 11000 || typeof e.index !== "number")) return null;
  return errors.map((e) => e.index as number);
}
