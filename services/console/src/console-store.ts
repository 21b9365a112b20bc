// The console's own collections, in its own database: one document per ticket summary and per agent.
// Writes are guarded by a revision (FerretDB has no transactions): a fold that lost a race reads again.
import { ensureIndexes, isDuplicateKeyError, type Collection, type Db } from "@steward/store";
import { foldAgent, foldTicket, type AgentEvent, type AgentRecord, type TicketEvent, type TicketSummary, type TicketSearch, type ViewScope } from "./domain/index.ts";

/** `offeredTo`: agents holding an open offer, kept beside the summary so the store can find an agent's offers. */
type TicketDoc = Omit<TicketSummary, "id"> & { _id: string; rev: number; offeredTo?: string[] };
type AgentDoc = Omit<AgentRecord, "id"> & { _id: string; rev: number };

const WRITE_ATTEMPTS = 16;

export class ConsoleStore {
  private readonly tickets: Collection<TicketDoc>;
  private readonly agents: Collection<AgentDoc>;

  constructor(db: Db) {
    this.tickets = db.collection<TicketDoc>("console_tickets");
    this.agents = db.collection<AgentDoc>("console_agents");
  }

  async init(): Promise<void> {
    await ensureIndexes(this.tickets, [
      { name: "group_status", key: { group: 1, status: 1 } },
      { name: "owner_status", key: { ownerId: 1, status: 1 } },
      { name: "received", key: { receivedAt: -1 } },
      { name: "reference", key: { reference: 1 } },
      { name: "customer", key: { customerId: 1 } },
    ]);
  }

  /** Applies a ticket's events with one guarded write (re-applying is a no-op, see foldTicket). */
  async applyTicketEvents(ticketId: string, events: readonly TicketEvent[]): Promise<void> {
    await this.guarded(this.tickets, ticketId, (current) => events.reduce<TicketSummary | undefined>((s, e) => foldTicket(s, e), current as TicketSummary | undefined));
  }

  async applyAgentEvents(agentId: string, events: readonly AgentEvent[]): Promise<void> {
    await this.guarded(this.agents, agentId, (current) => events.reduce<AgentRecord | undefined>((a, e) => foldAgent(a, e), current as AgentRecord | undefined));
  }

  private async guarded<D extends { _id: string; rev: number }, R extends { id: string }>(
    collection: Collection<D>,
    id: string,
    fold: (current: R | undefined) => R | undefined,
  ): Promise<void> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt += 1) {
      const doc = await collection.findOne({ _id: id } as never);
      const current = doc === null ? undefined : (fromDoc(doc) as unknown as R);
      const next = fold(current);
      if (next === undefined) return;
      const { id: _id, ...summary } = next;
      const rest = "offers" in summary ? { ...summary, offeredTo: (summary as unknown as TicketSummary).offers.filter((o) => o.outcome === null).map((o) => o.agentId) } : summary;
      const rev = (doc?.rev ?? 0) + 1;
      try {
        if (doc === null) {
          await collection.insertOne({ _id: id, ...rest, rev } as never);
          return;
        }
        const res = await collection.replaceOne({ _id: id, rev: doc.rev } as never, { ...rest, rev } as never);
        if (res.matchedCount === 1) return;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
    throw new Error(`read model ${id} kept changing under the console's projector`);
  }

  async ticket(id: string): Promise<TicketSummary | null> {
    const doc = await this.tickets.findOne({ _id: id });
    return doc === null ? null : (fromDoc(doc) as unknown as TicketSummary);
  }

  /** Tickets the scope may see that match the search, newest first. */
  async searchTickets(scope: ViewScope, q: TicketSearch): Promise<TicketSummary[]> {
    const filter: Record<string, unknown> = {};
    if (q.status) filter["status"] = q.status;
    if (q.group) filter["group"] = q.group;
    if (q.owner) filter["ownerId"] = q.owner;
    if (q.reference) filter["reference"] = q.reference.toUpperCase();
    if (q.customer) filter["customerId"] = q.customer;
    const scoped = { $and: [filter, scopeFilter(scope)] };
    const docs = await this.tickets
      .find(scoped as never)
      .sort({ receivedAt: -1, _id: 1 })
      .limit(q.limit)
      .toArray();
    return docs.map((d) => fromDoc(d) as unknown as TicketSummary);
  }

  /** Open tickets plus those received or offered since `since`, for queues, agents and analytics. */
  async recentAndOpen(groups: readonly string[] | null, since: Date): Promise<TicketSummary[]> {
    const sinceIso = since.toISOString();
    const recent = { $or: [{ status: { $ne: "resolved" } }, { receivedAt: { $gte: sinceIso } }, { updatedAt: { $gte: sinceIso } }] };
    const filter = groups === null ? recent : { $and: [recent, { group: { $in: [...groups] } }] };
    const docs = await this.tickets
      .find(filter as never)
      .limit(20_000)
      .toArray();
    return docs.map((d) => fromDoc(d) as unknown as TicketSummary);
  }

  async agentList(groups: readonly string[] | null): Promise<AgentRecord[]> {
    const filter = groups === null ? {} : { groups: { $in: [...groups] } };
    const docs = await this.agents
      .find(filter as never)
      .sort({ _id: 1 })
      .limit(5_000)
      .toArray();
    return docs.map((d) => fromDoc(d) as unknown as AgentRecord);
  }

  async agent(id: string): Promise<AgentRecord | null> {
    const doc = await this.agents.findOne({ _id: id });
    return doc === null ? null : (fromDoc(doc) as unknown as AgentRecord);
  }
}

function fromDoc<D extends { _id: string; rev: number }>(doc: D): Record<string, unknown> {
  const { _id, rev: _rev, offeredTo: _offeredTo, ...rest } = doc as D & { offeredTo?: unknown };
  return { id: _id, ...rest };
}

function scopeFilter(scope: ViewScope): Record<string, unknown> {
  switch (scope.kind) {
    case "all":
      return {};
    case "groups":
      return scope.agentId === null ? { group: { $in: scope.groups } } : { $or: [{ group: { $in: scope.groups } }, { ownerId: scope.agentId }] };
    case "agent":
      return { $or: [{ ownerId: scope.agentId }, { offeredTo: scope.agentId }] };
  }
}
