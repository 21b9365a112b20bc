// Routing's state in the store, the source of truth for its invariants. Hot paths read and write by `_id`
// only (FerretDB scans for any other filter); every change that carries an invariant is one conditional
// update on one document:
//   - a ticket's ownership changes only against the version it was read at (`{_id, version, ...guards}`);
//   - an agent's capacity is a ledger of holds, one per ticket offered to or owned by them, and a `free`
//     counter per channel changed in the same update: a hold is taken only while `free.<ch> > 0`.
// Non-_id queries (`find` over a collection) are for matcher take-over and the outbox sweep only.
import type { Collection, Db } from "@steward/store";
import { ensureIndexes, isDuplicateKeyError } from "@steward/store";
import type { Channel, ChannelCounts, Offer, PassedOffer, Presence, Priority, Reassignment, RelaxationPolicy, SkillRequirement, TicketStatus } from "./domain/index.ts";

export interface HistoryEntry {
  at: number;
  version: number;
  type: string;
  actor: string;
  detail?: Record<string, unknown>;
}

/** An event stored with the change that caused it, published after the write (see outbox.ts). */
export interface OutboxEntry {
  eventId: string;
  topic: string;
  /** The protobuf Envelope, base64. */
  envelope: string;
}

export interface NoEligibleRecord {
  at: number;
  reasons: string[];
  nextRelaxationAt: number | null;
}

/** A helper escalation asked for while nobody with the role was available: added once someone is. */
export interface CollaboratorRequest {
  key: string;
  role: string;
  reason: string;
  at: number;
}

export interface TicketDoc {
  _id: string;
  /** +1 on every change: every write is conditional on the version it read. */
  version: number;
  // What routing knows of the ticket.
  channel: Channel;
  group: string;
  overflowGroup: string | null;
  language: string;
  /** The priority routing orders by: triage's, or higher once escalation raised it. */
  priority: Priority;
  triagePriority: Priority;
  escalatedPriority: Priority | null;
  requiredSkills: SkillRequirement[];
  slaDeadline: number | null;
  slaRevision: number;
  enqueuedAt: number;
  /** Set by escalation's widen_routing; null = the configured default relaxation. */
  relaxation: RelaxationPolicy | null;
  subject: string;
  // Ownership, as the domain's TicketOwnership.
  status: TicketStatus;
  ownerId: string | null;
  lastOwnerId: string | null;
  collaborators: string[];
  pendingOffers: Offer[];
  passedBy: PassedOffer[];
  offersMade: number;
  resolvedAt: number | null;
  lastReassignment: Reassignment | null;
  /** Owned, but outside the owner's load until they are available with a free slot. */
  heldForOwner: boolean;
  /** Every offer ever made for the ticket, oldest first. */
  offerIds: string[];
  /**
   * The most recent offers with their explanations (the routing view), kept on the ticket so an offer costs
   * no write of its own. Absent on tickets stored before; their offers are in `routing_offers`.
   */
  offers?: OfferRecord[];
  noEligible: NoEligibleRecord | null;
  collaboratorRequests: CollaboratorRequest[];
  /** Escalation action keys already applied (idempotency), most recent last. */
  appliedActionKeys: string[];
  history: HistoryEntry[];
  outbox: OutboxEntry[];
  outboxAt: number;
  createdAt: number;
  updatedAt: number;
}

export type HoldKind = "offer" | "owned";

/** One unit of an agent's capacity on a channel, taken for one ticket. */
export interface Hold {
  ticketId: string;
  channel: Channel;
  kind: HoldKind;
  at: number;
}

