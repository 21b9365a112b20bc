// Intake's store over the real FerretDB: thread links are inserted in one command and taken over when
// they already exist (a newer ticket on the same topic wins), and the projector's write is guarded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { isolatedEnv } from "@steward/testkit";
import { emptyProjection } from "./domain/ticket-view.ts";
import { TicketStore } from "./ticket-store.ts";

const t = isolatedEnv("intake-store");
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

describe("ticket store", () => {
  it("links new thread keys and takes over existing ones", async () => {
    const first = new Date("2026-01-01T00:00:00Z");
    const later = new Date("2026-01-02T00:00:00Z");
    await store.linkThreads("t-1", ["k-a", "k-b"], first);
    await store.linkThreads("t-2", ["k-c", "k-b", "k-d"], later);
    const links = await store.threads.find({}).sort({ _id: 1 }).toArray();
    expect(links.map((l) => [l._id, l.ticketId, l.updatedAt.toISOString()])).toEqual([
      ["k-a", "t-1", first.toISOString()],
      ["k-b", "t-2", later.toISOString()],
      ["k-c", "t-2", later.toISOString()],
      ["k-d", "t-2", later.toISOString()],
    ]);
    // Linking the same keys again (a re-delivery) changes nothing.
    await store.linkThreads("t-2", ["k-b", "k-c"], later);
    expect(await store.threads.countDocuments({ ticketId: "t-2" })).toBe(3);
  });

  it("refuses a projector write whose read is stale", async () => {
    const now = new Date();
    await store.createTicket({
      _id: "t-guard",
      channel: "chat",
      customer: { id: "c" },
      subject: null,
      topic: null,
      ...emptyProjection(),
      metadata: {},
      channelRefs: {},
      messageCount: 1,
      messages: [],
      history: [],
      createdAt: now,
      updatedAt: now,
    });
    const entry = (eventId: string) => ({ eventId, type: "x", at: now });
    expect(await store.writeProjection("t-guard", undefined, { set: { status: "triaged" }, entries: [entry("e1")] }, now)).toBe(true);
    expect(await store.writeProjection("t-guard", undefined, { set: { status: "waiting" }, entries: [entry("e2")] }, now)).toBe(false);
    expect(await store.writeProjection("t-guard", 1, { set: { status: "offered" }, entries: [entry("e3")] }, now)).toBe(true);
    const doc = await store.get("t-guard");
    expect(doc?.status).toBe("offered");
    expect(doc?.viewRevision).toBe(2);
    expect(doc?.history.map((h) => h.eventId)).toEqual(["e1", "e3"]);
  });
});
