// The ticket view that GET /v1/tickets/{id} answers from, and intake's delivery (idempotency) records.
// The view is written by intake when it accepts a message and by the projector from other services'
// events; each write is conditional so replays and re-deliveries change nothing twice.
import type { Collection, Db } from "@steward/store";
import { isDuplicateKeyError } from "@steward/store";
import { topicThreadKey, type ChannelName, type CustomerRef } from "./domain/submission.ts";

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
}

export interface HistoryEntry {
  eventId: string;
  type: string;
  at: Date;
  actor?: string;
  detail?: Record<string, unknown>;
}

export type TicketStatus = "new" | "triaged" | "waiting" | "offered" | "assigned" | "resolved";

export interface TicketDoc {
  _id: string;
  status: TicketStatus;
  channel: ChannelName;
  customer: CustomerRef;
  subject: string | null;
  topic: string | null;
  language: string | null;
  intent: string | null;
  priority: string | null;
  group: string | null;
  requiredSkills: Array<{ name: string; minLevel: number; optional: boolean }>;
  ownerId: string | null;
  lastOwnerId: string | null;
  collaborators: string[];
  triage: Record<string, unknown> | null;
  sla: Record<string, unknown> | null;
  metadata: Record<string, string>;
  channelRefs: Record<string, string>;
  messageCount: number;
  messages: StoredMessage[];
  history: HistoryEntry[];
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryDoc {
  _id: string;
  ticketId: string;
  messageId: string;
  kind: "ticket" | "message";
  /** The encoded envelope, so a re-delivery after a failed publish sends exactly the same event. */
  envelope: Buffer;
  published: boolean;
  /** Thread keys to point at the ticket once the event is out (kept so a re-delivery links the same). */
  threadLinks?: string[];
  /** A follow-up's signature block, for the view (message.received does not carry one). */
  signature?: string;
  createdAt: Date;
}

/** Finds a ticket by a channel thread id or by (customer, topic); every lookup is by _id. */
export interface ThreadDoc {
  _id: string;
  ticketId: string;
  updatedAt: Date;
}

export class TicketStore {
  readonly tickets: Collection<TicketDoc>;
  readonly deliveries: Collection<DeliveryDoc>;
  readonly threads: Collection<ThreadDoc>;

  constructor(db: Db) {
    this.tickets = db.collection<TicketDoc>("intake_tickets");
    this.deliveries = db.collection<DeliveryDoc>("intake_deliveries");
    this.threads = db.collection<ThreadDoc>("intake_threads");
  }

  async init(): Promise<void> {
    // Nothing to index: tickets, deliveries and threads are all read by _id (the only lookup that
    // stays fast on FerretDB/SQLite as collections grow).
  }

  /** Points thread keys at a ticket (last writer wins: a newer ticket on the same topic takes over). */
  async linkThreads(ticketId: string, keys: string[], at: Date): Promise<void> {
    for (const key of keys) {
      await this.threads.updateOne({ _id: key }, { $set: { ticketId, updatedAt: at } }, { upsert: true });
    }
  }

  get(id: string): Promise<TicketDoc | null> {
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

  async markPublished(key: string): Promise<void> {
    await this.deliveries.updateOne({ _id: key }, { $set: { published: true } });
  }

  async findByThreadKey(key: string): Promise<TicketDoc | null> {
    const link = await this.threads.findOne({ _id: key });
    return link ? this.get(link.ticketId) : null;
  }

  /** The ticket of the first key that leads to one. */
  async findByAnyThreadKey(keys: readonly string[]): Promise<TicketDoc | null> {
    for (const key of keys) {
      const ticket = await this.findByThreadKey(key);
      if (ticket) return ticket;
    }
    return null;
  }

  /** The customer's open ticket on the same topic, if it moved since `since`. */
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

  /** Creates the view of a new ticket; a second call for the same ticket changes nothing. */
  async createTicket(doc: TicketDoc): Promise<void> {
    try {
      await this.tickets.insertOne(doc);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  async appendMessage(ticketId: string, message: StoredMessage, history: HistoryEntry): Promise<void> {
    await this.tickets.updateOne(
      { _id: ticketId, "messages.id": { $ne: message.id } },
      { $push: { messages: message, history }, $set: { updatedAt: message.at } },
    );
  }

  /** Applies a projected change once per event id. */
  async applyEvent(ticketId: string, entry: HistoryEntry, set: Partial<TicketDoc>, opts: { onlyIfStatusIn?: TicketStatus[]; addCollaborator?: string } = {}): Promise<void> {
    const base = { _id: ticketId, "history.eventId": { $ne: entry.eventId } };
    // The history line is always written; the status-changing part only when the guard allows it,
    // because events from different topics may arrive out of order.
    const { status, ...rest } = set;
    const update: Record<string, unknown> = {
      $push: { history: entry },
      $set: { ...rest, updatedAt: new Date() },
    };
    if (opts.addCollaborator) update["$addToSet"] = { collaborators: opts.addCollaborator };
    await this.tickets.updateOne(base, update);
    if (status !== undefined) {
      const filter: Record<string, unknown> = { _id: ticketId };
      if (opts.onlyIfStatusIn) filter["status"] = { $in: opts.onlyIfStatusIn };
      await this.tickets.updateOne(filter, { $set: { status } });
    }
  }

  /**
   * Shows an SLA view unless a newer one is already shown: two escalation instances may publish one
   * ticket's views close together, and the later revision must win whatever the arrival order.
   */
  async applySlaView(ticketId: string, sla: Record<string, unknown> & { revision: number }): Promise<void> {
    await this.tickets.updateOne(
      { _id: ticketId, $or: [{ sla: null }, { "sla.revision": { $lt: sla.revision } }] },
      { $set: { sla } },
    );
  }
}

export { topicThreadKey, channelThreadKey } from "./domain/submission.ts";