export interface AgentDoc {
  _id: string;
  version: number;
  name: string;
  groups: string[];
  skills: StoredSkills;
  languages: string[];
  capacity: ChannelCounts;
  /** capacity minus holds, per channel; a hold is taken only while this is > 0. */
  free: ChannelCounts;
  /** holdKey(ticketId) -> hold. */
  holds: Record<string, Hold>;
  presence: Presence;
  presenceChangedAt: number;
  /** Who set the presence: the agent, a supervisor, or "system" (the live stream closed or reopened). Absent on older documents. */
  presenceChangedBy?: string;
  /** Why, when the system set it. */
  presenceReason?: string;
  idleSince: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * Skills as stored: agents name their skills, so a name is a value and never a field name (a name may hold
 * "." or start with "$", which the store reads as paths and operators). Documents written before hold the
 * name -> level object; skillsOf reads both, and the next profile write stores the list.
 */
export type StoredSkills = Array<{ name: string; level: number }> | Record<string, number>;

export function storedSkills(skills: Readonly<Record<string, number>>): Array<{ name: string; level: number }> {
  return Object.entries(skills).map(([name, level]) => ({ name, level }));
}

export function skillsOf(doc: Pick<AgentDoc, "skills">): Record<string, number> {
  return Array.isArray(doc.skills) ? Object.fromEntries(doc.skills.map((s) => [s.name, s.level])) : { ...doc.skills };
}

/** Why this agent: the decision behind one offer, kept on the ticket for the routing view. */
export interface OfferRecord {
  offerId: string;
  agentId: string;
  offeredAt: number;
  expiresAt: number;
  explanation: Record<string, unknown>;
}

/** An offer as stored in `routing_offers` before offers moved onto the ticket: read for older tickets only. */
export interface OfferDoc {
  _id: string;
  ticketId: string;
  agentId: string;
  channel: Channel;
  offeredAt: number;
  expiresAt: number;
  explanation: Record<string, unknown>;
}

export interface LeaseDoc {
  _id: string;
  owner: string;
  leaseUntil: number;
  /** +1 each time the lease changes hands. */
  term: number;
  acquiredAt: number;
  /** Where the holder takes agent commands from the other instances (its peer endpoint). */
  url?: string;
}

/** Escalation input that arrived before the ticket's triage (topics are not ordered against each other). */
export interface TicketHintDoc {
  _id: string;
  slaDeadline: number | null;
  slaRevision: number;
  escalatedPriority: Priority | null;
  widen: { relaxSkills: boolean; addGroups: string[] } | null;
  appliedActionKeys: string[];
}

/**
 * The field name of a ticket's hold: ticket ids may contain "." (a path separator) or start with "$", so
 * everything outside [A-Za-z0-9_-] is escaped as ~hex.
 */
export function holdKey(ticketId: string): string {
  return `t_${ticketId.replace(/[^A-Za-z0-9_-]/g, (c) => `~${c.charCodeAt(0).toString(16)}~`)}`;
}

export const MATCHER_LEASE_ID = "matcher";

export class RoutingStore {
  readonly agents: Collection<AgentDoc>;
  readonly tickets: Collection<TicketDoc>;
  readonly offers: Collection<OfferDoc>;
  readonly leases: Collection<LeaseDoc>;
  readonly hints: Collection<TicketHintDoc>;
  /** The routing log offset the stored tickets reflect (written by the leader after each snapshot). */
  readonly snapshots: Collection<{ _id: string; offset: number; epoch: number; at: number }>;

  constructor(db: Db) {
    this.agents = db.collection<AgentDoc>("routing_agents");
    this.tickets = db.collection<TicketDoc>("routing_tickets");
    this.offers = db.collection<OfferDoc>("routing_offers");
    this.leases = db.collection<LeaseDoc>("routing_leases");
    this.hints = db.collection<TicketHintDoc>("routing_ticket_hints");
    this.snapshots = db.collection("routing_snapshots");
  }

  async init(): Promise<void> {
    // Only the take-over scans and the outbox sweep query by status; on MongoDB this index serves them,
    // the take-over's "resolved since" (resolvedSince) included, which would otherwise read every resolved
    // ticket ever stored. (Installs from before it keep their older { status: 1 } index; it is a prefix of this.)
    await ensureIndexes(this.tickets, [{ key: { status: 1, resolvedAt: 1 }, name: "status_resolvedAt" }]);
  }

  getTicket(ticketId: string): Promise<TicketDoc | null> {
    return this.tickets.findOne({ _id: ticketId });
  }

  /** The store knows nothing without reading. */
  knownResolved(): boolean {
    return false;
  }

