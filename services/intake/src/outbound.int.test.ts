// The outbound worker over the real broker and store, with local HTTP receivers on 127.0.0.1:0: a public
// reply reaches the integration once, signed; a receiver failing twice gets it on the third attempt; one
// that always fails gets N attempts, then the message is dead-lettered and the ticket shows why; a worker
// stopped and restarted mid-retry carries on with the same delivery id and never re-sends a delivered one.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { createKafkaJsBus, newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import { Channel, Topics, type Envelope } from "@steward/proto";
import { createLogger } from "@steward/telemetry";
import { isolatedEnv, uniqueName, waitFor } from "@steward/testkit";
import { TicketStore } from "./ticket-store.ts";
import { projectBatch, startProjector } from "./projector.ts";
import { ticketView } from "./app.ts";
import { startOutboundWorker } from "./outbound-worker.ts";
import { OutboundDeliveries } from "./outbound-deliveries.ts";
import { verifyWebhookSignature } from "./domain/webhook-signature.ts";
import type { Integration } from "./domain/integrations.ts";
import { EventLog } from "../test-support/test-support.ts";

const t = isolatedEnv("outbound");
const SECRET = "outbound-secret-for-tests";
let conn: Store;
let store: TicketStore;
let bus: EventBus;
let deadLetters: EventLog;
let projector: Subscription;
let worker: Subscription | undefined;
let server: Server;
let baseUrl: string;

/** What the receiver saw, per request; `answer` is what it replied. */
interface Received {
  integration: string;
  deliveryId: string;
  attempt: string;
  signatureOk: boolean;
  body: Record<string, unknown>;
  answer: number;
}
const received: Received[] = [];
/** How each integration's receiver answers the n-th request (1-based) for one delivery id. */
const behaviour: Record<string, (n: number) => number> = {
  ok: () => 200,
  flaky: (n) => (n <= 2 ? 500 : 200),
  down: () => 500,
  restart: (n) => (n === 1 ? 503 : 204),
};

const integrations = new Map<string, Integration>();
const startWorker = () =>
  startOutboundWorker({
    bus,
    tickets: store,
    deliveries: new OutboundDeliveries(conn.db),
    integration: (id) => integrations.get(id),
    policy: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    requestTimeoutMs: 2_000,
    groupId: `${t.topicPrefix}intake-outbound`,
    log: createLogger("outbound-test", "silent"),
  });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const integration = String(req.headers["x-steward-integration"]);
      const deliveryId = String(req.headers["x-steward-delivery"]);
      const check = verifyWebhookSignature(
        { timestamp: req.headers["x-steward-timestamp"] as string, signature: req.headers["x-steward-signature"] as string, deliveryId, rawBody: raw },
        [SECRET],
        Date.now(),
      );
      const n = received.filter((r) => r.deliveryId === deliveryId).length + 1;
      const answer = (behaviour[integration] ?? (() => 404))(n);
      received.push({
        integration,
        deliveryId,
        attempt: String(req.headers["x-steward-attempt"]),
        signatureOk: check.ok,
        body: JSON.parse(raw.toString()) as Record<string, unknown>,
        answer,
      });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const id of Object.keys(behaviour)) {
    integrations.set(id, { id, apiKeyHashes: [], webhookSecrets: [], rateLimit: { perSecond: 1, burst: 1 }, outbound: { url: `${baseUrl}/steward/${id}`, secret: SECRET } });
  }
  conn = await connectStore(t.mongoUri, t.database);
  store = new TicketStore(conn.db);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "outbound-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  deadLetters = await EventLog.start(bus, uniqueName("outbound-dlq-reader"), [Topics.outboundDeadLetter]);
  projector = await startProjector(bus, store, uniqueName("outbound-projector"));
  worker = await startWorker();
});

afterAll(async () => {
  await worker?.stop();
  await projector?.stop();
  await bus?.close();
  await conn?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function newTicket(id: string, integrationId: string) {
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
    collaborators: [],
    triage: null,
    sla: null,
    metadata: {},
    channelRefs: {},
    messageCount: 1,
    integrationId,
    messages: [
      { id: `${id}-m1`, externalId: "e1", channel: "email", from: "customer", body: "Where is my refund?", channelRefs: { messageId: "<m1@example.com>" }, sequence: 1, at },
    ],
    history: [],
    createdAt: at,
    updatedAt: at,
  });
}

/** What routing publishes when the owner replies; the projector turns it into the outbound notification. */
async function reply(ticketId: string, messageId: string, body: string): Promise<void> {
  const e: Envelope = newEnvelope("agentReplied", ticketId, { messageId, agentId: "ana", body, visibility: "public", channel: Channel.EMAIL, inReplyToMessageId: "" }, "routing", {
    eventId: `reply/${messageId}`,
  });
  await projectBatch(store, [e], bus);
}

const requestsFor = (messageId: string) => received.filter((r) => r.body["messageId"] === messageId);

