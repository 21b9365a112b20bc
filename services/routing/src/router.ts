// Routing use cases: queue a triaged ticket, offer it, accept/decline/expire offers, resolve,
// follow-ups to the owner, reopen to the last owner. Each step is a guarded store update followed
// by an event on Kafka; losers of a race simply stop.
import { randomUUID } from "node:crypto";
import { Topics, channelToProto, priorityToProto, type Envelope } from "@steward/proto";
import { newEnvelope, type EventBus, type OutgoingEvent } from "@steward/messaging";
import type { AgentDoc, ChannelName, OfferDoc, RoutingStore, RoutingTicketDoc } from "./routing-store.ts";
import { pickAgent } from "./matching.ts";

export class RoutingError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  constructor(code: string, httpStatus: number, message: string) {
    super(message);
    this.name = "RoutingError";
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

export interface RouterDeps {
  store: RoutingStore;
  bus: EventBus;
  offerTimeoutMs: (channel: ChannelName) => number;
  reopenWindowMs: number;
  now?: () => Date;
}

const PRODUCER = "routing";
const PRIORITIES = ["P1", "P2", "P3", "P4"] as const;

export class Router {
  private readonly d: RouterDeps;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(deps: RouterDeps) {
    this.d = deps;
  }

  private now(): Date {
    return this.d.now?.() ?? new Date();
  }

  private emit(events: Envelope[]): Promise<void> {
    return this.d.bus.publish(events.map((envelope): OutgoingEvent => ({ topic: Topics.routing, envelope })));
  }

  /** A triaged ticket (new, re-triaged, or a follow-up) arrives from triage. */
  async onTriaged(input: {
    ticketId: string;
    eventId: string;
    channel: ChannelName;
    group: string;
    overflowGroup: string;
    language: string;
    priority: number;
    requiredSkills: Array<{ name: string; minLevel: number; optional: boolean }>;
    subject: string;
    retriage: boolean;
  }): Promise<void> {
    const { store } = this.d;
    const now = this.now();
    const existing = await store.tickets.findOne({ _id: input.ticketId });
    if (!existing) {
      try {
        await store.tickets.insertOne({
          _id: input.ticketId,
          state: "waiting",
          channel: input.channel,
          group: input.group,
          overflowGroup: input.overflowGroup || null,
          language: input.language,
          priority: input.priority,
          requiredSkills: input.requiredSkills,
          slaDeadline: null,
          subject: input.subject,
          enqueuedAt: now,
          ownerId: null,
          lastOwnerId: null,
          collaborators: [],
          passedBy: [],
          openOfferIds: [],
          relaxationLevel: 0,
          resolvedAt: null,
          updatedAt: now,
        });
      } catch {
        // another instance queued it first
      }
      await this.emit([newEnvelope("ticketQueued", input.ticketId, { group: input.group, priority: priorityToProto(PRIORITIES[input.priority - 1] ?? "P3"), reason: "triaged" }, PRODUCER, { eventId: derivedId(input.eventId, "queued") })]);
      await this.dispatchTicket(input.ticketId);
      return;
    }
    // Re-triage of a known ticket: skills and priority may change; the owner never does.
    await store.tickets.updateOne(
      { _id: input.ticketId },
      { $set: { priority: input.priority, requiredSkills: input.requiredSkills, language: input.language, updatedAt: now } },
    );
    if (existing.state === "assigned" && existing.ownerId) {
      await this.emit([newEnvelope("followUpRouted", input.ticketId, { agentId: existing.ownerId, messageId: "" }, PRODUCER, { eventId: derivedId(input.eventId, "follow-up") })]);
      return;
    }
    if (existing.state === "resolved" && existing.lastOwnerId && existing.resolvedAt && now.getTime() - existing.resolvedAt.getTime() <= this.d.reopenWindowMs) {
      await this.reopen(existing, input.eventId);
      return;
    }
    if (existing.state === "waiting") await this.dispatchTicket(input.ticketId);
  }

  /** Returns a resolved ticket to its last owner. The owner's capacity is taken even when away: the work waits for them. */
  private async reopen(ticket: RoutingTicketDoc, eventId: string): Promise<void> {
    const { store } = this.d;
    const owner = ticket.lastOwnerId as string;
    const res = await store.tickets.updateOne(
      { _id: ticket._id, state: "resolved", ownerId: null },
      { $set: { state: "assigned", ownerId: owner, resolvedAt: null, updatedAt: this.now() } },
    );
    if (res.modifiedCount !== 1) return;
    await store.agents.updateOne({ _id: owner }, { $inc: { [`free.${ticket.channel}`]: -1, capVersion: 1 } });
    await this.emit([newEnvelope("ticketReopened", ticket._id, { ownerId: owner, messageId: "" }, PRODUCER, { eventId: derivedId(eventId, "reopened") })]);
  }

