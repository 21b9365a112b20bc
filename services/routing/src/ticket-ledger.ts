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
  makeOffer,
  reassignBySupervisor,
  reopenTicket,
  requestTransfer,
  resolveTicket,
  withdrawOffer,
  AgentNotFoundError,
  OfferError,
  TicketNotFoundError,
  type Offer,
  type RoutingDomainError,
  type TicketOwnership,
  type WithdrawReason,
} from "./domain/index.ts";
import { ownershipOf, withOwnership } from "./domain-mapping.ts";
import type { Outbox } from "./outbox.ts";
import { GatewayError } from "./routing-errors.ts";
import { channelToProto, pending, priorityToProto, ticketOutbox, type PendingEvent } from "./routing-events.ts";
import type { HistoryEntry, OfferDoc, RoutingStore, TicketDoc } from "./routing-store.ts";
import type { RoutingExplanation } from "@steward/proto";

export interface LedgerDeps {
  store: RoutingStore;
  outbox: Outbox;
  offerTimeoutMs: (channel: TicketDoc["channel"]) => number;
  maxParallelOffers: number;
  reopenWindowMs: number;
  now?: () => number;
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

export class TicketLedger {
  readonly #d: LedgerDeps;

  constructor(deps: LedgerDeps) {
    this.#d = deps;
  }

  #now(): number {
    return this.#d.now?.() ?? Date.now();
  }

  get store(): RoutingStore {
    return this.#d.store;
  }

  /**
   * The one write: `next` replaces `prev` if the store still holds `prev.version` and the guards. Events are
   * stored with it; the caller publishes them (publishNow / the outbox).
   */
  async #commit(prev: TicketDoc, next: TicketDoc, guards: Record<string, unknown>, events: readonly PendingEvent[], history: readonly HistoryInput[]): Promise<TicketDoc | null> {
    const carried = this.#d.outbox.carryOver(prev);
    const at = this.#now();
    const written: TicketDoc = {
      ...next,
      version: prev.version + 1,
      outbox: [...carried, ...ticketOutbox(prev._id, prev.version + 1, events, new Date(at))],
      outboxAt: at,
      history: [...prev.history, ...history.map((h) => ({ ...h, version: prev.version + 1 }))].slice(-MAX_HISTORY),
    };
    return (await this.#d.store.casTicket(written, prev.version, guards)) ? written : null;
  }