async function deliveryShown(ticketId: string, messageId: string, status: string) {
  return waitFor(
    async () => {
      const doc = await store.get(ticketId);
      const m = doc ? ticketView(doc).messages.find((x) => x.id === messageId) : undefined;
      const d = m && "delivery" in m ? (m.delivery as Record<string, unknown> | null) : null;
      return d?.["status"] === status ? { doc: doc!, delivery: d } : undefined;
    },
    { what: `${messageId} shown as ${status}`, timeoutMs: 30_000 },
  );
}

describe("outbound delivery", () => {
  it("delivers a public reply once, signed, threaded, and in order with the ticket's next replies", async () => {
    await newTicket("o-1", "ok");
    await reply("o-1", "o-1-r1", "Refund sent today.");
    await reply("o-1", "o-1-r2", "It shows in 3 days.");
    await reply("o-1", "o-1-r3", "Anything else?");
    await deliveryShown("o-1", "o-1-r3", "delivered");
    const got = received.filter((r) => r.integration === "ok");
    expect(got.map((r) => r.body["messageId"])).toEqual(["o-1-r1", "o-1-r2", "o-1-r3"]);
    expect(got.every((r) => r.signatureOk && r.answer === 200 && r.attempt === "1")).toBe(true);
    expect(got[0]?.body).toMatchObject({
      type: "steward.outbound.message",
      ticketId: "o-1",
      kind: "reply",
      channel: "email",
      recipient: "kim@example.com",
      text: "Refund sent today.",
      inReplyTo: "<m1@example.com>",
    });
    expect(got[0]?.deliveryId).toBe(got[0]?.body["deliveryId"]);
    const { delivery } = await deliveryShown("o-1", "o-1-r1", "delivered");
    expect(delivery).toMatchObject({ status: "delivered", attempt: 1, integrationId: "ok" });
  });

  it("retries a receiver that answers 500 twice and delivers on the third attempt, with one delivery id", async () => {
    await newTicket("o-2", "flaky");
    await reply("o-2", "o-2-r1", "Hello again.");
    const { doc } = await deliveryShown("o-2", "o-2-r1", "delivered");
    const got = requestsFor("o-2-r1");
    expect(got.map((r) => [r.answer, r.attempt])).toEqual([
      [500, "1"],
      [500, "2"],
      [200, "3"],
    ]);
    expect(new Set(got.map((r) => r.deliveryId)).size).toBe(1);
    expect(got.every((r) => r.signatureOk)).toBe(true);
    const statuses = ticketView(doc)
      .history.filter((h) => h.type === "outbound.delivery")
      .map((h) => [h.detail["status"], h.detail["attempt"]]);
    expect(statuses).toEqual([
      ["retrying", 1],
      ["retrying", 2],
      ["delivered", 3],
    ]);
  });

  it("dead-letters a message no attempt delivers, and the ticket shows the failure and its reason", async () => {
    await newTicket("o-3", "down");
    await reply("o-3", "o-3-r1", "Are you there?");
    const { delivery } = await deliveryShown("o-3", "o-3-r1", "failed");
    expect(delivery).toMatchObject({ status: "failed", attempt: 3, reason: "HTTP 500" });
    expect(requestsFor("o-3-r1")).toHaveLength(3);
    const dead = await waitFor(() => deadLetters.ofTicket("o-3")[0], { what: "the dead letter" });
    expect(dead.envelope.payload?.$case === "notification" && dead.envelope.payload.value.messageId).toBe("o-3-r1");
    // The ticket's later messages are not held behind it for ever.
    await reply("o-3", "o-3-r2", "Second try.");
    await waitFor(() => (requestsFor("o-3-r2").length > 0 ? true : undefined), { what: "the next message attempted" });
  });

  it("carries on after a restart mid-retry with the same delivery id, and never re-sends a delivered message", async () => {
    await newTicket("o-4", "restart");
    await reply("o-4", "o-4-r1", "Before the restart.");
    await waitFor(() => requestsFor("o-4-r1")[0], { what: "the first attempt" });
    await worker?.stop(); // mid-retry: the first attempt was answered 503
    worker = await startWorker();
    await deliveryShown("o-4", "o-4-r1", "delivered");
    // Stopped and started again after the delivery: Kafka may hand the message over again; it is not re-sent.
    await worker.stop();
    worker = await startWorker();
    await reply("o-4", "o-4-r2", "After the restart.");
    await deliveryShown("o-4", "o-4-r2", "delivered");

    const first = requestsFor("o-4-r1");
    expect(new Set(first.map((r) => r.deliveryId)).size).toBe(1);
    expect(first.filter((r) => r.answer < 300)).toHaveLength(1);
    expect(first.map((r) => r.answer)).toEqual([503, 204]);
    // Every delivery id this test's receiver accepted, accepted once.
    const accepted = received.filter((r) => r.answer < 300).map((r) => r.deliveryId);
    expect(new Set(accepted).size).toBe(accepted.length);
  }, 90_000);
});
