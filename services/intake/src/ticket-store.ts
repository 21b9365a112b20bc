// The ticket view that GET /v1/tickets/{id} answers from, and intake's delivery (idempotency) records.
// The view is written by intake when it accepts a message and by the projector from other services'
// events; each write is conditional so replays and re-deliveries change nothing twice. An event that
// reaches the projector before the ticket's own view exists is parked in a stub (ADR 0015).
import type { Collection, Db } from "@steward/store";
import { duplicateIndexes, isDuplicateKeyError } from "@steward/store";
import { topicThreadKey, type ChannelName, type CustomerRef } from "./domain/submission.ts";
import { emptyProjection, projectedFieldsOf, type FoldResult, type HistoryEntry, type ProjectedFields } from "./domain/ticket-view.ts";
import { referenceThreadKey, type IdentityKey } from "./domain/customer-identity.ts";

export interface StoredMessage {
  id: string;
  externalId: string;
  channel: ChannelName;
  from: "customer" | "agent";
  body: string;
  quotedText?: string;
  signature?: string;
  /** The channel's ids for this message (e-mail Message-ID, call id, callback number...). */
  channelRefs?: Record<string, string>;
  sequence: number;
  at: Date;
  /** An agent's message: "public" went to the customer, "internal" is a note only agents see. */
  visibility?: "public" | "internal";
  /** The agent who wrote it (from = "agent"). */
  agentId?: string;
  /** The customer's message an agent's reply answers. */
  inReplyToMessageId?: string;
}

export type { HistoryEntry, TicketStatus } from "./domain/ticket-view.ts";

/** The ticket view: what intake stores itself, plus the fields the projector folds from other services' events. */
export interface TicketDoc extends ProjectedFields {
  _id: string;
  channel: ChannelName;
  customer: CustomerRef;
  subject: string | null;
  topic: string | null;
  metadata: Record<string, string>;
  channelRefs: Record<string, string>;
  /** The integration that submitted the ticket: it may read it and add messages (absent on old views). */
  integrationId?: string;
  /** The customer record (intake_customers) of whoever opened it: the same person on another channel joins it. */
  customerId?: string;
  messageCount: number;
  messages: StoredMessage[];
  history: HistoryEntry[];
  createdAt: Date;
  updatedAt: Date;
  /**
   * Bumped by every projector write, which is guarded by it (read, fold, write if unchanged). Intake's
   * own writes (messages, sequence, their history lines) commute with the projector's and leave it alone.
   */
  viewRevision?: number;
}

/**
 * What the projector stores for a ticket whose view is not written yet (its events came first): the
 * projected fields and history only. Readers treat it as no ticket; creating the view fills it in.
 */
export interface TicketStub extends ProjectedFields {
  _id: string;
  stub: true;
  history: HistoryEntry[];
  viewRevision: number;
  updatedAt: Date;
}

/** Either a whole view or a stub, as the projector reads it. */
export type StoredView = TicketDoc | TicketStub;

export function isStub(doc: StoredView): doc is TicketStub {
  return (doc as Partial<TicketStub>).stub === true;
}

export interface DeliveryDoc {
  _id: string;
  ticketId: string;
  messageId: string;
  kind: "ticket" | "message";
  /** The encoded envelope, so a re-delivery after a failed publish sends exactly the same event. */
  envelope: Buffer;
  /**
   * Written only by earlier versions. Now the ticket view itself says whether the event went out: it is
   * written only after the publish succeeded (see IntakePipeline.redeliver).
   */
  published?: boolean;
  /** Thread keys to point at the ticket once the event is out (kept so a re-delivery links the same). */
  threadLinks?: string[];
  /** A follow-up's signature block, for the view (message.received does not carry one). */
  signature?: string;
  /** The customer record and hashed keys to link once the event is out (a re-delivery links the same). */
  customerId?: string;
  customerKeys?: IdentityKey[];
  createdAt: Date;
}

/** Finds a ticket by a channel thread id or by (customer, topic); every lookup is by _id. */
export interface ThreadDoc {
  _id: string;
  ticketId: string;
  updatedAt: Date;
}

export class TicketStore {
  readonly db: Db;
  readonly tickets: Collection<TicketDoc>;
  readonly deliveries: Collection<DeliveryDoc>;
  readonly threads: Collection<ThreadDoc>;

  constructor(db: Db) {
    this.db = db;
    this.tickets = db.collection<TicketDoc>("intake_tickets");
    this.deliveries = db.collection<DeliveryDoc>("intake_deliveries");
    this.threads = db.collection<ThreadDoc>("intake_threads");
  }

  async init(): Promise<void> {
    // Nothing to index: tickets, deliveries and threads are all read by _id (the only lookup that
    // stays fast on FerretDB/SQLite as collections grow).
  }

  /**
   * Points thread keys at a ticket (last writer wins: a newer ticket on the same topic takes over).
   * Most keys are new, and inserts are cheap on FerretDB where updates are not: insert them all in one
   * command, then move only the keys that already existed.
   */
  linkThreads(ticketId: string, keys: string[], at: Date): Promise<void> {
    return this.linkThreadsOfMany([{ ticketId, keys, at }]);
  }

  /** linkThreads for several tickets in one insert; a key named twice goes to the later ticket. */
  async linkThreadsOfMany(links: ReadonlyArray<{ ticketId: string; keys: readonly string[]; at: Date }>): Promise<void> {
    const docs = links.flatMap((l) => l.keys.map((key) => ({ _id: key, ticketId: l.ticketId, updatedAt: l.at })));
    if (docs.length === 0) return;
    let taken: number[] = [];
    try {
      await this.threads.insertMany(docs, { ordered: false });
    } catch (err) {
      taken = duplicateIndexes(err, docs.length);
    }
    for (const i of taken) {
      const doc = docs[i] as ThreadDoc;
      await this.threads.updateOne({ _id: doc._id }, { $set: { ticketId: doc.ticketId, updatedAt: doc.updatedAt } }, { upsert: true });
    }
  }

