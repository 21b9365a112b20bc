// Ownership changes in the store. Each one runs the domain's pure transition on the stored ticket, writes
// the result with one conditional update (the version read plus guards restating the preconditions), and
// stores its events with it (outbox.ts). Capacity moves as holds on the agents' documents, ordered so that a
// crash can only leave capacity reserved, never overfill an agent: a hold is taken before the ticket names
// the agent, and returned after the ticket no longer does. Any instance runs the agent commands (accept,
// decline, resolve, reassign); the matcher runs the rest (offers, expiry, withdrawal, reopen, helpers).
import {
  acceptOffer,
  addCollaborator,
  declineOffer,
  expireOffer,
  keepKeys,
  makeOffer,
  reassignBySupervisor,
  reopenTicket,
  requestTransfer,
  resolveTicket,
  withdrawOffer,
  AgentNotFoundError,
  OfferError,
  RoutingDomainError,
  TicketNotFoundError,
  type Offer,
  type TicketOwnership,
  type WithdrawReason,
} from "./domain/index.ts";
import { ownershipOf, withOwnership } from "./domain-mapping.ts";
import type { Outbox } from "./outbox.ts";
import { GatewayError } from "./routing-errors.ts";
import { channelToProto, pending, priorityToProto, ticketOutbox, type PendingEvent } from "./routing-events.ts";
import type { HistoryEntry, OfferRecord, TicketDoc } from "./routing-store.ts";
import type { RoutingState } from "./routing-state.ts";
import type { TicketCache } from "./ticket-cache.ts";
import type { RoutingExplanation } from "@steward/proto";
import type { RoutingMetrics } from "./routing-metrics.ts";

export interface LedgerDeps {
  /** The store itself, or the leader's logged memory (routing-state.ts). */
  store: RoutingState;
  outbox: Outbox;
  /** The newest state this process knows of each ticket: agent commands start from it instead of a read. */
  cache: TicketCache;
  offerTimeoutMs: (channel: TicketDoc["channel"]) => number;
  maxParallelOffers: number;
  reopenWindowMs: number;
  now?: () => number;
  metrics?: RoutingMetrics;
}

/** What a matcher-side change came to: written, refused by the domain, or lost a race in the store. */
export type LedgerOutcome =
  | { readonly kind: "written"; readonly doc: TicketDoc }
  | { readonly kind: "rejected"; readonly error: RoutingDomainError }
  /** The store's ticket moved on (another instance wrote it): re-read and decide again. */
  | { readonly kind: "conflict" }
  /** An agent's capacity hold was refused (no free slot, not available): the engine's view of them is stale. */
  | { readonly kind: "hold-refused"; readonly agentId: string };

export interface ProposedOffer {
  agentId: string;
  explanation: { stored: Record<string, unknown>; proto: RoutingExplanation };
}

type HistoryInput = Omit<HistoryEntry, "version">;

const MAX_COMMAND_ATTEMPTS = 8;
const MAX_HISTORY = 200;
/** Offers whose explanation the ticket keeps (the routing view shows as many). */
export const OFFERS_KEPT = 20;

/** Offer ids are `<ticketId>:<n>` (domain makeOffer): the ticket is found without reading the offer. */
export function ticketIdOfOffer(offerId: string): string | null {
  const at = offerId.lastIndexOf(":");
  return at > 0 && /^\d+$/.test(offerId.slice(at + 1)) ? offerId.slice(0, at) : null;
}

/** The agent an offer of this ticket went to, from the ticket alone; null when the ticket does not know it. */
export function offerAgentOn(doc: TicketDoc, offerId: string): string | null {
  const open = doc.pendingOffers.find((o) => o.offerId === offerId);
  if (open !== undefined) return open.agentId;
  const kept = doc.offers?.find((o) => o.offerId === offerId);
  if (kept !== undefined) return kept.agentId;
  const made = doc.history.find((h) => h.type === "offer.made" && h.detail?.["offerId"] === offerId);
  const agentId = made?.detail?.["agentId"];
  return typeof agentId === "string" ? agentId : null;
}

