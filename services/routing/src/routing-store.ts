// Routing's state in the store. Every change that carries an invariant is one conditional update:
// an agent's free capacity never goes below zero, a ticket gets at most one owner, an offer is
// accepted at most once. Two routing instances may race; the store decides who wins.
import type { Collection, Db } from "@steward/store";
import { ensureIndexes, isDuplicateKeyError } from "@steward/store";

export type Presence = "available" | "away" | "offline";
export type ChannelName = "email" | "chat" | "phone" | "social" | "web" | "api";

export interface AgentDoc {
  _id: string;
  name: string;
  groups: string[];
  skills: Record<string, number>;
  languages: string[];
  capacity: Record<string, number>;
  /** capacity minus the work offered to or owned by the agent, per channel */
  free: Record<string, number>;
  /** bumped by every change of free capacity: profile edits apply only against the version they read */
  capVersion: number;
  presence: Presence;
  presenceChangedAt: Date;
  idleSince: Date;
  updatedAt: Date;
}

export type TicketState = "waiting" | "offered" | "assigned" | "resolved";

export interface RoutingTicketDoc {
  _id: string;
  state: TicketState;
  channel: ChannelName;
  group: string;
  overflowGroup: string | null;
  language: string;
  priority: number;
  requiredSkills: Array<{ name: string; minLevel: number; optional: boolean }>;
  slaDeadline: Date | null;
  subject: string;
  enqueuedAt: Date;
  ownerId: string | null;
  lastOwnerId: string | null;
  collaborators: string[];
  /** agents who declined or let an offer expire, not offered again while anyone else is eligible */
  passedBy: string[];
  openOfferIds: string[];
  relaxationLevel: number;
  resolvedAt: Date | null;
  updatedAt: Date;
}

export type OfferStatus = "open" | "accepted" | "declined" | "expired" | "withdrawn";

export interface OfferDoc {
  _id: string;
  ticketId: string;
  agentId: string;
  channel: ChannelName;
  status: OfferStatus;
  createdAt: Date;
  expiresAt: Date;
  closedAt: Date | null;
  explanation: Record<string, unknown>;
}

export class RoutingStore {
  readonly agents: Collection<AgentDoc>;
  readonly tickets: Collection<RoutingTicketDoc>;
  readonly offers: Collection<OfferDoc>;

  constructor(db: Db) {
    this.agents = db.collection<AgentDoc>("routing_agents");
    this.tickets = db.collection<RoutingTicketDoc>("routing_tickets");
    this.offers = db.collection<OfferDoc>("routing_offers");
  }

  async init(): Promise<void> {
    await ensureIndexes(this.tickets, [{ key: { state: 1, group: 1 }, name: "state_group" }, { key: { ownerId: 1, state: 1 }, name: "owner_state" }]);
    await ensureIndexes(this.offers, [{ key: { status: 1, expiresAt: 1 }, name: "status_expiry" }, { key: { agentId: 1, status: 1 }, name: "agent_status" }]);
    await ensureIndexes(this.agents, [{ key: { presence: 1, groups: 1 }, name: "presence_groups" }]);
  }

  /** Takes one unit of an available agent's capacity on a channel; false when none is free. */
  async reserveCapacity(agentId: string, channel: ChannelName): Promise<boolean> {
    const res = await this.agents.updateOne(
      { _id: agentId, presence: "available", [`free.${channel}`]: { $gt: 0 } },
      { $inc: { [`free.${channel}`]: -1, capVersion: 1 } },
    );
    return res.modifiedCount === 1;
  }

  async releaseCapacity(agentId: string, channel: ChannelName): Promise<void> {
    // Guarded so a double release (a replayed event) cannot push free above capacity.
    const agent = await this.agents.findOne({ _id: agentId }, { projection: { capacity: 1, free: 1 } });
    if (!agent) return;
    const cap = agent.capacity[channel] ?? 0;
    await this.agents.updateOne(
      { _id: agentId, [`free.${channel}`]: { $lt: cap } },
      { $inc: { [`free.${channel}`]: 1, capVersion: 1 }, $set: { idleSince: new Date() } },
    );
  }

  async insertOffer(offer: OfferDoc): Promise<void> {
    try {
      await this.offers.insertOne(offer);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }
}
