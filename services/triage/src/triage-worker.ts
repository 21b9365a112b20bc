// Turns ticket.received / message.received into ticket.triaged, one partition's batch at a time: decode,
// decide with the pure engine, remember the decisions, publish. A ticket's events in a batch are applied
// in order in memory and written once; different tickets are written together or in parallel. A new
// ticket's first triage is published beside the insert of its decision: the decision depends only on the
// event and on the customer's contacts recorded before the ticket's own, so a retry after either failed
// decides and publishes the same thing under the same event id. A re-triage is published once its
// decision is stored, and a redelivered input republishes the stored decision under the same event id.
import { Topics, channelFromProto, channelToProto, priorityToProto, type Envelope, type MessageReceived, type TicketReceived } from "@steward/proto";
import { newEnvelope, type EventBus, type OutgoingEvent } from "@steward/messaging";
import type { Logger } from "@steward/telemetry";
import { analyzeTicket, retriageTicket, triageTicket, type MessageAnalysis, type TicketForTriage, type TriageDecision, type TriageEngine } from "./domain/index.ts";
import { countRecentByIntent, type Contact, type DecisionDoc, type TriageStore } from "./triage-store.ts";

export interface TriageWorkerDeps {
  store: TriageStore;
  bus: EventBus;
  engine: () => TriageEngine;
  repeatWindowMs: number;
  log: Logger;
}

/** One input event triage answers: a new ticket, or a customer's follow-up. */
type Input = { envelope: Envelope; at: Date } & ({ kind: "ticket"; ticket: TicketReceived } | { kind: "followUp"; message: MessageReceived });

interface Answer {
  input: Envelope;
  decision: TriageDecision;
  customerId: string;
  subject: string;
  retriage: boolean;
}

/** A ticket's first triage, decided in this batch (its first event here is ticket.received). */
interface FirstTriage {
  ticketId: string;
  first: Input & { kind: "ticket" };
  rest: Input[];
  customerId: string;
  forTriage: TicketForTriage;
  analysis: MessageAnalysis;
  contact: Contact;
}

/** Handles consecutive events of one partition (in offset order); idempotent per event. */
export async function handleReceivedBatch(deps: TriageWorkerDeps, envelopes: readonly Envelope[]): Promise<void> {
  const engine = deps.engine();
  const firsts: FirstTriage[] = [];
  const known: Array<{ ticketId: string; inputs: Input[] }> = [];
  for (const [ticketId, inputs] of inputsByTicket(envelopes)) {
    const [first, ...rest] = inputs;
    if (first?.kind === "ticket") firsts.push(prepareFirstTriage(engine, ticketId, first, rest));
    else known.push({ ticketId, inputs });
  }

  // Known tickets are read while new tickets' contacts are recorded.
  const [stored, recent] = await Promise.all([Promise.all(known.map((k) => deps.store.getDecision(k.ticketId))), recordContacts(deps, firsts)]);
  const decided = firsts.map((f) => decideFirstTriage(deps, engine, f, recent.get(f.ticketId) ?? {}));

  const orphans: string[] = [];
  const knownAnswers = known.map(async (k, i) => {
    const doc = stored[i];
    if (doc) return applyAndStore(deps, engine, doc, k.inputs);
    // The ticket's own event has not been triaged yet (it is on the same partition, so this only
    // happens when its triage failed); the batch is answered, then fails so that this is retried.
    orphans.push(k.ticketId);
    return [];
  });
  // First triages go out beside their insert (one store round trip fewer before the offer, ADR 0019);
  // re-triages of known tickets once their update is in.
  const firstAnswers = publish(
    deps,
    decided.flatMap((d) => d.answers),
  );
  const [alreadyDecided, answered] = await Promise.all([deps.store.insertDecisions(decided.map((d) => d.doc)), Promise.all(knownAnswers), firstAnswers]);
  await publish(deps, answered.flat());

  // A first triage that found a decision stored (a redelivery): every event of the ticket is
  // answered from what is stored.
  const redelivered = firsts.filter((f) => alreadyDecided.has(f.ticketId));
  const again = await Promise.all(
    redelivered.map(async (f) => {
      const doc = await deps.store.getDecision(f.ticketId);
      if (!doc) throw new Error("a triage decision vanished after a duplicate insert");
      return applyAndStore(deps, engine, doc, [f.first, ...f.rest]);
    }),
  );
  await publish(deps, again.flat());

  if (orphans.length > 0) throw new Error(`follow-up for a ticket without a triage decision (${orphans.join(", ")})`);
}

