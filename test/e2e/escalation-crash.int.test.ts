// Escalation's write-behind across a kill -9: escalation runs as a child process that decides consumed
// inputs in memory and writes them up to ESCALATION_COALESCE_MS later. It is killed after it has applied
// a ticket's acceptance and resolution (its own API answers "resolved") and before the flush that would
// store them (the store still says "open"); started again, it consumes them again from the offsets it
// had committed, which cover only what it had stored, and the ticket ends resolved with its owner.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, newEnvelope, type EventBus, type IncomingEvent, type PayloadCase, type PayloadOf } from "@steward/messaging";
import { Channel, Priority, TicketAssigned, TicketReceived, TicketResolved, TicketTriaged, Topics, type SlaUpdated } from "@steward/proto";
import { connectStore, type Store } from "@steward/store";
import { bearer, isolatedEnv, tokens, uniqueName, waitFor } from "@steward/testkit";
import { startServiceProcess, type ServiceProcess } from "../bench/service-process.ts";
import { SlaStore, type SlaDoc } from "../../services/escalation/src/sla-store.ts";

const SECONDS_POLICY = fileURLToPath(new URL("../../services/escalation/policy/sla-policy.test-seconds.json", import.meta.url));
const t = isolatedEnv("escalation-crash");
const seen: IncomingEvent[] = [];
let escalation: ServiceProcess;
let bus: EventBus;
let store: Store;
let slas: SlaStore;

beforeAll(async () => {
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "escalation-crash-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  await bus.subscribe({ groupId: uniqueName("escalation-crash-reader"), topics: [Topics.escalation], handler: async (e) => void seen.push(e) });
  store = await connectStore(t.mongoUri, t.database);
  slas = new SlaStore(store.db);
  escalation = await startServiceProcess({
    name: "escalation-crash",
    service: "escalation",
    logDir: await mkdtemp(join(tmpdir(), "steward-escalation-crash-")),
    // The longest write-behind there is: the crash has a second to land in.
    env: { ...t.env, LOG_LEVEL: "info", ESCALATION_POLICY_FILE: SECONDS_POLICY, ESCALATION_COALESCE_MS: "1000" },
  });
}, 180_000);

afterAll(async () => {
  await escalation?.kill("SIGTERM");
  await bus?.close();
  await store?.close();
});

function publish<C extends PayloadCase>(topic: (typeof Topics)[keyof typeof Topics], payloadCase: C, ticketId: string, value: PayloadOf<C>): Promise<void> {
  return bus.publish({ topic, envelope: newEnvelope(payloadCase, ticketId, value, "test") });
}

const views = (ticketId: string): SlaUpdated[] =>
  seen.flatMap((e) => (e.envelope.ticketId === ticketId && e.envelope.payload?.$case === "slaUpdated" ? [e.envelope.payload.value] : []));

/** What escalation's API says of the ticket: decided from memory when its inputs are not written yet. */
async function apiStatus(ticketId: string): Promise<string | undefined> {
  const res = await fetch(`${escalation.url}/v1/tickets/${ticketId}/sla`, { headers: await bearer(tokens.admin()) }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  return ((await res.json()) as { status: string }).status;
}

const ownerOf = (doc: SlaDoc): string | null => (JSON.parse(doc.record) as { state: { ownerId: string | null } | null }).state?.ownerId ?? null;

describe("escalation killed between deciding inputs and writing them", () => {
  it("consumes them again after the restart: nothing decided and not stored is lost", async () => {
    // A few tickets in case a flush beats the kill: the test needs one crash that landed in between.
    let crashed: { ticketId: string; stored: SlaDoc } | undefined;
    for (let attempt = 1; attempt <= 3 && crashed === undefined; attempt += 1) {
      const ticketId = `X-${attempt}`;
      // P4 on email: no SLA action falls due during the test, so only inputs write the ticket.
      await publish(Topics.received, "ticketReceived", ticketId, { ...TicketReceived.fromJSON({}), channel: Channel.EMAIL });
      await publish(Topics.triaged, "ticketTriaged", ticketId, {
        ...TicketTriaged.fromJSON({}),
        priority: Priority.P4,
        channel: Channel.EMAIL,
        group: "billing",
        slaPolicy: "standard",
      });
      await waitFor(async () => ((await slas.get(ticketId))?.status === "open" ? true : undefined), { what: `${ticketId} stored open`, timeoutMs: 30_000 });
      // Its view out and unflagged: no flush is due when the next inputs come.
      await waitFor(async () => ((await slas.get(ticketId))?.viewDirty === false ? true : undefined), { what: `${ticketId}'s view recorded as published` });

      await bus.publish([
        {
          topic: Topics.routing,
          envelope: newEnvelope("ticketAssigned", ticketId, { ...TicketAssigned.fromJSON({}), agentId: "agent-5", offerId: `offer-${ticketId}`, channel: Channel.EMAIL }, "test"),
        },
        { topic: Topics.routing, envelope: newEnvelope("ticketResolved", ticketId, { ...TicketResolved.fromJSON({}), agentId: "agent-5" }, "test") },
      ]);
      await waitFor(async () => ((await apiStatus(ticketId)) === "resolved" ? true : undefined), { what: `${ticketId} resolved in escalation's memory`, intervalMs: 10 });
      await escalation.kill("SIGKILL");
      const stored = await slas.get(ticketId);
      expect(stored).not.toBeNull();
      if (stored!.status === "open") crashed = { ticketId, stored: stored! };
      else console.log(`[measure] attempt ${attempt}: the flush came before the kill; trying another ticket`);
      await escalation.restart();
    }
    expect(crashed, "a kill that landed between deciding and writing").toBeDefined();
    const { ticketId, stored } = crashed!;
    // The resolution (and perhaps the acceptance, if a flush took it alone) was decided and never stored.
    expect(stored.appliedEvents.length).toBeLessThan(4);

    // Started again: the acceptance and the resolution are consumed again and stored.
    const after = await waitFor(
      async () => {
        const doc = await slas.get(ticketId);
        return doc?.status === "resolved" ? doc : undefined;
      },
      { what: `${ticketId} stored resolved after the restart`, timeoutMs: 60_000 },
    );
    expect(ownerOf(after)).toBe("agent-5");
    expect(after.appliedEvents).toHaveLength(4);
    expect(after.rev).toBeGreaterThan(stored.rev);
    expect(await apiStatus(ticketId)).toBe("resolved");
    // And its view: no clock runs any more, at the revision stored.
    const last = await waitFor(() => views(ticketId).find((v) => Number(v.revision) === after.rev), { what: `the view of ${ticketId}'s stored revision` });
    expect(last.firstResponseDue).toBeUndefined();
    expect(last.resolutionDue).toBeUndefined();
  });
});
