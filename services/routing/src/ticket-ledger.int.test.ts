// The ledger's shortcuts over the real broker and store: an agent command starts from the ticket this
// process last saw (a stale copy only costs a refused write, never a wrong answer), and an acknowledged
// outbox entry leaves the stored ticket with the ticket's next write instead of a `$pull` of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { connectStore } from "@steward/store";
import { createLogger } from "@steward/telemetry";
import { storedAgent } from "../test-support/routing-test-support.ts";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { newTicketDoc } from "./domain-mapping.ts";
import { Outbox } from "./outbox.ts";
import { pending, priorityToProto, ticketOutbox } from "./routing-events.ts";
import { RoutingStore, type TicketDoc } from "./routing-store.ts";
import { TicketCache } from "./ticket-cache.ts";
import { TicketLedger } from "./ticket-ledger.ts";

const t = isolatedEnv("routing-ledger");
let bus: EventBus;
let conn: Awaited<ReturnType<typeof connectStore>>;
let store: RoutingStore;
const log = createLogger("routing-ledger-test", "silent");

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new RoutingStore(conn.db);
  await store.init();
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "routing-ledger-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
});

afterAll(async () => {
  await bus?.close();
  await conn?.close();
});

/** One routing process's ledger: its own outbox and cache, over the shared store. */
function instance(dropDelayMs = 60_000): { ledger: TicketLedger; outbox: Outbox } {
  const outbox = new Outbox(bus, store, log, dropDelayMs);
  const ledger = new TicketLedger({ store, outbox, cache: new TicketCache(), offerTimeoutMs: () => 60_000, maxParallelOffers: 1, reopenWindowMs: 86_400_000 });
  return { ledger, outbox };
}

async function agent(id: string): Promise<void> {
  await store.agents.insertOne(storedAgent(id));
}

async function waitingTicket(id: string): Promise<TicketDoc> {
  const now = Date.now();
  const doc = newTicketDoc({ ticketId: id, channel: "email", group: "g", overflowGroup: null, language: "en", priority: "P3", requiredSkills: [], subject: "s" }, now);
  doc.outbox = ticketOutbox(id, 0, [pending("ticketQueued", { group: "g", priority: priorityToProto("P3"), reason: "triaged" })], new Date(now));
  expect(await store.insertTicket(doc)).toBe(true);
  return doc;
}

const explanation = {
  stored: { summary: "test" },
  proto: { candidatesConsidered: 1, passedOver: [], tieBreaker: "only-candidate", relaxationLevel: 0, passedOverCounts: {}, summary: "test" },
};