  /** Tries to offer one waiting ticket to the best eligible agent. */
  async dispatchTicket(ticketId: string): Promise<boolean> {
    const { store } = this.d;
    const ticket = await store.tickets.findOne({ _id: ticketId, state: "waiting" });
    if (!ticket) return false;
    const groups = [ticket.group, ...(ticket.overflowGroup && ticket.relaxationLevel >= 2 ? [ticket.overflowGroup] : [])];
    const candidates = await store.agents.find({ presence: "available", groups: { $in: groups } }).toArray();
    const decision = pickAgent(ticket, candidates);
    for (const agent of decision.ranked) {
      if (!(await store.reserveCapacity(agent._id, ticket.channel))) continue;
      const offerId = randomUUID();
      const now = this.now();
      const expiresAt = new Date(now.getTime() + this.d.offerTimeoutMs(ticket.channel));
      const won = await store.tickets.updateOne(
        { _id: ticketId, state: "waiting" },
        { $set: { state: "offered", openOfferIds: [offerId], updatedAt: now } },
      );
      if (won.modifiedCount !== 1) {
        await store.releaseCapacity(agent._id, ticket.channel);
        return false;
      }
      const explanation = { ...decision.explanation, chosen: agent._id };
      await store.insertOffer({ _id: offerId, ticketId, agentId: agent._id, channel: ticket.channel, status: "open", createdAt: now, expiresAt, closedAt: null, explanation });
      await this.emit([
        newEnvelope(
          "offerMade",
          ticketId,
          {
            offerId,
            agentId: agent._id,
            expiresAt,
            channel: channelToProto(ticket.channel),
            priority: priorityToProto(PRIORITIES[ticket.priority - 1] ?? "P3"),
            subject: ticket.subject,
            explanation: {
              candidatesConsidered: decision.explanation.candidatesConsidered,
              passedOver: decision.explanation.passedOver,
              tieBreaker: decision.explanation.tieBreaker,
              relaxationLevel: ticket.relaxationLevel,
              passedOverCounts: decision.explanation.passedOverCounts,
              summary: decision.explanation.summary,
            },
          },
          PRODUCER,
        ),
      ]);
      this.scheduleExpiry(offerId, expiresAt);
      return true;
    }
    if (decision.ranked.length === 0) {
      await this.emit([newEnvelope("noEligibleAgent", ticketId, { group: ticket.group, reasons: Object.entries(decision.explanation.passedOverCounts).map(([r, n]) => `${n} agent(s): ${r}`) }, PRODUCER)]);
    }
    return false;
  }

  /** Offers waiting work to an agent who has capacity again: oldest, most urgent first. */
  async dispatchForAgent(agentId: string): Promise<void> {
    const { store } = this.d;
    const agent = await store.agents.findOne({ _id: agentId, presence: "available" });
    if (!agent) return;
    const waiting = await store.tickets
      .find({ state: "waiting", group: { $in: agent.groups } })
      .sort({ priority: 1, enqueuedAt: 1 })
      .limit(50)
      .toArray();
    for (const t of waiting) {
      const fresh = await store.agents.findOne({ _id: agentId });
      if (!fresh || fresh.presence !== "available" || Object.values(fresh.free).every((n) => n <= 0)) return;
      await this.dispatchTicket(t._id);
    }
  }

  async accept(offerId: string, agentId: string): Promise<{ ticketId: string }> {
    const { store } = this.d;
    const now = this.now();
    const offer = await store.offers.findOne({ _id: offerId });
    if (!offer) throw new RoutingError("OFFER_NOT_FOUND", 404, `no offer ${offerId}`);
    if (offer.agentId !== agentId) throw new RoutingError("OFFER_NOT_YOURS", 403, "this offer was made to another agent");
    const took = await store.offers.updateOne({ _id: offerId, status: "open", expiresAt: { $gt: now } }, { $set: { status: "accepted", closedAt: now } });
    if (took.modifiedCount !== 1) {
      const current = await store.offers.findOne({ _id: offerId });
      if (current?.status === "accepted") return { ticketId: offer.ticketId };
      throw new RoutingError("OFFER_CLOSED", 409, `the offer is ${current?.status === "open" ? "expired" : current?.status ?? "gone"}; it can no longer be accepted`);
    }
    const owned = await store.tickets.updateOne(
      { _id: offer.ticketId, state: "offered", ownerId: null },
      { $set: { state: "assigned", ownerId: agentId, lastOwnerId: agentId, openOfferIds: [], updatedAt: now } },
    );
    if (owned.modifiedCount !== 1) {
      // Someone else owns it already (parallel offers): this offer is withdrawn and its capacity returned.
      await store.offers.updateOne({ _id: offerId }, { $set: { status: "withdrawn" } });
      await store.releaseCapacity(agentId, offer.channel);
      throw new RoutingError("OWNERSHIP_CONFLICT", 409, "another agent already owns this ticket");
    }
    this.clearExpiry(offerId);
    await this.emit([newEnvelope("ticketAssigned", offer.ticketId, { agentId, offerId, channel: channelToProto(offer.channel) }, PRODUCER)]);
    return { ticketId: offer.ticketId };
  }

