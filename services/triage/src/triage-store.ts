// Triage's memory: the last decision per ticket (re-triage starts from it) and each customer's recent
// contacts (repeat-contact counting). Both are read and written by _id only.
import type { Collection, Db } from "@steward/store";
import type { TriageDecision } from "./domain/index.ts";

export interface DecisionDoc {
  _id: string;
  customerId: string;
  subject: string;
  decision: TriageDecision;
  /** the input event the decision answers; a redelivered event finds its answer here */
  eventIds: string[];
  updatedAt: Date;
}

export interface ContactsDoc {
  _id: string;
  contacts: Array<{ ticketId: string; intent: string; at: Date }>;
}

const MAX_REMEMBERED_CONTACTS = 50;

export class TriageStore {
  readonly decisions: Collection<DecisionDoc>;
  readonly contacts: Collection<ContactsDoc>;

  constructor(db: Db) {
    this.decisions = db.collection<DecisionDoc>("triage_decisions");
    this.contacts = db.collection<ContactsDoc>("triage_contacts");
  }

  getDecision(ticketId: string): Promise<DecisionDoc | null> {
    return this.decisions.findOne({ _id: ticketId });
  }

  async saveDecision(ticketId: string, customerId: string, decision: TriageDecision, eventId: string, at: Date, subject: string): Promise<void> {
    await this.decisions.updateOne(
      { _id: ticketId },
      { $set: { customerId, subject, decision, updatedAt: at }, $push: { eventIds: eventId } },
      { upsert: true },
    );
  }

  /** The customer's other tickets in the window, counted by intent. */
  async recentContactsByIntent(customerId: string, ticketId: string, since: Date): Promise<Record<string, number>> {
    const doc = await this.contacts.findOne({ _id: customerId });
    const counts: Record<string, number> = {};
    for (const c of doc?.contacts ?? []) {
      if (c.ticketId === ticketId || c.at < since) continue;
      counts[c.intent] = (counts[c.intent] ?? 0) + 1;
    }
    return counts;
  }

  /** Remembers this ticket as a contact of the customer (once per ticket; the newest few are kept). */
  async recordContact(customerId: string, ticketId: string, intent: string, at: Date): Promise<void> {
    const doc = await this.contacts.findOne({ _id: customerId });
    const others = (doc?.contacts ?? []).filter((c) => c.ticketId !== ticketId);
    const contacts = [...others, { ticketId, intent, at }].slice(-MAX_REMEMBERED_CONTACTS);
    await this.contacts.updateOne({ _id: customerId }, { $set: { contacts } }, { upsert: true });
  }
}