  /** The ticket's view; null also while only a stub of it exists. */
  async get(id: string): Promise<TicketDoc | null> {
    const doc = await this.getStored(id);
    return doc === null || isStub(doc) ? null : doc;
  }

  /** The view or its stub, for the projector. */
  getStored(id: string): Promise<StoredView | null> {
    return this.tickets.findOne({ _id: id });
  }

  findDelivery(key: string): Promise<DeliveryDoc | null> {
    return this.deliveries.findOne({ _id: key });
  }

  /** Records a delivery once; false when another request recorded the same key first. */
  async recordDelivery(doc: DeliveryDoc): Promise<boolean> {
    try {
      await this.deliveries.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async findByThreadKey(key: string): Promise<TicketDoc | null> {
    const link = await this.threads.findOne({ _id: key });
    return link ? this.get(link.ticketId) : null;
  }

  /** The ticket an ST-… reference names (canonical form, see parseReference). */
  findByReference(reference: string): Promise<TicketDoc | null> {
    return this.findByThreadKey(referenceThreadKey(reference));
  }

  /** The customer's (the customer record's) open ticket on the same topic, if it moved since `since`. */
  async findOpenOnTopic(customerId: string, topic: string, since: Date): Promise<TicketDoc | null> {
    const link = await this.threads.findOne({ _id: topicThreadKey(customerId, topic) });
    if (!link || link.updatedAt < since) return null;
    const ticket = await this.get(link.ticketId);
    return ticket && ticket.status !== "resolved" ? ticket : null;
  }

  /** Reserves the next message sequence number of a ticket. */
  async nextSequence(ticketId: string): Promise<number | undefined> {
    const res = await this.tickets.findOneAndUpdate({ _id: ticketId }, { $inc: { messageCount: 1 } }, { returnDocument: "after" });
    return res?.messageCount;
  }

  /**
   * Creates the view of a new ticket; a second call for the same ticket changes nothing. When the
   * projector parked the ticket's first events in a stub, the stub keeps its projected fields and
   * history, and gets everything else (and the creation's history lines first). True when this call
   * wrote `doc` as it is.
   */
  async createTicket(doc: TicketDoc): Promise<boolean> {
    const [created] = await this.createTickets([{ doc, whenTaken: doc }]);
    return created === true;
  }

  /**
   * Creates several views in one insert. A view whose id is taken (a stub, or a view written already)
   * gets its `whenTaken` form merged as createTicket does. Says, per view, whether `doc` went in as it is.
   */
  async createTickets(views: ReadonlyArray<{ doc: TicketDoc; whenTaken: TicketDoc }>): Promise<boolean[]> {
    if (views.length === 0) return [];
    let taken: number[] = [];
    try {
      await this.tickets.insertMany(
        views.map((v) => v.doc),
        { ordered: false },
      );
    } catch (err) {
      taken = duplicateIndexes(err, views.length);
    }
    for (const i of taken) await this.fillStub((views[i] as { whenTaken: TicketDoc }).whenTaken);
    const refused = new Set(taken);
    return views.map((_, i) => !refused.has(i));
  }

  /** Turns a stub into the whole view (a rare path: read, merge, replace if unchanged, else again). */
  async fillStub(doc: TicketDoc): Promise<void> {
    for (;;) {
      const stub = await this.getStored(doc._id);
      if (stub === null || !isStub(stub)) return;
      const merged: TicketDoc = {
        ...doc,
        ...projectedFieldsOf(stub),
        history: [...doc.history, ...stub.history.filter((h) => !doc.history.some((d) => d.eventId === h.eventId))],
        // A projector holding the stub must read again before it writes.
        viewRevision: stub.viewRevision + 1,
        updatedAt: stub.updatedAt > doc.updatedAt ? stub.updatedAt : doc.updatedAt,
      };
      const res = await this.tickets.replaceOne({ _id: doc._id, viewRevision: stub.viewRevision }, merged);
      if (res.matchedCount === 1) return;
    }
  }

  /** Parks events that came before the ticket's view as a stub; false when a view or stub exists already. */
  async createStub(ticketId: string, fold: FoldResult, at: Date): Promise<boolean> {
    const stub: TicketStub = { _id: ticketId, stub: true, ...emptyProjection(), ...fold.set, history: fold.entries, viewRevision: 1, updatedAt: at };
    try {
      await this.tickets.insertOne(stub as never);
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async appendMessage(ticketId: string, message: StoredMessage, history: HistoryEntry): Promise<void> {
    await this.tickets.updateOne({ _id: ticketId, "messages.id": { $ne: message.id } }, { $push: { messages: message, history }, $set: { updatedAt: message.at } });
  }

  /**
   * Writes a folded batch of projected events, if the view is still at `revision` (the projector's
   * optimistic guard); false when another projector write came first (read again and re-fold).
   */
  async writeProjection(ticketId: string, revision: number | undefined, fold: FoldResult, at: Date): Promise<boolean> {
    if (fold.entries.length === 0) return true;
    const res = await this.tickets.updateOne(
      { _id: ticketId, viewRevision: revision === undefined ? { $exists: false } : revision },
      {
        $set: { ...fold.set, updatedAt: at, viewRevision: (revision ?? 0) + 1 },
        $push: { history: { $each: fold.entries } },
      },
    );
    return res.matchedCount === 1;
  }
}

export { topicThreadKey, channelThreadKey } from "./domain/submission.ts";