/** The events triage answers, grouped by ticket in offset order. */
function inputsByTicket(envelopes: readonly Envelope[]): Map<string, Input[]> {
  const byTicket = new Map<string, Input[]>();
  for (const envelope of envelopes) {
    const input = toInput(envelope);
    if (!input) continue;
    const inputs = byTicket.get(envelope.ticketId);
    if (inputs) inputs.push(input);
    else byTicket.set(envelope.ticketId, [input]);
  }
  return byTicket;
}

function prepareFirstTriage(engine: TriageEngine, ticketId: string, first: Input & { kind: "ticket" }, rest: Input[]): FirstTriage {
  const t = first.ticket;
  const forTriage: TicketForTriage = {
    subject: t.subject || undefined,
    body: t.body,
    channel: channelFromProto(t.channel) ?? "api",
    customer: {
      tier: t.customer?.tier || undefined,
      language: t.customer?.language || undefined,
    },
  };
  // The intent does not depend on the recent contacts: the contact is recorded by the same command
  // that reads them.
  const analysis = analyzeTicket(engine, forTriage);
  return {
    ticketId,
    first,
    rest,
    customerId: t.customer?.id ?? "unknown",
    forTriage,
    analysis,
    contact: { ticketId, intent: analysis.intent.intent, at: first.at },
  };
}

/**
 * Records the new tickets' contacts, one command per customer, and returns each ticket's recent
 * contacts by intent. A ticket also sees the same customer's earlier tickets of this batch, as if
 * triaged one by one.
 */
async function recordContacts(deps: TriageWorkerDeps, firsts: readonly FirstTriage[]): Promise<Map<string, Record<string, number>>> {
  const byCustomer = new Map<string, FirstTriage[]>();
  for (const f of firsts) {
    const tickets = byCustomer.get(f.customerId);
    if (tickets) tickets.push(f);
    else byCustomer.set(f.customerId, [f]);
  }
  const recent = new Map<string, Record<string, number>>();
  await Promise.all(
    [...byCustomer].map(async ([customerId, tickets]) => {
      const contacts = tickets.map((f) => f.contact);
      const previous = await deps.store.recordContacts(customerId, contacts);
      tickets.forEach((f, i) => {
        const since = new Date(f.first.at.getTime() - deps.repeatWindowMs);
        // A ticket recorded before (this is a retry) counts only the contacts recorded before its own:
        // the retry decides what the first attempt decided, whatever came since.
        const own = previous.findIndex((c) => c.ticketId === f.ticketId);
        const seen = [...(own >= 0 ? previous.slice(0, own) : previous), ...contacts.slice(0, i)];
        recent.set(f.ticketId, countRecentByIntent(seen, f.ticketId, since));
      });
    }),
  );
  return recent;
}

/** The first decision, then the ticket's later events of the batch applied to it: one doc to insert. */
function decideFirstTriage(deps: TriageWorkerDeps, engine: TriageEngine, f: FirstTriage, recentContactsByIntent: Record<string, number>): { doc: DecisionDoc; answers: Answer[] } {
  const subject = f.first.ticket.subject;
  const decision = triageTicket(engine, { ...f.forTriage, recentContactsByIntent }, f.analysis);
  const doc: DecisionDoc = {
    _id: f.ticketId,
    customerId: f.customerId,
    subject,
    decision,
    eventIds: [f.first.envelope.eventId],
    updatedAt: f.first.at,
  };
  const later = applyInputs(deps, engine, doc, f.rest);
  return {
    doc: {
      ...doc,
      decision: later.decision,
      eventIds: [...doc.eventIds, ...later.newEventIds],
      updatedAt: later.updatedAt,
    },
    answers: [
      {
        input: f.first.envelope,
        decision,
        customerId: f.customerId,
        subject,
        retriage: false,
      },
      ...later.answers,
    ],
  };
}

