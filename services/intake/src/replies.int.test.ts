// Agents' replies in the ticket view over the real store and broker: a public reply joins the conversation
// and goes to the customer on the channel they last wrote on, once even when the event is delivered
// again; an internal note joins the conversation for agents only and never leaves Steward.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { createKafkaJsBus, newEnvelope, type EventBus } from "@steward/messaging";
import { Channel, Topics, type Envelope } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { TicketStore } from "./ticket-store.ts";
import { projectBatch } from "./projector.ts";
import { ticketView } from "./app.ts";
import { EventLog } from "../test-support/test-support.ts";

const t = isolatedEnv("intake-replies");
let conn: Store;
let store: TicketStore;
let bus: EventBus;
let log: EventLog;

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new TicketStore(conn.db);
  await store.init();
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "intake-replies-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  log = await EventLog.start(bus, "intake-replies-reader", [Topics.outbound]);
});

afterAll(async () => {
  await bus?.close();
  await conn?.close();
});

/** A ticket opened by e-mail whose customer then wrote in chat. */
async function newTicket(id: string) {
  const at = new Date();
  await store.createTicket({
    _id: id,
    status: "assigned",
    channel: "email",
    customer: { id: "kim", email: "kim@example.com" },
    subject: "Refund",
    topic: null,
    language: "en",
    intent: null,
    priority: null,
    group: null,
    requiredSkills: [],
    ownerId: "ana",
    lastOwnerId: "ana",
    collaborators: ["sam"],
    triage: null,
    sla: null,
    metadata: {},
    channelRefs: {},
    messageCount: 2,
    messages: [
      { id: `${id}-m1`, externalId: "e1", channel: "email", from: "customer", body: "Where is my refund?", channelRefs: { messageId: "<m1@example.com>" }, sequence: 1, at },
      { id: `${id}-m2`, externalId: "e2", channel: "chat", from: "customer", body: "Hello?", sequence: 2, at },
    ],
    history: [],
    createdAt: at,
    updatedAt: at,
  });
}

const replied = (ticketId: string, messageId: string, agentId: string, visibility: string, body: string): Envelope =>
  newEnvelope("agentReplied", ticketId, { messageId, agentId, body, visibility, channel: Channel.EMAIL, inReplyToMessageId: "" }, "routing", { eventId: `reply/${messageId}` });

const noticesFor = (ticketId: string, text: string) =>
  log.ofTicket(ticketId, Topics.outbound).filter((e) => e.envelope.payload?.$case === "notification" && e.envelope.payload.value.text === text);

describe("agents' replies in the ticket view", () => {
  it("adds a public reply to the conversation and sends it once on the customer's latest channel", async () => {
    await newTicket("r-1");
    const reply = replied("r-1", "reply-a", "ana", "public", "Refund sent today.");
    await projectBatch(store, [reply], bus);
    await projectBatch(store, [reply], bus); // delivered again
    // A later reply of the same ticket: the outbound topic keeps one ticket's notices in order.
    await projectBatch(store, [replied("r-1", "reply-b", "ana", "public", "Anything else?")], bus);
    await waitFor(() => noticesFor("r-1", "Anything else?")[0], { what: "second reply's notice" });

    const notices = noticesFor("r-1", "Refund sent today.");
    expect(notices).toHaveLength(1);
    const notice = notices[0]?.envelope.payload;
    expect(notice?.$case === "notification" && notice.value).toMatchObject({ kind: "reply", channel: Channel.CHAT, recipient: "kim" });

    const doc = await store.get("r-1");
    const view = ticketView(doc!, { internalNotes: true });
    expect(view.messages.map((m) => [m.id, m.from, m.sequence])).toEqual([
      ["r-1-m1", "customer", 1],
      ["r-1-m2", "customer", 2],
      ["reply-a", "agent", 3],
      ["reply-b", "agent", 4],
    ]);
    expect(view.messages[2]).toMatchObject({ agentId: "ana", visibility: "public", channel: "chat", inReplyToMessageId: "r-1-m2", body: "Refund sent today." });
    expect(view.history.filter((h) => h.type === "agent.replied")).toHaveLength(2);
  });

  it("keeps internal notes for agents: in the view people read, not for integrations, never sent", async () => {
    await newTicket("r-2");
    await projectBatch(store, [replied("r-2", "note-a", "sam", "internal", "Duplicate charge.")], bus);
    await projectBatch(store, [replied("r-2", "reply-c", "ana", "public", "Fixed.")], bus);
    await waitFor(() => noticesFor("r-2", "Fixed.")[0], { what: "public reply's notice" });
    expect(noticesFor("r-2", "Duplicate charge.")).toHaveLength(0);

    const doc = await store.get("r-2");
    expect(ticketView(doc!, { internalNotes: true }).messages.find((m) => m.id === "note-a")).toMatchObject({ from: "agent", agentId: "sam", visibility: "internal" });
    const forIntegration = ticketView(doc!, { internalNotes: false });
    expect(forIntegration.messages.map((m) => m.id)).toEqual(["r-2-m1", "r-2-m2", "reply-c"]);
    expect(forIntegration.history.filter((h) => h.type === "agent.replied")).toHaveLength(1);
  });
});