export class TicketLedger {
  readonly #d: LedgerDeps;

  constructor(deps: LedgerDeps) {
    this.#d = deps;
  }

  #now(): number {
    return this.#d.now?.() ?? Date.now();
  }

  get store(): RoutingState {
    return this.#d.store;
  }

  /**
   * The one write: `next` replaces `prev` if the store still holds `prev.version` and the guards. Events are
   * stored with it; the caller publishes them (publishLater / the outbox).
   */
  async #commit(prev: TicketDoc, next: TicketDoc, guards: Record<string, unknown>, events: readonly PendingEvent[], history: readonly HistoryInput[]): Promise<TicketDoc | null> {
    const carried = this.#d.outbox.carryOver(prev, this.#d.store.isDeferred?.(prev._id) !== true);
    const at = this.#now();
    const written: TicketDoc = {
      ...next,
      version: prev.version + 1,
      outbox: [...carried, ...ticketOutbox(prev._id, prev.version + 1, events, new Date(at))],
      outboxAt: at,
      history: [...prev.history, ...history.map((h) => ({ ...h, version: prev.version + 1 }))].slice(-MAX_HISTORY),
    };
    if (!(await this.#d.store.casTicket(written, prev.version, guards))) {
      this.#d.cache.forget(prev._id, prev.version);
      return null;
    }
    this.#d.cache.remember(written);
    // Entries of `prev` this write left out were published: the write dropped them from the stored outbox.
    this.#d.outbox.superseded(prev, written);
    return written;
  }

  /** The newest state this process knows of a ticket (or null): a write from it is refused if it is stale. */
  cached(ticketId: string): TicketDoc | null {
    return this.#d.cache.get(ticketId) ?? null;
  }

  /** A ticket as just stored by someone in this process (created, or read). */
  remember(doc: TicketDoc): void {
    this.#d.cache.remember(doc);
  }

  /** Reads the stored ticket (and remembers it). */
  async fresh(ticketId: string): Promise<TicketDoc | null> {
    const doc = await this.#d.store.getTicket(ticketId);
    if (doc !== null) this.#d.cache.remember(doc);
    else this.#d.cache.forget(ticketId);
    return doc;
  }

  /**
   * Hands the change's events to the bus (in the order of the changes) without waiting for Kafka's
   * acknowledgement: an agent command is answered once its change is durable (appended to the routing log,
   * or stored), which is what a successor knows too; its events follow, and the outbox keeps publishing
   * them through a broker outage (a new leader republishes what the log holds unpublished).
   */
  #publishLater(doc: TicketDoc): void {
    this.#d.outbox.publishInBackground(doc._id, doc.version, doc.outbox);
  }

  async #read(ticketId: string): Promise<TicketDoc> {
    const doc = await this.fresh(ticketId);
    if (doc === null) throw new TicketNotFoundError(ticketId);
    return doc;
  }

  /**
   * Runs an agent command until its write wins or the domain refuses. The first attempt starts from the
   * cached ticket when there is one: its write is conditional on that version, so a stale copy only costs
   * a refused write. Anything but a won write (an answer without writing, a refusal) is decided again on
   * the stored ticket, so a stale copy never decides an answer.
   */
  async #retrying<T>(ticketId: string, attempt: (doc: TicketDoc, cached: boolean) => Promise<Written<T> | T | null>): Promise<T> {
    const cached = this.cached(ticketId);
    if (cached !== null) {
      // A refusal on the cached copy may be stale: decided again on the stored ticket. Store errors propagate.
      const result = await attempt(cached, true).catch((err: unknown) => {
        if (err instanceof RoutingDomainError || err instanceof GatewayError) return null;
        throw err;
      });
      if (result instanceof Written) return result.value;
    }
    for (let i = 0; i < MAX_COMMAND_ATTEMPTS; i++) {
      const result = await attempt(await this.#read(ticketId), false);
      if (result instanceof Written) return result.value;
      if (result !== null) return result;
    }
    throw new GatewayError("STORE_CONTENTION", `ticket ${ticketId} kept changing while this request ran; try again`);
  }

  /** The ticket an offer belongs to, and the agent it went to; OFFER_NOT_FOUND when nobody knows the offer. */
  async #offer(offerId: string): Promise<{ ticketId: string; agentId: string }> {
    const ticketId = ticketIdOfOffer(offerId);
    if (ticketId !== null) {
      const doc = this.cached(ticketId);
      const known = doc === null ? null : offerAgentOn(doc, offerId);
      if (known !== null) return { ticketId, agentId: known };
      const stored = await this.fresh(ticketId);
      const agentId = stored === null ? null : offerAgentOn(stored, offerId);
      if (agentId !== null) return { ticketId, agentId };
    }
    // Tickets stored before offers moved onto them: their offers have documents of their own.
    const legacy = await this.#d.store.getOffer(offerId);
    if (legacy === null) throw new OfferError("OFFER_NOT_FOUND", `no offer ${offerId}`);
    return { ticketId: legacy.ticketId, agentId: legacy.agentId };
  }

  /** The agent an offer went to, or null for an unknown offer. */
  async offerAgent(offerId: string): Promise<string | null> {
    try {
      return (await this.#offer(offerId)).agentId;
    } catch (err) {
      if (err instanceof OfferError) return null;
      throw err;
    }
  }

  // ---- agent commands (any instance) --------------------------------------------------------------------

  /** First accept wins: the agent owns the ticket; every other pending offer is withdrawn. */
  async accept(offerId: string, agentId: string): Promise<{ ticketId: string }> {
    const offer = await this.#offer(offerId);
    if (offer.agentId !== agentId) throw new GatewayError("OFFER_NOT_YOURS", "this offer was made to another agent");
    return this.#retrying(offer.ticketId, async (doc, cached) => {
      if (cached && !doc.pendingOffers.some((o) => o.offerId === offerId)) return null; // decided on the stored ticket
      if (doc.ownerId === agentId && doc.history.some((h) => h.type === "offer.accepted" && h.detail?.["offerId"] === offerId)) {
        await this.#d.outbox.republish(doc); // a retried request: answer as before, announce if not yet done
        return { ticketId: doc._id };
      }
      const open = doc.pendingOffers.find((o) => o.offerId === offerId);
      if (open === undefined) {
        if (doc.status === "owned" || doc.status === "resolved") {
          throw new GatewayError("OFFER_CLOSED", `ticket ${doc._id} already has an owner; this offer was withdrawn`);
        }
        throw new GatewayError("OFFER_CLOSED", "the offer is no longer open (declined, expired or withdrawn)");
      }
      const now = this.#now();
      const result = acceptOffer(ownershipOf(doc), agentId, now);
      if (!result.ok) {
        if (result.error.code === "OFFER_EXPIRED") throw new GatewayError("OFFER_CLOSED", "the offer expired; it can no longer be accepted");
        throw result.error;
      }
      const withdrawn = doc.pendingOffers.filter((o) => o.agentId !== agentId);
      const events = [
        pending("ticketAssigned", { agentId, offerId, channel: channelToProto(doc.channel) }),
        ...withdrawn.map((o) => pending("offerClosed", { offerId: o.offerId, agentId: o.agentId, outcome: "withdrawn", reason: `${agentId} accepted first` })),
      ];
      const next = { ...withOwnership(doc, result.value.state, now), heldForOwner: false, noEligible: null };
      const written = await this.#commit(doc, next, { status: "waiting", ownerId: null }, events, [{ at: now, type: "offer.accepted", actor: agentId, detail: { offerId } }]);
      if (written === null) return null;
      // The offer's hold now counts the owned work as it is (the ticket says it is owned; the agent's
      // idle clock is stored when the work ends): no agent write here.
      this.#d.metrics?.accepts.inc();
      for (const o of withdrawn) await this.#d.store.releaseHold(o.agentId, doc._id, doc.channel);
      this.#publishLater(written);
      return new Written({ ticketId: doc._id });
    });
  }

  /** The agent says no: their slot frees and the ticket moves on (they are asked again only if nobody else can take it). */
  async decline(offerId: string, agentId: string, reason: string): Promise<void> {
    const offer = await this.#offer(offerId);
    if (offer.agentId !== agentId) throw new GatewayError("OFFER_NOT_YOURS", "this offer was made to another agent");
    await this.#retrying(offer.ticketId, async (doc, cached) => {
      if (!doc.pendingOffers.some((o) => o.offerId === offerId)) {
        if (cached) return null;
        if (doc.history.some((h) => h.type === "offer.declined" && h.detail?.["offerId"] === offerId)) return true;
        throw new GatewayError("OFFER_CLOSED", "the offer is no longer open");
      }
      const now = this.#now();
      const result = declineOffer(ownershipOf(doc), agentId, now);
      if (!result.ok) throw result.error;
      const why = reason.trim() || "declined by the agent";
      const written = await this.#commit(
        doc,
        withOwnership(doc, result.value.state, now),
        { status: "waiting" },
        [pending("offerClosed", { offerId, agentId, outcome: "declined", reason: why })],
        [{ at: now, type: "offer.declined", actor: agentId, detail: { offerId, reason: why } }],
      );
      if (written === null) return null;
      this.#d.metrics?.declines.inc();
      await this.#d.store.releaseHold(agentId, doc._id, doc.channel);
      this.#publishLater(written);
      return new Written(true);
    });
  }

  /** Only the owner resolves; their slot frees; lastOwnerId stays for a reopen. */
  async resolve(ticketId: string, agentId: string): Promise<void> {
    await this.#retrying(ticketId, async (doc, cached) => {
      if (doc.status === "resolved" && doc.lastOwnerId === agentId && doc.history.at(-1)?.type === "ticket.resolved") {
        if (cached) return null;
        await this.#d.outbox.republish(doc);
        return true;
      }
      const now = this.#now();
      const result = resolveTicket(ownershipOf(doc), agentId, now);
      if (!result.ok) throw result.error;
      const written = await this.#commit(
        doc,
        { ...withOwnership(doc, result.value.state, now), heldForOwner: false },
        { status: "owned", ownerId: agentId },
        [pending("ticketResolved", { agentId })],
        [{ at: now, type: "ticket.resolved", actor: agentId }],
      );
      if (written === null) return null;
      if (!doc.heldForOwner) await this.#d.store.releaseHold(agentId, doc._id, doc.channel, undefined, ownedSince(doc));
      this.#publishLater(written);
      return new Written(true);
    });
  }

  /** Agents never hand tickets over: always OWNERSHIP_CONFLICT, saying who owns it and who can move it. */
  async transfer(ticketId: string, fromAgentId: string, toAgentId: string): Promise<never> {
    const doc = await this.#read(ticketId);
    const result = requestTransfer(ownershipOf(doc), fromAgentId, toAgentId);
    if (!result.ok) throw result.error;
    throw new Error("unreachable: the domain never allows a transfer");
  }

  /**
   * A supervisor moves the ticket, with a recorded reason. The capacity moves with it: the new owner takes a
   * slot if they are available with one free, otherwise the ticket waits for them outside their load.
   */
  async reassign(ticketId: string, supervisorId: string, toAgentId: string, reason: string): Promise<{ ownerId: string; heldForOwner: boolean }> {
    if ((await this.#d.store.getAgent(toAgentId)) === null) throw new AgentNotFoundError(toAgentId);
    return this.#retrying(ticketId, async (doc) => {
      const now = this.#now();
      const result = reassignBySupervisor(ownershipOf(doc), { actor: { id: supervisorId, role: "supervisor" }, toAgentId, reason }, now);
      if (!result.ok) throw result.error;
      const from = doc.ownerId as string;
      const took = await this.#d.store.acquireHold(toAgentId, { ticketId, channel: doc.channel, kind: "owned", at: now }, true);
      const written = await this.#commit(
        doc,
        { ...withOwnership(doc, result.value.state, now), heldForOwner: !took },
        { status: "owned", ownerId: from },
        [pending("ownerReassigned", { fromAgentId: from, toAgentId, supervisorId, reason: reason.trim(), heldForOwner: !took })],
        [{ at: now, type: "owner.reassigned", actor: supervisorId, detail: { from, to: toAgentId, reason: reason.trim(), heldForOwner: !took } }],
      );
      if (written === null) {
        if (took) await this.#d.store.releaseHold(toAgentId, ticketId, doc.channel);
        return null;
      }
      if (!doc.heldForOwner) await this.#d.store.releaseHold(from, ticketId, doc.channel, undefined, ownedSince(doc));
      this.#publishLater(written);
      return new Written({ ownerId: toAgentId, heldForOwner: !took });
    });
  }

  // ---- matcher changes (one attempt each: the matcher re-reads and decides again on a conflict) ----------

  /** Offers a waiting ticket to one or more agents, each holding a slot until the offer ends. */
  async makeOffers(doc: TicketDoc, proposed: readonly ProposedOffer[]): Promise<LedgerOutcome> {
    const now = this.#now();
    let state: TicketOwnership = ownershipOf(doc);
    const made: Offer[] = [];
    for (const p of proposed) {
      const result = makeOffer(state, { agentId: p.agentId, now, timeoutMs: this.#d.offerTimeoutMs(doc.channel), maxParallelOffers: this.#d.maxParallelOffers });
      if (!result.ok) return { kind: "rejected", error: result.error };
      state = result.value.state;
      made.push((result.value.events[0] as { offer: Offer }).offer);
    }
    const taken: Offer[] = [];
    for (const offer of made) {
      if (!(await this.#d.store.acquireHold(offer.agentId, { ticketId: doc._id, channel: doc.channel, kind: "offer", at: now }, true))) {
        for (const t of taken) await this.#d.store.releaseHold(t.agentId, doc._id, doc.channel);
        return { kind: "hold-refused", agentId: offer.agentId };
      }
      taken.push(offer);
    }
    // The offers' explanations are stored on the ticket, in the same write that makes the offers.
    const records: OfferRecord[] = made.map((offer, i) => ({
      offerId: offer.offerId,
      agentId: offer.agentId,
      offeredAt: offer.offeredAt,
      expiresAt: offer.expiresAt,
      explanation: (proposed[i] as ProposedOffer).explanation.stored,
    }));
    const events = made.map((offer, i) =>
      pending("offerMade", {
        offerId: offer.offerId,
        agentId: offer.agentId,
        expiresAt: new Date(offer.expiresAt),
        explanation: (proposed[i] as ProposedOffer).explanation.proto,
        channel: channelToProto(doc.channel),
        priority: priorityToProto(doc.priority),
        subject: doc.subject,
      }),
    );
    const next: TicketDoc = {
      ...withOwnership(doc, state, now),
      offerIds: [...doc.offerIds, ...made.map((o) => o.offerId)],
      offers: [...(doc.offers ?? []), ...records].slice(-OFFERS_KEPT),
      noEligible: null,
    };
    const history = made.map((o, i) => ({
      at: now,
      type: "offer.made",
      actor: "routing",
      detail: { offerId: o.offerId, agentId: o.agentId, why: (proposed[i] as ProposedOffer).explanation.proto.summary },
    }));
    const outcome = await this.#finish(
      doc,
      next,
      { status: "waiting" },
      events,
      history,
      taken.map((o) => o.agentId),
      [],
    );
    if (outcome.kind === "written") this.#d.metrics?.offers.inc(made.length);
    return outcome;
  }

  /** Ends an offer nobody answered in time: like a decline, the agent goes to the back of the rotation. */
  async expire(doc: TicketDoc, agentId: string): Promise<LedgerOutcome> {
    const now = this.#now();
    const offer = doc.pendingOffers.find((o) => o.agentId === agentId);
    const result = expireOffer(ownershipOf(doc), agentId, now);
    if (!result.ok || offer === undefined) return { kind: "rejected", error: result.ok ? new TicketNotFoundError(doc._id) : result.error };
    const outcome = await this.#finish(
      doc,
      withOwnership(doc, result.value.state, now),
      { status: "waiting" },
      [pending("offerClosed", { offerId: offer.offerId, agentId, outcome: "expired", reason: "no answer before the offer timed out" })],
      [{ at: now, type: "offer.expired", actor: "routing", detail: { offerId: offer.offerId, agentId } }],
      [],
      [agentId],
    );
    if (outcome.kind === "written") this.#d.metrics?.timeouts.inc();
    return outcome;
  }

  /** Ends an offer without counting it as a pass: the agent left, or no longer qualifies. */
  async withdraw(doc: TicketDoc, agentId: string, reason: WithdrawReason, detail: string): Promise<LedgerOutcome> {
    const now = this.#now();
    const offer = doc.pendingOffers.find((o) => o.agentId === agentId);
    const result = withdrawOffer(ownershipOf(doc), agentId, now, reason);
    if (!result.ok || offer === undefined) return { kind: "rejected", error: result.ok ? new TicketNotFoundError(doc._id) : result.error };
    return this.#finish(
      doc,
      withOwnership(doc, result.value.state, now),
      { status: "waiting" },
      [pending("offerClosed", { offerId: offer.offerId, agentId, outcome: "withdrawn", reason: detail })],
      [{ at: now, type: "offer.withdrawn", actor: "routing", detail: { offerId: offer.offerId, agentId, reason: detail } }],
      [],
      [agentId],
    );
  }

  /** Owned work that waited for its owner enters their load (they are available with a free slot). */
  async deliverHeldWork(doc: TicketDoc): Promise<LedgerOutcome> {
    const now = this.#now();
    const ownerId = doc.ownerId;
    if (doc.status !== "owned" || !doc.heldForOwner || ownerId === null) return { kind: "conflict" };
    if (!(await this.#d.store.acquireHold(ownerId, { ticketId: doc._id, channel: doc.channel, kind: "owned", at: now }, true))) return { kind: "hold-refused", agentId: ownerId };
    return this.#finish(
      doc,
      { ...doc, heldForOwner: false, updatedAt: now },
      { status: "owned", ownerId, heldForOwner: true },
      [pending("ownedWorkDelivered", { agentId: ownerId, channel: channelToProto(doc.channel) })],
      [{ at: now, type: "owned.work.delivered", actor: "routing", detail: { agentId: ownerId } }],
      [ownerId],
      [],
    );
  }

  /**
   * A customer wrote again after resolution. Within the reopen window the ticket returns to its last owner
   * (in their load if they have a free slot, otherwise waiting for them); later it queues like a new one.
   */
  async reopen(doc: TicketDoc, cause: string): Promise<LedgerOutcome> {
    const now = this.#now();
    const result = reopenTicket(ownershipOf(doc), now, this.#d.reopenWindowMs);
    if (!result.ok) return { kind: "rejected", error: result.error };
    const state = result.value.state;
    if (state.status === "waiting") {
      return this.#finish(
        doc,
        { ...withOwnership(doc, state, now), enqueuedAt: now, heldForOwner: false, noEligible: null },
        { status: "resolved" },
        [pending("ticketQueued", { group: doc.group, priority: priorityToProto(doc.priority), reason: "reopened after the reopen window" })],
        [{ at: now, type: "ticket.reopened", actor: "customer", detail: { returnedTo: "queue", cause } }],
        [],
        [],
      );
    }
    const ownerId = state.ownerId as string;
    const took = await this.#d.store.acquireHold(ownerId, { ticketId: doc._id, channel: doc.channel, kind: "owned", at: now }, true);
    const outcome = await this.#finish(
      doc,
      { ...withOwnership(doc, state, now), heldForOwner: !took },
      { status: "resolved" },
      [pending("ticketReopened", { ownerId, messageId: "", heldForOwner: !took })],
      [{ at: now, type: "ticket.reopened", actor: "customer", detail: { returnedTo: ownerId, heldForOwner: !took, cause } }],
      [],
      [],
    );
    if (outcome.kind !== "written" && took) await this.#d.store.releaseHold(ownerId, doc._id, doc.channel);
    return outcome;
  }

  /** Escalation adds a helper; the owner stays. */
  async addCollaborator(doc: TicketDoc, agentId: string, reason: string, actionKey: string): Promise<LedgerOutcome> {
    const now = this.#now();
    const result = addCollaborator(ownershipOf(doc), agentId, now);
    if (!result.ok) return { kind: "rejected", error: result.error };
    if (result.value.events.length === 0 && !(doc.collaboratorRequests ?? []).some((r) => r.key === actionKey)) return { kind: "written", doc };
    return this.#finish(
      doc,
      {
        ...withOwnership(doc, result.value.state, now),
        appliedActionKeys: keepKeys(doc.appliedActionKeys, actionKey),
        collaboratorRequests: (doc.collaboratorRequests ?? []).filter((r) => r.key !== actionKey),
      },
      { status: "owned", ownerId: doc.ownerId },
      [pending("collaboratorAdded", { agentId, reason, ownerId: doc.ownerId ?? "" })],
      [{ at: now, type: "collaborator.added", actor: "escalation", detail: { agentId, reason, actionKey } }],
      [],
      [],
    );
  }

  /** Changes what routing knows of a ticket (priority, SLA deadline, requirements, relaxation); never its owner. */
  async update(doc: TicketDoc, patch: Partial<TicketDoc>, events: readonly PendingEvent[], history: readonly HistoryInput[]): Promise<LedgerOutcome> {
    const now = this.#now();
    return this.#finish(doc, { ...doc, ...patch, updatedAt: now }, { status: doc.status }, events, history, [], []);
  }

  async #finish(
    prev: TicketDoc,
    next: TicketDoc,
    guards: Record<string, unknown>,
    events: readonly PendingEvent[],
    history: readonly HistoryInput[],
    acquiredFor: readonly string[],
    releaseAfter: readonly string[],
  ): Promise<LedgerOutcome> {
    const written = await this.#commit(prev, next, guards, events, history);
    if (written === null) {
      for (const agentId of acquiredFor) await this.#d.store.releaseHold(agentId, prev._id, prev.channel);
      return { kind: "conflict" };
    }
    for (const agentId of releaseAfter) await this.#d.store.releaseHold(agentId, prev._id, prev.channel);
    this.#publishLater(written);
    return { kind: "written", doc: written };
  }
}

/** History entries that start an owner's work on the ticket. */
const OWNERSHIP_STARTS = new Set(["offer.accepted", "owner.reassigned", "ticket.reopened", "owned.work.delivered"]);

/** When the current owner last took the ticket into their work (for the agent's stored idle clock). */
function ownedSince(doc: TicketDoc): number {
  for (let i = doc.history.length - 1; i >= 0; i--) {
    const h = doc.history[i] as HistoryEntry;
    if (OWNERSHIP_STARTS.has(h.type)) return h.at;
  }
  return doc.updatedAt;
}

/** An agent command's answer after its write won (as opposed to an answer decided without writing). */
class Written<T> {
  readonly value: T;
  constructor(value: T) {
    this.value = value;
  }
}
