// Keeps the ticket view current from the other services' events (triage, routing, escalation),
// so GET /v1/tickets/{id} shows status, owner, triage reasons and SLA clocks in one place; and sends
// each new ticket's acknowledgement once triage knows the customer's language. Events come in batches:
// all of one ticket's events in a batch cost one read and one guarded write.
import { Topics, channelFromProto, channelToProto, escalationActionName, escalationEffectOf, priorityFromProto, type AgentReplied, type Envelope } from "@steward/proto";
import { newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import { acknowledgementFor, ticketReference } from "./domain/acknowledgement.ts";
import { recipientOn, replyTarget } from "./domain/reply-target.ts";
import { derivedEventId } from "./domain/event-ids.ts";
import { foldViewChanges, type HistoryEntry, type ViewChange } from "./domain/ticket-view.ts";
import type { TicketDoc, TicketStore } from "./ticket-store.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Tickets of one batch projected at the same time (each is a read and a write). */
const TICKETS_IN_FLIGHT = 16;
/**
 * Guarded writes tried per ticket before the batch is retried by the consumer. One ticket is written
 * by at most one partition of each of the three topics at a time, so a few attempts are plenty.
 */
const WRITE_ATTEMPTS = 16;

export async function startProjector(bus: EventBus, store: TicketStore, groupId = "intake-projector"): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [Topics.triaged, Topics.routing, Topics.escalation, Topics.outboundDeliveries],
    partitionsConsumedConcurrently: 6,
    batchHandler: (events) =>
      projectBatch(
        store,
        events.map((e) => e.envelope),
        bus,
      ),
  });
}

/**
 * Projects consecutive events of one partition: each ticket's events become one read and one guarded
 * write (plus its acknowledgement when a first triage is among them). Every ticket is tried before a
 * failure is rethrown, so a retried batch redoes only what did not land (re-applying is a no-op).
 */
export async function projectBatch(store: TicketStore, envelopes: readonly Envelope[], bus?: EventBus): Promise<void> {
  const byTicket = new Map<string, Envelope[]>();
  for (const envelope of envelopes) {
    if (!envelope.ticketId || !envelope.payload) continue;
    const list = byTicket.get(envelope.ticketId);
    if (list) list.push(envelope);
    else byTicket.set(envelope.ticketId, [envelope]);
  }
  const tickets = [...byTicket];
  const failures: unknown[] = [];
  const worker = async () => {
    for (let next = tickets.shift(); next; next = tickets.shift()) {
      await projectTicket(store, next[0], next[1], bus).catch((err: unknown) => void failures.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(TICKETS_IN_FLIGHT, tickets.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

/** Projects one event (without acknowledging): the single-event form of projectBatch. */
export function project(store: TicketStore, envelope: Envelope): Promise<void> {
  return projectBatch(store, [envelope]);
}

export class ProjectionConflictError extends Error {
  readonly code = "PROJECTION_CONFLICT";
  constructor(ticketId: string) {
    super(`ticket ${ticketId} kept changing under the projector`);
    this.name = "ProjectionConflictError";
  }
}

async function projectTicket(store: TicketStore, ticketId: string, envelopes: readonly Envelope[], bus: EventBus | undefined): Promise<void> {
  for (const e of envelopes) if (e.payload?.$case === "agentReplied") await recordReply(store, e, e.payload.value, bus);
  const changes = envelopes.flatMap((e) => viewChangeOf(e) ?? []);
  // Each first (not re-) triage asks for the acknowledgement; the first of them decides its language.
  const firstTriage = bus ? envelopes.find((e) => e.payload?.$case === "ticketTriaged" && !e.payload.value.retriage) : undefined;
  const ackLanguage = firstTriage?.payload?.$case === "ticketTriaged" ? firstTriage.payload.value.language : undefined;
  let acknowledged: HistoryEntry | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const ticket = await store.get(ticketId);
    if (!ticket) {
      // The view is written right after ticket.received is published; the acknowledgement waits for it.
      // Other events for a ticket the view does not show change nothing, as before batching.
      if (bus && ackLanguage !== undefined) throw new TicketViewMissingError(ticketId);
      return;
    }
    const fold = foldViewChanges(ticket, changes);
    if (bus && ackLanguage !== undefined) {
      // Published once per call even when the write below has to be retried.
      acknowledged ??= await acknowledge(bus, ticket, ackLanguage);
      if (acknowledged && !ticket.history.some((h) => h.eventId === acknowledged?.eventId)) fold.entries.push(acknowledged);
    }
    if (await store.writeProjection(ticketId, ticket.viewRevision, fold, new Date())) return;
    if (attempt >= WRITE_ATTEMPTS) throw new ProjectionConflictError(ticketId);
    // A little jitter so writers that lost the same race do not meet again at once.
    await sleep(Math.random() * 5 * attempt);
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
async function recordReply(store: TicketStore, envelope: Envelope, reply: AgentReplied, bus: EventBus | undefined): Promise<void> {
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
}

/**
 * Publishes the ticket's acknowledgement unless its history shows it sent (the event id is derived from
 * the ticket, so a re-send is recognisable downstream too) and returns the history line that marks it
 * sent; the caller writes that line. Automatic e-mails (out-of-office replies, bulk mail) get none, so
 * two auto-responders cannot keep answering each other.
 */
async function acknowledge(bus: EventBus, ticket: TicketDoc, triagedLanguage: string): Promise<HistoryEntry | undefined> {
  const ticketId = ticket._id;
  const eventId = derivedEventId(`acknowledgement\u0000${ticketId}`);
  if (ticket.history.some((h) => h.eventId === eventId)) return undefined;
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
