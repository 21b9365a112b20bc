// Keeps the ticket view current from the other services' events (triage, routing, escalation),
// so GET /v1/tickets/{id} shows status, owner, triage reasons and SLA clocks in one place; and sends
// each new ticket's acknowledgement once triage knows the customer's language. Write-behind (ADR 0015):
// events of every partition are gathered for up to a flush interval, each ticket's events become one
// guarded write onto the copy this process holds, and a batch is committed only once its flush landed.
// The fold does not depend on order: an event for a ticket whose view is not written yet is parked in a
// stub, and a ticket.received whose view is missing (intake died after the publish) completes it.
import { Topics, channelFromProto, channelToProto, escalationActionName, escalationEffectOf, priorityFromProto, type AgentReplied, type Envelope } from "@steward/proto";
import { newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import { acknowledgementFor, ticketReference } from "./domain/acknowledgement.ts";
import { recipientOn, replyTarget } from "./domain/reply-target.ts";
import { derivedEventId } from "./domain/event-ids.ts";
import { acknowledgementDue, emptyProjection, foldViewChanges, type HistoryEntry, type ViewChange } from "./domain/ticket-view.ts";
import { deliveryKey } from "./domain/submission.ts";
import { referenceThreadKey } from "./domain/customer-identity.ts";
import { isStub, type StoredView, type TicketDoc, type TicketStore } from "./ticket-store.ts";
import { TicketViews } from "./ticket-views.ts";
import { CustomerStore } from "./customer-store.ts";
import { writeAcceptedView } from "./accepted-view.ts";
import { WriteBehind } from "./write-behind.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Tickets of one flush projected at the same time (each is at most a read and a write). */
const TICKETS_IN_FLIGHT = 16;
/**
 * Guarded writes tried per ticket before the flush fails (and its batches are retried by the consumer).
 * One ticket is written by at most one partition of each topic at a time, so a few attempts are plenty.
 */
const WRITE_ATTEMPTS = 16;
/** How long events wait to be folded together: the view's lag behind the events (ADR 0015). */
export const DEFAULT_VIEW_FLUSH_MS = 500;
/** A flush starts early once this many tickets wait. */
const FLUSH_TICKETS = 200;

export interface ProjectorDeps {
  store: TicketStore;
  views: TicketViews;
  customers: CustomerStore;
  bus?: EventBus;
}

export interface ProjectorOptions {
  views?: TicketViews;
  customers?: CustomerStore;
  flushMs?: number;
}

export async function startProjector(bus: EventBus, store: TicketStore, groupId = "intake-projector", opts: ProjectorOptions = {}): Promise<Subscription> {
  const deps: ProjectorDeps = { store, views: opts.views ?? new TicketViews(store), customers: opts.customers ?? new CustomerStore(store.db), bus };
  const buffer = new WriteBehind<Envelope>((envelopes) => projectTickets(deps, envelopes), { flushMs: opts.flushMs ?? DEFAULT_VIEW_FLUSH_MS, maxKeys: FLUSH_TICKETS });
  const subscription = await bus.subscribe({
    groupId,
    topics: [Topics.received, Topics.triaged, Topics.routing, Topics.escalation, Topics.outboundDeliveries],
    partitionsConsumedConcurrently: "all",
    batchHandler: async (events) => {
      const envelopes = events.map((e) => e.envelope);
      for (const e of envelopes) if (e.payload?.$case === "agentReplied") await recordReply(deps, e, e.payload.value);
      // Resolves once these events' changes are in the store: only then may the consumer commit them.
      await buffer.add(envelopes.filter((e) => e.ticketId && e.payload).map((e) => [e.ticketId, e] as const));
    },
  });
  return {
    async stop() {
      await subscription.stop();
      await buffer.close();
    },
  };
}

/**
 * Projects events now, without waiting for a flush interval (tests, and anything that must see its
 * write before it goes on). Every ticket is tried before a failure is rethrown, so a retry redoes only
 * what did not land (re-applying is a no-op).
 */
export async function projectBatch(store: TicketStore, envelopes: readonly Envelope[], bus?: EventBus, views?: TicketViews): Promise<void> {
  const deps: ProjectorDeps = { store, views: views ?? new TicketViews(store), customers: new CustomerStore(store.db), ...(bus ? { bus } : {}) };
  for (const e of envelopes) if (e.payload?.$case === "agentReplied") await recordReply(deps, e, e.payload.value);
  const byTicket = new Map<string, Envelope[]>();
  for (const envelope of envelopes) {
    if (!envelope.ticketId || !envelope.payload) continue;
    const list = byTicket.get(envelope.ticketId);
    if (list) list.push(envelope);
    else byTicket.set(envelope.ticketId, [envelope]);
  }
  await projectTickets(deps, byTicket);
}

/** Projects one event (without acknowledging): the single-event form of projectBatch. */
export function project(store: TicketStore, envelope: Envelope): Promise<void> {
  return projectBatch(store, [envelope]);
}

/** Each ticket's gathered events become (at most) one read and one guarded write. */
async function projectTickets(deps: ProjectorDeps, byTicket: ReadonlyMap<string, readonly Envelope[]>): Promise<void> {
  const tickets = [...byTicket];
  const failures: unknown[] = [];
  const worker = async () => {
    for (let next = tickets.shift(); next; next = tickets.shift()) {
      await projectTicket(deps, next[0], next[1]).catch((err: unknown) => void failures.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(TICKETS_IN_FLIGHT, tickets.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

export class ProjectionConflictError extends Error {
  readonly code = "PROJECTION_CONFLICT";
  constructor(ticketId: string) {
    super(`ticket ${ticketId} kept changing under the projector`);
    this.name = "ProjectionConflictError";
  }
}

async function projectTicket(deps: ProjectorDeps, ticketId: string, envelopes: readonly Envelope[]): Promise<void> {
  const { store, views, bus } = deps;
  const changes = envelopes.flatMap((e) => viewChangeOf(e) ?? []);
  const received = envelopes.find((e) => e.payload?.$case === "ticketReceived");
  let acknowledged: HistoryEntry | undefined;
  for (let attempt = 1; ; attempt += 1) {
    let stored: StoredView | null = views.latest(ticketId) ?? (await views.load(ticketId));
    if (received && (stored === null || isStub(stored))) {
      // Intake published the ticket but its view is not there (it died or lags between the two):
      // complete the acceptance from what it recorded before publishing.
      await completeAcceptance(deps, received);
      stored = await views.load(ticketId);
    }
    if (stored === null) {
      if (changes.length === 0) return;
      // Events before the view: park them in a stub; creating the view fills it in.
      const fold = foldViewChanges({ ...emptyProjection(), history: [] }, changes);
      if (await store.createStub(ticketId, fold, new Date())) return;
      views.forget(ticketId);
      continue;
    }
    if (!isStub(stored)) await completeFollowUps(deps, stored, envelopes);
    const fold = foldViewChanges(stored, changes);
    const ackEventId = derivedEventId(`acknowledgement\u0000${ticketId}`);
    const ackLanguage = bus && !isStub(stored) ? acknowledgementDue([...stored.history, ...fold.entries], ackEventId) : undefined;
    if (bus && ackLanguage !== undefined && !isStub(stored)) {
      // Published once per call even when the write below has to be retried.
      acknowledged ??= await acknowledge(bus, stored, ackLanguage, ackEventId);
      if (acknowledged && !stored.history.some((h) => h.eventId === acknowledged?.eventId)) fold.entries.push(acknowledged);
    }
    if (fold.entries.length === 0) return;
    const at = new Date();
    if (await store.writeProjection(ticketId, stored.viewRevision, fold, at)) {
      views.applied(stored, fold, at);
      return;
    }
    views.forget(ticketId);
    if (attempt >= WRITE_ATTEMPTS) throw new ProjectionConflictError(ticketId);
    // A little jitter so writers that lost the same race do not meet again at once.
    await sleep(Math.random() * 5 * attempt);
  }
}

/** Writes a published ticket's view from its delivery record (idempotent; the pipeline may be doing the same). */
async function completeAcceptance(deps: ProjectorDeps, received: Envelope): Promise<void> {
  if (received.payload?.$case !== "ticketReceived") return;
  const v = received.payload.value;
  const delivery = v.integrationId ? await deps.store.findDelivery(deliveryKey(v.integrationId, v.externalId)) : null;
  const recorded = delivery?.ticketId === received.ticketId ? delivery : null;
  const created = await writeAcceptedView(
    deps,
    received,
    recorded?.threadLinks ?? [referenceThreadKey(ticketReference(received.ticketId))],
    undefined,
    recorded?.customerId === undefined ? undefined : { customerId: recorded.customerId, keys: recorded.customerKeys ?? [] },
    new Date(),
  );
  if (created) deps.views.forget(received.ticketId);
}

/**
 * A follow-up whose message the view does not show (intake died between its publish and its view write)
 * is appended here; the append is guarded by the message id, so racing the pipeline changes nothing twice.
 * (The signature block of such a follow-up is not in the event and stays out of the view.)
 */
async function completeFollowUps(deps: ProjectorDeps, view: TicketDoc, envelopes: readonly Envelope[]): Promise<void> {
  for (const e of envelopes) {
    if (e.payload?.$case !== "messageReceived") continue;
    const messageId = e.payload.value.messageId;
    if (view.messages.some((m) => m.id === messageId)) continue;
    await writeAcceptedView(deps, e, [], undefined, undefined, new Date());
    deps.views.forget(view._id);
  }
}

export class TicketViewMissingError extends Error {
  readonly code = "TICKET_VIEW_MISSING";
  constructor(ticketId: string) {
    super(`ticket ${ticketId} is not in the view yet`);
    this.name = "TicketViewMissingError";
  }
}

/** Where the acknowledgement goes on the ticket's channel: the e-mail address, the callback number, else the customer id. */
function recipientOf(t: TicketDoc): string {
  return recipientOn(t.channel, t.customer, t.channelRefs);
}

/**
 * Adds an agent's reply or internal note to the conversation (intake's own kind of write: guarded by the
 * message id, so it commutes with the projector's folds) and sends a public reply to the customer. The
 * outbound notification goes first and carries an id derived from the message: a crash between the two
 * writes sends it again with the same id (receivers de-duplicate by it), and a reply already in the view
 * is not sent again. Internal notes never leave Steward.
 */
async function recordReply(deps: ProjectorDeps, envelope: Envelope, reply: AgentReplied): Promise<void> {
  const { store, bus } = deps;
  const ticketId = envelope.ticketId;
  const ticket = await store.get(ticketId);
  // Routing knows the ticket only after intake wrote its view: a missing view is a reply to try again.
  if (!ticket) throw new TicketViewMissingError(ticketId);
  if (ticket.messages.some((m) => m.id === reply.messageId)) return;
  const visibility = reply.visibility === "internal" ? "internal" : "public";
  const target = replyTarget(ticket, reply.inReplyToMessageId);
  const at = envelope.occurredAt ?? new Date();
  if (visibility === "public" && bus) {
    await bus.publish({
      topic: Topics.outbound,
      envelope: newEnvelope(
        "notification",
        ticketId,
        {
          channel: channelToProto(target.channel),
          kind: "reply",
          recipient: target.recipient,
          language: ticket.language ?? "",
          text: reply.body,
          reference: ticketReference(ticketId),
          messageId: reply.messageId,
          inReplyTo: target.inReplyTo?.channelRefs?.["messageId"] ?? "",
        },
        "intake",
        { eventId: derivedEventId(`reply\u0000${reply.messageId}`), occurredAt: at },
      ),
    });
  }
  const sequence = (await store.nextSequence(ticketId)) ?? ticket.messageCount + 1;
  const channel = visibility === "public" ? target.channel : (channelFromProto(reply.channel) ?? ticket.channel);
  await store.appendMessage(
    ticketId,
    {
      id: reply.messageId,
      externalId: "",
      channel,
      from: "agent",
      body: reply.body,
      sequence,
      at,
      visibility,
      agentId: reply.agentId,
      ...(target.inReplyTo ? { inReplyToMessageId: target.inReplyTo.id } : {}),
    },
    {
      eventId: envelope.eventId,
      type: envelope.type,
      at,
      actor: reply.agentId,
      detail: { messageId: reply.messageId, visibility, ...(visibility === "public" ? { channel } : {}) },
    },
  );
  deps.views.forget(ticketId);
}

/**
 * Publishes the ticket's acknowledgement, which the caller found due (its history does not show it sent;
 * the event id is derived from the ticket, so a re-send is recognisable downstream too), and returns the
 * history line that marks it sent; the caller writes that line. Automatic e-mails (out-of-office replies, bulk mail) get none, so
 * two auto-responders cannot keep answering each other.
 */
async function acknowledge(bus: EventBus, ticket: TicketDoc, triagedLanguage: string, eventId: string): Promise<HistoryEntry | undefined> {
  const ticketId = ticket._id;
  if (ticket.metadata["autoSubmitted"]) return undefined;
  const ack = acknowledgementFor(ticketId, [triagedLanguage, ticket.customer.language]);
  const at = new Date();
  await bus.publish({
    topic: Topics.outbound,
    envelope: newEnvelope(
      "notification",
      ticketId,
      {
        channel: channelToProto(ticket.channel),
        kind: "acknowledgement",
        recipient: recipientOf(ticket),
        language: ack.language,
        text: ack.text,
        reference: ack.reference,
        messageId: "",
        inReplyTo: "",
      },
      "intake",
      { eventId, occurredAt: at },
    ),
  });
  return { eventId, type: "notification", at, actor: "intake", detail: { kind: "acknowledgement", language: ack.language, reference: ack.reference } };
}

/** What one event of another service changes in the view; undefined when it changes nothing. */
export function viewChangeOf(envelope: Envelope): ViewChange | undefined {
  const p = envelope.payload;
  if (!p || !envelope.ticketId) return undefined;
  const at = envelope.occurredAt ?? new Date();
  const entry = (actor?: string, detail?: Record<string, unknown>): HistoryEntry => ({
    eventId: envelope.eventId,
    type: envelope.type,
    at,
    ...(actor ? { actor } : {}),
    ...(detail ? { detail } : {}),
  });
  switch (p.$case) {
    case "ticketTriaged": {
      const t = p.value;
      const priority = priorityFromProto(t.priority) ?? null;
      return {
        entry: entry("triage", { intent: t.intent, language: t.language, priority, group: t.group, retriage: t.retriage }),
        set: {
          status: "triaged",
          language: t.language,
          intent: t.intent,
          priority,
          group: t.group,
          requiredSkills: t.requiredSkills.map((s) => ({ name: s.name, minLevel: s.minLevel, optional: s.optional })),
          triage: {
            language: t.language,
            languageConfidence: t.languageConfidence,
            intent: t.intent,
            intentConfidence: t.intentConfidence,
            priority,
            reasons: t.reasons,
            policyVersion: t.policyVersion,
            slaPolicy: t.slaPolicy,
            repeatContactCount: t.repeatContactCount,
            answerDidNotHelp: t.answerDidNotHelp,
          },
        },
        onlyIfStatusIn: ["new"],
      };
    }
    case "ticketQueued":
      return { entry: entry("routing", { group: p.value.group, reason: p.value.reason }), set: { status: "waiting" }, onlyIfStatusIn: ["new", "triaged", "offered"] };
    case "noEligibleAgent":
      return { entry: entry("routing", { group: p.value.group, reasons: p.value.reasons }), set: { status: "waiting" }, onlyIfStatusIn: ["new", "triaged", "offered"] };
    case "offerMade":
      return {
        entry: entry("routing", { agentId: p.value.agentId, offerId: p.value.offerId, why: p.value.explanation?.summary }),
        set: { status: "offered" },
        onlyIfStatusIn: ["new", "triaged", "waiting"],
      };
    case "offerClosed":
      return {
        entry: entry(p.value.agentId, { offerId: p.value.offerId, outcome: p.value.outcome, reason: p.value.reason }),
        set: { status: "waiting" },
        onlyIfStatusIn: ["offered"],
      };
    case "ticketAssigned":
      return {
        entry: entry(p.value.agentId, { offerId: p.value.offerId }),
        set: { status: "assigned", ownerId: p.value.agentId, lastOwnerId: p.value.agentId },
        onlyIfStatusIn: ["new", "triaged", "waiting", "offered"],
      };
    case "followUpRouted":
      return { entry: entry("routing", { agentId: p.value.agentId, messageId: p.value.messageId }) };
    case "ticketResolved":
      return { entry: entry(p.value.agentId), set: { status: "resolved", ownerId: null, lastOwnerId: p.value.agentId } };
    case "ticketReopened":
      return { entry: entry("customer", { ownerId: p.value.ownerId }), set: { status: "assigned", ownerId: p.value.ownerId, lastOwnerId: p.value.ownerId } };
    case "ownerReassigned":
      return {
        entry: entry(p.value.supervisorId, { from: p.value.fromAgentId, to: p.value.toAgentId, reason: p.value.reason }),
        set: { ownerId: p.value.toAgentId, lastOwnerId: p.value.toAgentId },
      };
    case "collaboratorAdded":
      return { entry: entry("escalation", { agentId: p.value.agentId, reason: p.value.reason }), addCollaborator: p.value.agentId };
    case "slaUpdated": {
      const s = p.value;
      return {
        entry: entry("escalation", { level: s.level }),
        sla: {
          policy: s.policy,
          policyVersion: s.policyVersion,
          firstResponseDue: s.firstResponseDue?.toISOString() ?? null,
          nextResponseDue: s.nextResponseDue?.toISOString() ?? null,
          resolutionDue: s.resolutionDue?.toISOString() ?? null,
          paused: s.paused,
          warnings: s.warnings,
          breaches: s.breaches,
          level: s.level,
          revision: s.revision,
        },
      };
    }
    case "outboundDelivery": {
      // Shown on the ticket (and on the message it delivered): delivered, retrying with the attempt, failed with the reason.
      const d = p.value;
      return {
        entry: entry("outbound", {
          deliveryId: d.deliveryId,
          integrationId: d.integrationId,
          kind: d.kind,
          status: d.status,
          attempt: d.attempt,
          ...(d.messageId ? { messageId: d.messageId } : {}),
          ...(d.reason ? { reason: d.reason } : {}),
          ...(d.nextAttemptAt ? { nextAttemptAt: d.nextAttemptAt.toISOString() } : {}),
        }),
      };
    }
    case "escalationAction": {
      const a = p.value;
      const effect = escalationEffectOf(a);
      // An effect this build does not know (a newer producer) is still shown, under the name it was sent with.
      const action = effect === undefined ? a.action : escalationActionName(effect);
      const priority = effect?.$case === "raisePriority" ? priorityFromProto(effect.value.to) : undefined;
      return { entry: entry("escalation", { action, level: a.level, reason: a.reason }), ...(priority ? { set: { priority } } : {}) };
    }
    default:
      return undefined;
  }
}