  async decline(offerId: string, agentId: string, reason: string): Promise<void> {
    const offer = await this.d.store.offers.findOne({ _id: offerId });
    if (!offer) throw new RoutingError("OFFER_NOT_FOUND", 404, `no offer ${offerId}`);
    if (offer.agentId !== agentId) throw new RoutingError("OFFER_NOT_YOURS", 403, "this offer was made to another agent");
    const closed = await this.closeOffer(offer, "declined", reason || "declined by agent");
    if (!closed) throw new RoutingError("OFFER_CLOSED", 409, "the offer is no longer open");
  }

  /** Closes an open offer (declined or expired), returns the capacity and puts the ticket back in the queue. */
  private async closeOffer(offer: OfferDoc, outcome: "declined" | "expired", reason: string): Promise<boolean> {
    const { store } = this.d;
    const now = this.now();
    const res = await store.offers.updateOne({ _id: offer._id, status: "open" }, { $set: { status: outcome, closedAt: now } });
    if (res.modifiedCount !== 1) return false;
    this.clearExpiry(offer._id);
    await store.releaseCapacity(offer.agentId, offer.channel);
    await store.tickets.updateOne(
      { _id: offer.ticketId, state: "offered", ownerId: null },
      { $set: { state: "waiting", openOfferIds: [], updatedAt: now }, $addToSet: { passedBy: offer.agentId } },
    );
    await this.emit([newEnvelope("offerClosed", offer.ticketId, { offerId: offer._id, agentId: offer.agentId, outcome, reason }, PRODUCER)]);
    await this.dispatchTicket(offer.ticketId);
    await this.dispatchForAgent(offer.agentId);
    return true;
  }

  async resolve(ticketId: string, agentId: string): Promise<void> {
    const { store } = this.d;
    const now = this.now();
    const ticket = await store.tickets.findOne({ _id: ticketId });
    if (!ticket) throw new RoutingError("TICKET_NOT_FOUND", 404, `no ticket ${ticketId}`);
    if (ticket.ownerId !== agentId) throw new RoutingError("NOT_OWNER", 403, ticket.ownerId ? "only the ticket's owner can resolve it" : "the ticket has no owner yet");
    const res = await store.tickets.updateOne(
      { _id: ticketId, state: "assigned", ownerId: agentId },
      { $set: { state: "resolved", ownerId: null, lastOwnerId: agentId, resolvedAt: now, updatedAt: now } },
    );
    if (res.modifiedCount !== 1) throw new RoutingError("TICKET_NOT_ASSIGNED", 409, "the ticket is not open");
    await store.releaseCapacity(agentId, ticket.channel);
    await this.emit([newEnvelope("ticketResolved", ticketId, { agentId }, PRODUCER)]);
    await this.dispatchForAgent(agentId);
  }

  scheduleExpiry(offerId: string, expiresAt: Date): void {
    this.clearExpiry(offerId);
    const timer = setTimeout(() => void this.expire(offerId), Math.max(0, expiresAt.getTime() - this.now().getTime()));
    timer.unref();
    this.timers.set(offerId, timer);
  }

  private clearExpiry(offerId: string): void {
    const t = this.timers.get(offerId);
    if (t) clearTimeout(t);
    this.timers.delete(offerId);
  }

  private async expire(offerId: string): Promise<void> {
    this.timers.delete(offerId);
    const offer = await this.d.store.offers.findOne({ _id: offerId, status: "open" });
    if (offer) await this.closeOffer(offer, "expired", "no answer before the offer timed out");
  }

  /** After a restart: re-arm timers of open offers (expired ones close at once). */
  async recoverOpenOffers(): Promise<void> {
    const open = await this.d.store.offers.find({ status: "open" }).toArray();
    for (const o of open) this.scheduleExpiry(o._id, o.expiresAt);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** A stable event id derived from the event that caused it, so a redelivered input republishes the same event. */
export function derivedId(eventId: string, purpose: string): string {
  return `${eventId}/${purpose}`;
}

export type { AgentDoc };
