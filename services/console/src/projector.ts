// Feeds the console's read models from Kafka under its own consumer group: intake's, triage's, routing's
// and escalation's ticket events into ticket summaries, and agents' profile and presence events.
import { Topics, type Envelope } from "@steward/proto";
import type { EventBus, Subscription } from "@steward/messaging";
import type { AgentEvent, TicketEvent } from "./domain/index.ts";
import { agentEventOf, ticketEventOf } from "./console-events.ts";
import type { ConsoleStore } from "./console-store.ts";

export const CONSUMER_GROUP = "console";

export function startProjector(bus: EventBus, store: ConsoleStore, groupId = CONSUMER_GROUP): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [Topics.received, Topics.triaged, Topics.routing, Topics.escalation, Topics.agents],
    partitionsConsumedConcurrently: 4,
    batchHandler: (events) =>
      projectBatch(
        store,
        events.map((e) => e.envelope),
      ),
  });
}

/** One guarded write per ticket and per agent of the batch; every one is tried before a failure is rethrown. */
export async function projectBatch(store: ConsoleStore, envelopes: readonly Envelope[]): Promise<void> {
  const tickets = new Map<string, TicketEvent[]>();
  const agents = new Map<string, AgentEvent[]>();
  for (const e of envelopes) {
    const te = ticketEventOf(e);
    if (te !== null) tickets.set(te.ticketId, [...(tickets.get(te.ticketId) ?? []), te]);
    const ae = agentEventOf(e);
    if (ae !== null && ae.agentId !== "") agents.set(ae.agentId, [...(agents.get(ae.agentId) ?? []), ae]);
  }
  const results = await Promise.allSettled([
    ...[...tickets].map(([id, events]) => store.applyTicketEvents(id, events)),
    ...[...agents].map(([id, events]) => store.applyAgentEvents(id, events)),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}
