// E-mail replies over SMTP against an in-process SMTP sink on 127.0.0.1:0 (smtp-server), the real broker
// and store: an agent's public reply to an e-mail ticket arrives once as an RFC 5322 reply threaded under
// the customer's message; a server refusing the recipient twice gets it on the third attempt.
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import { simpleParser, type ParsedMail } from "mailparser";
import { connectStore, type Store } from "@steward/store";
import { createKafkaJsBus, newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import { Channel } from "@steward/proto";
import { createLogger } from "@steward/telemetry";
import { isolatedEnv, uniqueName, waitFor } from "@steward/testkit";
import { TicketStore } from "./ticket-store.ts";
import { projectBatch, startProjector } from "./projector.ts";
import { ticketView } from "./app.ts";
import { startOutboundWorker } from "./outbound-worker.ts";
import { OutboundDeliveries } from "./outbound-deliveries.ts";
import { smtpSender, type MailSender } from "./outbound-mail.ts";

const t = isolatedEnv("outbound-mail");
let conn: Store;
let store: TicketStore;
let bus: EventBus;
let projector: Subscription;
let worker: Subscription;
let smtp: SMTPServer;
let sender: MailSender;
const inbox: Array<{ rcpt: string[]; mail: ParsedMail }> = [];
/** Recipients the sink refuses (451, try later) this many more times. */
const refusals = new Map<string, number>([["busy@example.com", 2]]);

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(address, _session, callback) {
      const left = refusals.get(address.address) ?? 0;
      if (left > 0) {
        refusals.set(address.address, left - 1);
        return callback(Object.assign(new Error("mailbox busy, try later"), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          inbox.push({ rcpt: session.envelope.rcptTo.map((r) => r.address), mail });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  sender = smtpSender(`smtp://127.0.0.1:${port}`, 5_000);
  conn = await connectStore(t.mongoUri, t.database);
  store = new TicketStore(conn.db);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "outbound-mail-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  projector = await startProjector(bus, store, uniqueName("outbound-mail-projector"));
  worker = await startOutboundWorker({
    bus,
    tickets: store,
    deliveries: new OutboundDeliveries(conn.db),
    integration: () => undefined, // no webhook: e-mail goes over SMTP
    policy: { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 200 },
    requestTimeoutMs: 5_000,
    groupId: `${t.topicPrefix}intake-outbound`,
    log: createLogger("outbound-mail-test", "silent"),
    mail: { sender, from: "Acme Support <support@acme.example>" },
  });
});

afterAll(async () => {
  await worker?.stop();
  await projector?.stop();
  sender?.close();
  await bus?.close();
  await conn?.close();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

async function emailTicket(id: string, email: string) {
  const at = new Date();
  await store.createTicket({
    _id: id,
    status: "assigned",
    channel: "email",
    customer: { id: "kim", email },
    subject: "Lost parcel",
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
    integrationId: "mailer",
    messages: [
      {
        id: `${id}-m1`,
        externalId: "e1",
        channel: "email",
        from: "customer",
        body: "Where is it?",
        channelRefs: { messageId: `<${id}-m1@example.com>`, references: "<older@example.com>" },
        sequence: 1,
        at,
      },
    ],
    history: [],
    createdAt: at,
    updatedAt: at,
  });
}

async function reply(ticketId: string, messageId: string, body: string) {
  await projectBatch(
    store,
    [
      newEnvelope("agentReplied", ticketId, { messageId, agentId: "ana", body, visibility: "public", channel: Channel.EMAIL, inReplyToMessageId: "" }, "routing", {
        eventId: `reply/${messageId}`,
      }),
    ],
    bus,
  );
}

const deliveredOn = (ticketId: string, messageId: string) =>
  waitFor(
    async () => {
      const doc = await store.get(ticketId);
      const m = doc ? ticketView(doc).messages.find((x) => x.id === messageId) : undefined;
      const d = m && "delivery" in m ? (m.delivery as Record<string, unknown> | null) : null;
      return d?.["status"] === "delivered" ? d : undefined;
    },
    { what: `${messageId} delivered`, timeoutMs: 30_000 },
  );

describe("e-mail replies over SMTP", () => {
  it("sends an agent's reply once, as a reply to the customer's message", async () => {
    await emailTicket("mail-1", "kim@example.com");
    await reply("mail-1", "mail-1-r1", "It arrives tomorrow.");
    expect(await deliveredOn("mail-1", "mail-1-r1")).toMatchObject({ integrationId: "smtp", attempt: 1 });
    const got = inbox.filter((m) => m.mail.headers.get("x-steward-ticket") === "mail-1");
    expect(got).toHaveLength(1);
    const mail = got[0]!.mail;
    expect(got[0]!.rcpt).toEqual(["kim@example.com"]);
    expect(mail.inReplyTo).toBe("<mail-1-m1@example.com>");
    expect(mail.references).toEqual(["<older@example.com>", "<mail-1-m1@example.com>"]);
    expect(mail.subject).toMatch(/^Re: Lost parcel \[/);
    expect(mail.text?.trim()).toBe("It arrives tomorrow.");
    expect(mail.messageId).toBe(`<${mail.headers.get("x-steward-delivery") as string}@acme.example>`);
  });

  it("retries a server that says try later, and delivers on the third attempt", async () => {
    await emailTicket("mail-2", "busy@example.com");
    await reply("mail-2", "mail-2-r1", "Sorry for the wait.");
    expect(await deliveredOn("mail-2", "mail-2-r1")).toMatchObject({ status: "delivered", attempt: 3 });
    const doc = await store.get("mail-2");
    const statuses = ticketView(doc!)
      .history.filter((h) => h.type === "outbound.delivery")
      .map((h) => [h.detail["status"], h.detail["reason"] ?? null]);
    expect(statuses).toEqual([
      ["retrying", "SMTP 451"],
      ["retrying", "SMTP 451"],
      ["delivered", null],
    ]);
    expect(inbox.filter((m) => m.mail.headers.get("x-steward-ticket") === "mail-2")).toHaveLength(1);
  });
});