  /** False when the ticket exists already (another delivery or instance created it). */
  async insertTicket(doc: TicketDoc): Promise<boolean> {
    try {
      await this.tickets.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  /**
   * Replaces a ticket's state if it is still at `version` (and matches the extra guards, which restate the
   * transition's preconditions): the one conditional update every ownership change goes through.
   */
  async casTicket(next: TicketDoc, expectedVersion: number, guards: Record<string, unknown>): Promise<boolean> {
    const { _id, ...fields } = next;
    const res = await this.tickets.updateOne({ _id, version: expectedVersion, ...guards }, { $set: fields });
    return res.modifiedCount === 1;
  }

  /**
   * Clears published events from the tickets' stored outboxes: one update per ticket, guarded by the
   * version whose outbox was published (a later write replaced it already; not a state change, the version
   * stays), keeping the entries not acknowledged. Not `$pull` by eventId: FerretDB 1.24 matches the
   * document but removes nothing. One statement each: multi-statement commands bypass the store's _id path.
   */
  async dropPublished(published: ReadonlyArray<{ ticketId: string; version: number; keep: readonly OutboxEntry[] }>): Promise<void> {
    for (const { ticketId, version, keep } of published) {
      await this.tickets.updateOne({ _id: ticketId, version }, { $set: { outbox: [...keep] } });
    }
  }

  getAgent(agentId: string): Promise<AgentDoc | null> {
    return this.agents.findOne({ _id: agentId });
  }

  /**
   * Takes one unit of capacity on the ticket's channel for this ticket. Refused when the agent has no free
   * slot, already holds this ticket, or (when `requireAvailable`) is not available.
   */
  async acquireHold(agentId: string, hold: Hold, requireAvailable: boolean): Promise<boolean> {
    const key = holdKey(hold.ticketId);
    const res = await this.agents.updateOne(
      { _id: agentId, ...(requireAvailable ? { presence: "available" } : {}), [`free.${hold.channel}`]: { $gt: 0 }, [`holds.${key}`]: { $exists: false } },
      { $inc: { [`free.${hold.channel}`]: -1, version: 1 }, $set: { [`holds.${key}`]: hold, updatedAt: hold.at } },
    );
    return res.modifiedCount === 1;
  }

  /**
   * Returns the ticket's unit of capacity. A second release (a replay) finds no hold and changes nothing.
   * `busySince` (owned work ending) records when the agent last took work, in the same update: an accept
   * does not write the agent, so this is where the stored idle clock catches up.
   */
  async releaseHold(agentId: string, ticketId: string, channel: Channel, onlyIfAt?: number, busySince?: number): Promise<boolean> {
    const key = holdKey(ticketId);
    const res = await this.agents.updateOne(
      { _id: agentId, [`holds.${key}.channel`]: channel, ...(onlyIfAt === undefined ? {} : { [`holds.${key}.at`]: onlyIfAt }) },
      {
        $inc: { [`free.${channel}`]: 1, version: 1 },
        $unset: { [`holds.${key}`]: "" },
        $set: { updatedAt: Date.now() },
        ...(busySince === undefined ? {} : { $max: { idleSince: busySince } }),
      },
    );
    return res.modifiedCount === 1;
  }

  allAgents(): Promise<AgentDoc[]> {
    return this.agents.find({}).toArray();
  }

  allHints(): Promise<TicketHintDoc[]> {
    return this.hints.find({}).toArray();
  }

  /** Ids of tickets resolved at or after `since` (epoch ms), with when: what a take-over may find resolved and not loaded. */
  async resolvedSince(since: number): Promise<Array<{ _id: string; resolvedAt: number }>> {
    const docs = await this.tickets.find({ status: "resolved", resolvedAt: { $gte: since } }, { projection: { _id: 1, resolvedAt: 1 } }).toArray();
    return docs.map((d) => ({ _id: d._id, resolvedAt: d.resolvedAt ?? since }));
  }

  liveTickets(): Promise<TicketDoc[]> {
    return this.tickets.find({ $or: [{ status: { $in: ["waiting", "owned"] } }, { "outbox.0": { $exists: true } }] }).toArray();
  }

  staleOutboxes(before: number): Promise<TicketDoc[]> {
    return this.tickets.find({ "outbox.0": { $exists: true }, outboxAt: { $lt: before } }).toArray();
  }

  getOffer(offerId: string): Promise<OfferDoc | null> {
    return this.offers.findOne({ _id: offerId });
  }

  getHint(ticketId: string): Promise<TicketHintDoc | null> {
    return this.hints.findOne({ _id: ticketId });
  }

  async putHint(doc: TicketHintDoc): Promise<void> {
    await this.hints.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  async deleteHint(ticketId: string): Promise<void> {
    await this.hints.deleteOne({ _id: ticketId });
  }

  /**
   * Takes or renews the matcher lease: succeeds when this instance holds it or it has expired. Returns the
   * lease as written, or, when another live instance holds it, until when it does (null: it was taken
   * just now, by another instance that won the race).
   */
  async takeLease(owner: string, now: number, leaseMs: number, url?: string): Promise<LeaseDoc | { heldUntil: number | null }> {
    const current = await this.leases.findOne({ _id: MATCHER_LEASE_ID });
    if (current === null) {
      const doc: LeaseDoc = { _id: MATCHER_LEASE_ID, owner, leaseUntil: now + leaseMs, term: 1, acquiredAt: now, ...(url === undefined ? {} : { url }) };
      try {
        await this.leases.insertOne(doc);
        return doc;
      } catch (err) {
        if (isDuplicateKeyError(err)) return { heldUntil: null };
        throw err;
      }
    }
    if (current.owner !== owner && current.leaseUntil > now) return { heldUntil: current.leaseUntil };
    const changesHands = current.owner !== owner;
    const next: LeaseDoc = {
      _id: MATCHER_LEASE_ID,
      owner,
      leaseUntil: now + leaseMs,
      term: changesHands ? current.term + 1 : current.term,
      acquiredAt: changesHands ? now : current.acquiredAt,
      ...(url === undefined ? {} : { url }),
    };
    // Guarded by what was read: two instances racing for an expired lease cannot both win.
    const res = await this.leases.updateOne(
      { _id: MATCHER_LEASE_ID, owner: current.owner, term: current.term, leaseUntil: current.leaseUntil },
      { $set: { owner: next.owner, leaseUntil: next.leaseUntil, term: next.term, acquiredAt: next.acquiredAt, ...(url === undefined ? {} : { url }) } },
    );
    return res.modifiedCount === 1 ? next : { heldUntil: null };
  }

  /** Gives the lease up at a clean shutdown, so another instance takes over at once. */
  async releaseLease(owner: string, term: number): Promise<void> {
    await this.leases.updateOne({ _id: MATCHER_LEASE_ID, owner, term }, { $set: { leaseUntil: 0 } });
  }

  getLease(): Promise<LeaseDoc | null> {
    return this.leases.findOne({ _id: MATCHER_LEASE_ID });
  }
}
