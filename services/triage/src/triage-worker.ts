// Turns ticket.received / message.received into ticket.triaged: decode, decide with the pure engine,
// remember the decision, publish. A redelivered input republishes the same event id.
import { Topics, channelFromProto, channelToProto, priorityToProto, type Envelope } from "@steward/proto";
import { newEnvelope, type EventBus } from "@steward/messaging";
import type { Logger } from "@steward/telemetry";
import { retriageTicket, triageTicket, type TriageDecision, type TriageEngine } from "./domain/index.ts";
import type { TriageStore } from "./triage-store.ts";

export interface TriageWorkerDeps {
  store: TriageStore;
  bus: EventBus;
  engine: () => TriageEngine;
  repeatWindowMs: number;
  log: Logger;
}

export async function handleReceived(deps: TriageWorkerDeps, envelope: Envelope): Promise<void> {
  const p = envelope.payload;
  const at = envelope.occurredAt ?? new Date();
  if (p?.$case === "ticketReceived") {
    const t = p.value;
    const customerId = t.customer?.id ?? "unknown";
    const known = await deps.store.getDecision(envelope.ticketId);
    let decision: TriageDecision;
    if (known) {
      decision = known.decision; // a redelivery: publish the same answer again
    } else {
      const recent = await deps.store.recentContactsByIntent(customerId, envelope.ticketId, new Date(at.getTime() - deps.repeatWindowMs));
      decision = triageTicket(deps.engine(), {
        subject: t.subject || undefined,
        body: t.body,
        channel: channelFromProto(t.channel) ?? "api",
        customer: { tier: t.customer?.tier || undefined, language: t.customer?.language || undefined },
        recentContactsByIntent: recent,
      });
      await deps.store.saveDecision(envelope.ticketId, customerId, decision, envelope.eventId, at, t.subject);
      await deps.store.recordContact(customerId, envelope.ticketId, decision.triage.intent, at);
    }
    await publish(deps, envelope, decision, customerId, false, t.subject);
    return;
  }
  if (p?.$case === "messageReceived") {
    const m = p.value;
    if (m.from !== "customer") return;
    const known = await deps.store.getDecision(envelope.ticketId);
    if (!known) {
      // The ticket's own event has not been triaged yet (it is on the same partition, so this only
      // happens when its triage failed); retrying lets it land first.
      throw new Error("follow-up for a ticket without a triage decision");
    }
    let decision = known.decision;
    if (!known.eventIds.includes(envelope.eventId)) {
      const result = retriageTicket(deps.engine(), known.decision, { body: m.body, channel: channelFromProto(m.channel) });
      decision = result.decision;
      await deps.store.saveDecision(envelope.ticketId, known.customerId, decision, envelope.eventId, at, known.subject);
      deps.log.info({ ticketId: envelope.ticketId, changed: result.changed, intent: decision.triage.intent, priority: decision.triage.priority }, "re-triaged");
    }
    await publish(deps, envelope, decision, known.customerId, true, known.subject);
  }
}

async function publish(deps: TriageWorkerDeps, input: Envelope, d: TriageDecision, customerId: string, retriage: boolean, subject: string): Promise<void> {
  await deps.bus.publish({
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
        requiredSkills: d.requiredSkills.map((s) => ({ name: s.name, minLevel: s.minLevel, optional: s.optional })),
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
      },
      "triage",
      { eventId: `${input.eventId}/triaged` },
    ),
  });
}