  /** For agent commands: the caller answers once the events are out (or left to the sweep if Kafka is down). */
  async #publishNow(doc: TicketDoc): Promise<void> {
    // The change is stored either way; if Kafka does not answer, the outbox sweep announces it later.
    await this.#d.outbox.publish(doc._id, doc.version, doc.outbox).catch(() => undefined);
  }

  #publishLater(doc: TicketDoc): void {
    this.#d.outbox.publishInBackground(doc._id, doc.version, doc.outbox);
  }

  async #read(ticketId: string): Promise<TicketDoc> {
    const doc = await this.#d.store.getTicket(ticketId);
    if (doc === null) throw new TicketNotFoundError(ticketId);
    return doc;
  }

  /** Runs an agent command against the freshest stored ticket until its write wins or the domain refuses. */
  async #retrying<T>(ticketId: string, attempt: (doc: TicketDoc) => Promise<T | null>): Promise<T> {
    for (let i = 0; i < MAX_COMMAND_ATTEMPTS; i++) {
      const result = await attempt(await this.#read(ticketId));
      if (result !== null) return result;
    }
    throw new GatewayError("STORE_CONTENTION", `ticket ${ticketId} kept changing while this request ran; try again`);
  }

  // ---- agent commands (any instance) --------------------------------------------------------------------

  /** First accept wins: the agent owns the ticket; every other pending offer is withdrawn. */
  async accept(offerId: string, agentId: string): Promise<{ ticketId: string }> {
    const offer = await this.#d.store.getOffer(offerId);
    if (offer === null) throw new OfferError("OFFER_NOT_FOUND", `no offer ${offerId}`);
    if (offer.agentId !== agentId) throw new GatewayError("OFFER_NOT_YOURS", "this offer was made to another agent");
    return this.#retrying(offer.ticketId, async (doc) => {
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
      await this.#d.store.markHoldOwned(agentId, doc._id, now);
      for (const o of withdrawn) await this.#d.store.releaseHold(o.agentId, doc._id, doc.channel);
      await this.#publishNow(written);
      return { ticketId: doc._id };
    });
  }

  /** The agent says no: their slot frees and the ticket moves on (they are asked again only if nobody else can take it). */
  async decline(offerId: string, agentId: string, reason: string): Promise<void> {
    const offer = await this.#d.store.getOffer(offerId);
    if (offer === null) throw new OfferError("OFFER_NOT_FOUND", `no offer ${offerId}`);
    if (offer.agentId !== agentId) throw new GatewayError("OFFER_NOT_YOURS", "this offer was made to another agent");
    await this.#retrying(offer.ticketId, async (doc) => {
      if (!doc.pendingOffers.some((o) => o.offerId === offerId)) {
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
      await this.#d.store.releaseHold(agentId, doc._id, doc.channel);
      await this.#publishNow(written);
      return true;
    });
  }

  /** Only the owner resolves; their slot frees; lastOwnerId stays for a reopen. */
  async resolve(ticketId: string, agentId: string): Promise<void> {
    await this.#retrying(ticketId, async (doc) => {
      if (doc.status === "resolved" && doc.lastOwnerId === agentId && doc.history.at(-1)?.type === "ticket.resolved") {
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
      if (!doc.heldForOwner) await this.#d.store.releaseHold(agentId, doc._id, doc.channel);
      await this.#publishNow(written);
      return true;
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
      if (!doc.heldForOwner) await this.#d.store.releaseHold(from, ticketId, doc.channel);
      await this.#publishNow(written);
      return { ownerId: toAgentId, heldForOwner: !took };
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
    // The offers' explanations are written alongside the ticket; both are stored before anyone hears of the offer.
    const explained = Promise.all(
      made.map((offer, i) => {
        const offerDoc: OfferDoc = { _id: offer.offerId, ticketId: doc._id, agentId: offer.agentId, channel: doc.channel, offeredAt: offer.offeredAt, expiresAt: offer.expiresAt, explanation: (proposed[i] as ProposedOffer).explanation.stored };
        return this.#d.store.putOffer(offerDoc);
      }),
    );
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
    const next: TicketDoc = { ...withOwnership(doc, state, now), offerIds: [...doc.offerIds, ...made.map((o) => o.offerId)], noEligible: null };
    const history = made.map((o, i) => ({ at: now, type: "offer.made", actor: "routing", detail: { offerId: o.offerId, agentId: o.agentId, why: (proposed[i] as ProposedOffer).explanation.proto.summary } }));
    const outcome = await this.#finish(doc, next, { status: "waiting" }, events, history, taken.map((o) => o.agentId), [], explained);
    await explained;
    return outcome;
  }

  /** Ends an offer nobody answered in time: like a decline, the agent goes to the back of the rotation. */
  async expire(doc: TicketDoc, agentId: string): Promise<LedgerOutcome> {
    const now = this.#now();
    const offer = doc.pendingOffers.find((o) => o.agentId === agentId);
    const result = expireOffer(ownershipOf(doc), agentId, now);
    if (!result.ok || offer === undefined) return { kind: "rejected", error: result.ok ? new TicketNotFoundError(doc._id) : result.error };
    return this.#finish(
      doc,
      withOwnership(doc, result.value.state, now),
      { status: "waiting" },
      [pending("offerClosed", { offerId: offer.offerId, agentId, outcome: "expired", reason: "no answer before the offer timed out" })],
      [{ at: now, type: "offer.expired", actor: "routing", detail: { offerId: offer.offerId, agentId } }],
      [],
      [agentId],
    );
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
      [pending("collaboratorAdded", { agentId, reason })],
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
    /** Writes that must be stored before the events go out. */
    beforePublish: Promise<unknown> = Promise.resolve(),
  ): Promise<LedgerOutcome> {
    const written = await this.#commit(prev, next, guards, events, history);
    if (written === null) {
      for (const agentId of acquiredFor) await this.#d.store.releaseHold(agentId, prev._id, prev.channel);
      return { kind: "conflict" };
    }
    for (const agentId of releaseAfter) await this.#d.store.releaseHold(agentId, prev._id, prev.channel);
    await beforePublish;
    this.#publishLater(written);
    return { kind: "written", doc: written };
  }
}

export function keepKeys(keys: readonly string[], key: string): string[] {
  return [...keys.filter((k) => k !== key), key].slice(-50);
}
