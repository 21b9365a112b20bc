// The ticket view over the real store: out-of-order SLA views from two escalation instances end with
// the newest revision shown, and a replayed event changes nothing twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { newEnvelope } from "@steward/messaging";
import { isolatedEnv } from "@steward/testkit";
import { TicketStore } from "./ticket-store.ts";
import { project } from "./projector.ts";

const t = isolatedEnv("projector");
let conn: Store;
let store: TicketStore;

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new TicketStore(conn.db);
  await store.init();
});

afterAll(async () => {
  await conn?.close();
});

async function newTicket(id: string) {
  const now = new Date();
  await store.createTicket({
    _id: id, status: "new", channel: "email", customer: { id: "c" }, subject: null, topic: null, language: null, intent: null, priority: null, group: null,
    requiredSkills: [], ownerId: null, lastOwnerId: null, collaborators: [], triage: null, sla: null, metadata: {}, channelRefs: {}, messageCount: 1, messages: [], history: [], createdAt: now, updatedAt: now,
  });
}

const slaView = (ticketId: string, revision: number, level: number) =>
  newEnvelope("slaUpdated", ticketId, { policy: "default", policyVersion: "v1", firstResponseDue: new Date(), nextResponseDue: undefined, resolutionDue: new Date(), paused: false, warnings: [], breaches: [], level, revision, priority: 3 }, "escalation", { eventId: `${ticketId}/sla/${revision}` });

describe("ticket view projector", () => {
  it("keeps the newest SLA revision when views arrive out of order", async () => {
    await newTicket("p-1");
    await project(store, slaView("p-1", 1, 0));
    await project(store, slaView("p-1", 3, 2));
    await project(store, slaView("p-1", 2, 1));
    const doc = await store.get("p-1");
    expect(doc?.sla?.["revision"]).toBe(3);
    expect(doc?.sla?.["level"]).toBe(2);
  });

  it("applies a replayed event once", async () => {
    await newTicket("p-2");
    const assigned = newEnvelope("ticketAssigned", "p-2", { agentId: "ana", offerId: "o1", channel: 1 }, "routing");
    await project(store, assigned);
    await project(store, assigned);
    const doc = await store.get("p-2");
    expect(doc?.ownerId).toBe("ana");
    expect(doc?.history.filter((h) => h.eventId === assigned.eventId)).toHaveLength(1);
  });
});