function toInput(envelope: Envelope): Input | undefined {
  const p = envelope.payload;
  const at = envelope.occurredAt ?? new Date();
  if (p?.$case === "ticketReceived") return { kind: "ticket", envelope, at, ticket: p.value };
  if (p?.$case === "messageReceived" && p.value.from === "customer") return { kind: "followUp", envelope, at, message: p.value };
  return undefined;
}

/** Applies a ticket's events to its stored decision, stores the result once if anything is new, and returns the answers. */
async function applyAndStore(deps: TriageWorkerDeps, engine: TriageEngine, doc: DecisionDoc, inputs: Input[]): Promise<Answer[]> {
  const applied = applyInputs(deps, engine, doc, inputs);
  if (applied.newEventIds.length > 0) await deps.store.appendDecision(doc._id, applied.decision, applied.newEventIds, applied.updatedAt);
  return applied.answers;
}

/**
 * In order: a follow-up not answered yet re-triages from the decision so far; an event already answered
 * (a redelivery), or another ticket.received of a triaged ticket, gets the decision so far.
 */
function applyInputs(
  deps: TriageWorkerDeps,
  engine: TriageEngine,
  doc: DecisionDoc,
  inputs: Input[],
): {
  decision: TriageDecision;
  newEventIds: string[];
  updatedAt: Date;
  answers: Answer[];
} {
  let decision = doc.decision;
  let updatedAt = doc.updatedAt;
  const newEventIds: string[] = [];
  const answers: Answer[] = [];
  for (const input of inputs) {
    const eventId = input.envelope.eventId;
    if (input.kind === "ticket") {
      answers.push({
        input: input.envelope,
        decision,
        customerId: input.ticket.customer?.id ?? "unknown",
        subject: input.ticket.subject,
        retriage: false,
      });
      continue;
    }
    if (!doc.eventIds.includes(eventId) && !newEventIds.includes(eventId)) {
      const m = input.message;
      const result = retriageTicket(engine, decision, {
        body: m.body,
        channel: channelFromProto(m.channel),
      });
      decision = result.decision;
      updatedAt = input.at;
      newEventIds.push(eventId);
      deps.log.info(
        {
          ticketId: doc._id,
          changed: result.changed,
          intent: decision.triage.intent,
          priority: decision.triage.priority,
        },
        "re-triaged",
      );
    }
    answers.push({
      input: input.envelope,
      decision,
      customerId: doc.customerId,
      subject: doc.subject,
      retriage: true,
    });
  }
  return { decision, newEventIds, updatedAt, answers };
}

async function publish(deps: TriageWorkerDeps, answers: readonly Answer[]): Promise<void> {
  if (answers.length === 0) return;
  await deps.bus.publish(answers.map(toTriaged));
}

function toTriaged({ input, decision: d, customerId, subject, retriage }: Answer): OutgoingEvent {
  return {
    topic: Topics.triaged,
    envelope: newEnvelope(
      "ticketTriaged",
      input.ticketId,
      {
        language: d.triage.language,
        languageConfidence: d.triage.languageConfidence,
        intent: d.triage.intent,
        intentConfidence: d.triage.intentConfidence,
        priority: priorityToProto(d.triage.priority),
        group: d.group,
        requiredSkills: d.requiredSkills.map((s) => ({
          name: s.name,
          minLevel: s.minLevel,
          optional: s.optional,
        })),
        slaPolicy: d.slaPolicy,
        policyVersion: d.policyVersion,
        reasons: [...d.triage.reasons],
        repeatContactCount: d.repeatContact.count,
        answerDidNotHelp: d.answerDidNotHelp,
        retriage,
        channel: channelToProto(d.channel),
        overflowGroup: d.overflowGroup,
        customerTier: d.customerTier,
        customerId,
        subject,
        // A first triage answers the ticket's ticket.received: its time is when intake accepted the ticket.
        ticketReceivedAt: retriage ? undefined : input.occurredAt,
      },
      "triage",
      { eventId: `${input.eventId}/triaged` },
    ),
  };
}