describe("ticket ledger", () => {
  it("drops a published outbox entry with the ticket's next write, and the last one after the delay", async () => {
    const { ledger, outbox } = instance();
    const created = await waitingTicket("drop-1");
    await outbox.publish(created._id, 0, created.outbox);
    // Acknowledged, but still stored: it waits for the next write instead of a $pull of its own.
    expect(outbox.pendingDrops()).toBe(1);
    expect((await store.getTicket("drop-1"))?.outbox.map((e) => e.eventId)).toEqual([created.outbox[0]?.eventId]);

    const outcome = await ledger.update(created, { slaDeadline: 1, slaRevision: 1 }, [pending("noEligibleAgent", { group: "g", reasons: ["none"] })], []);
    expect(outcome.kind).toBe("written");
    const written = outcome.kind === "written" ? outcome.doc : created;
    // The write stored only the new entry: the published one left with it, and its clearing is no longer queued.
    expect((await store.getTicket("drop-1"))?.outbox.map((e) => e.eventId)).toEqual(written.outbox.map((e) => e.eventId));
    expect(written.outbox.some((e) => e.eventId === created.outbox[0]?.eventId)).toBe(false);
    // (No count here: update() publishes the new entry in the background, and when Kafka acknowledges it
    // before this line its own clearing is already queued. Waiting for that publish makes it certain.)
    await outbox.publish(written._id, written.version, written.outbox);
    expect(outbox.pendingDrops()).toBe(1);
    // An older outbox acknowledged late is not cleared again: the write replaced it.
    await outbox.publish(created._id, 0, created.outbox);
    expect(outbox.pendingDrops()).toBe(1);

    // The ticket's last change: pulled on its own (here at shutdown, instead of after the delay).
    await outbox.idle();
    expect(outbox.pendingDrops()).toBe(0);
    expect((await store.getTicket("drop-1"))?.outbox).toEqual([]);
  });

  it("pulls an entry on its own when no write follows within the delay", async () => {
    const { outbox } = instance(300);
    const created = await waitingTicket("drop-2");
    await outbox.publish(created._id, 0, created.outbox);
    expect(outbox.pendingDrops()).toBe(1);
    // No write follows: the timer clears it (not shutdown).
    await waitFor(async () => ((await store.getTicket("drop-2"))?.outbox.length === 0 ? true : undefined), { what: "the outbox cleared", timeoutMs: 10_000 });
    expect(outbox.pendingDrops()).toBe(0);
    await outbox.idle();
  });

  it("answers agent commands from the stored ticket when this process's copy is stale", async () => {
    await agent("amy");
    await agent("bob");
    const a = instance();
    const b = instance();
    const created = await waitingTicket("stale-1");
    // Instance A offers to amy (A remembers the ticket with the offer).
    const offered = await a.ledger.makeOffers(created, [{ agentId: "amy", explanation }]);
    expect(offered.kind).toBe("written");
    const offerId = offered.kind === "written" ? (offered.doc.pendingOffers[0]?.offerId ?? "") : "";
    expect(offerId).toBe("stale-1:1");
    // The explanation is kept on the ticket: no offer document is written.
    expect(offered.kind === "written" ? offered.doc.offers?.map((o) => o.offerId) : []).toEqual([offerId]);
    expect(await store.getOffer(offerId)).toBeNull();

    // Instance B (amy's click landed there) declines it: A's copy is now stale.
    await b.ledger.decline(offerId, "amy", "busy");
    expect(a.ledger.cached("stale-1")?.pendingOffers).toHaveLength(1);

    // A must not accept from its stale copy: the stored ticket says the offer is closed.
    await expect(a.ledger.accept(offerId, "amy")).rejects.toMatchObject({ code: "OFFER_CLOSED" });
    await expect(a.ledger.accept(offerId, "bob")).rejects.toMatchObject({ code: "OFFER_NOT_YOURS" });
    await expect(a.ledger.accept("stale-1:9", "amy")).rejects.toMatchObject({ code: "OFFER_NOT_FOUND" });
    const stored = await store.getTicket("stale-1");
    expect(stored?.status).toBe("waiting");
    expect(stored?.pendingOffers).toEqual([]);
    expect((await store.getAgent("amy"))?.free).toEqual({ email: 2 });

    // A new offer, accepted through B whose copy is now stale (it last saw the decline): B re-reads and wins.
    const again = await a.ledger.makeOffers(stored as TicketDoc, [{ agentId: "bob", explanation }]);
    expect(again.kind).toBe("written");
    expect(await b.ledger.accept("stale-1:2", "bob")).toEqual({ ticketId: "stale-1" });
    // A retried click answers the same, and the owner's slot is held once.
    expect(await b.ledger.accept("stale-1:2", "bob")).toEqual({ ticketId: "stale-1" });
    expect((await store.getTicket("stale-1"))?.ownerId).toBe("bob");
    expect((await store.getAgent("bob"))?.free).toEqual({ email: 1 });

    // Resolving from A's stale copy (it still has the offer pending) works against the stored ticket.
    await a.ledger.resolve("stale-1", "bob");
    const resolved = await store.getTicket("stale-1");
    expect(resolved?.status).toBe("resolved");
    const bob = await store.getAgent("bob");
    expect(bob?.free).toEqual({ email: 2 });
    expect(bob?.holds).toEqual({});
    await a.outbox.idle();
    await b.outbox.idle();
  });
});
