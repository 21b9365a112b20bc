// Triage's memory: the last decision per ticket (re-triage starts from it) and each customer's recent
// contacts (repeat-contact counting). Both are read and written by _id only, and every write is one
// atomic command: the store serialises writes, so each one costs the whole system.
import { duplicateIndexes, type Collection, type Db } from "@steward/store";
import type { TriageDecision } from "./domain/index.ts";

export interface DecisionDoc {
  _id: string;
  customerId: string;
  subject: string;
  decision: TriageDecision;
  /** the input events the decision answers; a redelivered event finds its answer here */
  eventIds: string[];
  updatedAt: Date;
}

export interface Contact {
  ticketId: string;
  intent: string;
  at: Date;
}

export interface ContactsDoc {
  _id: string;
  /** In the order recorded. A ticket may appear twice (a redelivered first triage records it again). */
  contacts: Contact[];
  /** Counts the writes, so a trim can tell that nothing was recorded since it read the list. */
  version?: number;
}

/** Repeat contacts are counted among this many of the customer's latest contacts. */
export const MAX_REMEMBERED_CONTACTS = 50;
/** Inserts per insertMany (one SQLite transaction each). */
const INSERT_CHUNK = 100;

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

  /**
   * Stores first decisions with insertMany (a duplicate _id does not stop the others) and returns the
   * ticket ids that already had a decision: their events are redeliveries, answered from the stored doc.
   */
  async insertDecisions(docs: DecisionDoc[]): Promise<Set<string>> {
    const existing = new Set<string>();
    const chunks: DecisionDoc[][] = [];
    for (let i = 0; i < docs.length; i += INSERT_CHUNK) chunks.push(docs.slice(i, i + INSERT_CHUNK));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          await this.decisions.insertMany(chunk, { ordered: false });
        } catch (err) {
          for (const i of duplicateIndexes(err, chunk.length)) {
            const doc = chunk[i];
            if (doc) existing.add(doc._id);
          }
        }
      }),
    );
    return existing;
  }

  /** Replaces the decision of a ticket that has one, remembering the events it now answers. */
  async appendDecision(ticketId: string, decision: TriageDecision, eventIds: string[], at: Date): Promise<void> {
    await this.decisions.updateOne(
      { _id: ticketId },
      {
        $set: { decision, updatedAt: at },
        $push: { eventIds: { $each: eventIds } },
      },
    );
  }

  /**
   * Records new contacts of one customer and returns the contacts recorded before them, in one atomic
   * command: two tickets of the same customer triaged at once each see the other at most once, and
   * neither record is lost. FerretDB ignores `$push` `$slice` (and a `$pull` by `{at: {$lt}}` removed
   * nothing when tried), so the list is cut back now and then by a write guarded on the version this push produced.
   */
  async recordContacts(customerId: string, added: Contact[]): Promise<Contact[]> {
    const before = await this.contacts.findOneAndUpdate(
      { _id: customerId },
      { $push: { contacts: { $each: added } }, $inc: { version: 1 } },
      { upsert: true, returnDocument: "before" },
    );
    const previous = before?.contacts ?? [];
    const all = [...previous, ...added];
    if (all.length > 2 * MAX_REMEMBERED_CONTACTS) {
      // Skipped when anything was recorded meanwhile: a later push trims instead.
      await this.contacts.updateOne({ _id: customerId, version: (before?.version ?? 0) + 1 }, { $set: { contacts: latestDistinct(all) }, $inc: { version: 1 } });
    }
    return previous;
  }
}

/** The customer's other tickets among their latest contacts, recorded since `since`, counted by intent. */
export function countRecentByIntent(contacts: readonly Contact[], ticketId: string, since: Date): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of latestDistinct(contacts, ticketId)) {
    if (c.at < since) continue;
    counts[c.intent] = (counts[c.intent] ?? 0) + 1;
  }
  return counts;
}

/** The latest MAX_REMEMBERED_CONTACTS tickets (first record of each, in recorded order), `exclude` left out. */
function latestDistinct(contacts: readonly Contact[], exclude?: string): Contact[] {
  const seen = new Set<string>();
  const distinct: Contact[] = [];
  for (const c of contacts) {
    if (c.ticketId === exclude || seen.has(c.ticketId)) continue;
    seen.add(c.ticketId);
    distinct.push(c);
  }
  return distinct.slice(-MAX_REMEMBERED_CONTACTS);
}
