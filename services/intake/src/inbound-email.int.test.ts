// Raw e-mail over the real broker and store: a MIME message becomes a ticket with quoted history and
// signature kept apart; a reply threads onto it by In-Reply-To/References whatever its subject says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { Channel, Topics, type MessageReceived, type TicketReceived } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { emailCustomerId } from "./domain/email-submission.ts";
import { DEV_WEBHOOK_SECRET } from "./domain/integrations.ts";
import { EventLog, signedHeaders } from "../test-support/test-support.ts";

const t = isolatedEnv("intake-email");
let intake: RunningIntake;
let bus: EventBus;
let log: EventLog;

beforeAll(async () => {
  intake = await startIntake(loadIntakeConfig(t.env));
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "intake-email-test", topicPrefix: t.topicPrefix });
  log = await EventLog.start(bus, "intake-email-reader", [Topics.received]);
});

afterAll(async () => {
  await intake?.close();
  await bus?.close();
});

const mime = (headers: string[], body: string[]) => [...headers, "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", ...body, ""].join("\r\n");

const original = mime(
  [
    'From: "Ana Souza" <ana@example.com>',
    "To: support@acme.test",
    "Subject: Refund for order 1234",
    "Message-ID: <orig-1@mail.example.com>",
    "Date: Mon, 03 Mar 2025 09:00:00 +0000",
  ],
  ["Hello,", "", "I was charged twice for order 1234. Please refund one payment.", "", "Thanks,", "Ana", "", "-- ", "Ana Souza | +55 11 5555 0101"],
);

const postMail = (raw: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${intake.httpUrl}/v1/inbound/email`, { method: "POST", headers: { "content-type": "message/rfc822", ...headers }, body: raw });

const eventFor = (externalId: string) =>
  waitFor(
    () =>
      log.on(Topics.received).find((e) => {
        const p = e.envelope.payload;
        return (p?.$case === "ticketReceived" || p?.$case === "messageReceived") && p.value.externalId === externalId;
      }),
    { what: `event for ${externalId}` },
  );

describe("inbound e-mail", () => {
  let ticketId = "";

  it("turns a raw e-mail into a ticket, with the signature kept apart", async () => {
    const res = await postMail(original);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { ticketId: string; duplicate: boolean; followUp: boolean; reference: string };
    expect(body).toMatchObject({ duplicate: false, followUp: false });
    ticketId = body.ticketId;
    const event = await eventFor("orig-1@mail.example.com");
    expect(event.envelope.ticketId).toBe(ticketId);
    const v = event.envelope.payload?.value as TicketReceived;
    expect(v.channel).toBe(Channel.EMAIL);
    expect(v.subject).toBe("Refund for order 1234");
    expect(v.body).toBe("Hello,\n\nI was charged twice for order 1234. Please refund one payment.");
    expect(v.signature).toBe("Thanks,\nAna\n\n--\nAna Souza | +55 11 5555 0101".replace("--\n", "-- \n"));
    expect(v.customer).toMatchObject({ id: emailCustomerId("ana@example.com"), email: "ana@example.com", name: "Ana Souza" });
    expect(v.channelRefs).toMatchObject({ messageId: "<orig-1@mail.example.com>", mailbox: "support@acme.test" });
  });

  it("threads a reply by In-Reply-To even when its subject changed, with the quote kept apart", async () => {
    const reply = mime(
      [
        "From: ana@example.com",
        "To: support@acme.test",
        "Subject: still waiting!!",
        "Message-ID: <reply-2@mail.example.com>",
        "In-Reply-To: <orig-1@mail.example.com>",
        "References: <orig-1@mail.example.com>",
      ],
      ["Any news on my refund?", "", "On Mon, 3 Mar 2025 at 09:00, Ana Souza <ana@example.com> wrote:", "> I was charged twice for order 1234."],
    );
    const res = await postMail(reply);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ ticketId, followUp: true, duplicate: false });
    const event = await eventFor("reply-2@mail.example.com");
    const v = event.envelope.payload?.value as MessageReceived;
    expect(event.envelope.type).toBe("message.received");
    expect(v.body).toBe("Any news on my refund?");
    expect(v.quotedText).toContain("> I was charged twice for order 1234.");
    expect(v.sequence).toBe(2);
  });

  it("threads by References when In-Reply-To names a message intake never saw (an agent's reply)", async () => {
    const res = await postMail(
      mime(
        [
          "From: Ana <ana@example.com>",
          "To: support@acme.test",
          "Subject: one more thing",
          "Message-ID: <reply-3@mail.example.com>",
          "In-Reply-To: <agent-answer@acme.test>",
          "References: <orig-1@mail.example.com> <reply-2@mail.example.com> <agent-answer@acme.test>",
        ],
        ["The second charge is still on my statement."],
      ),
    );
    expect(await res.json()).toMatchObject({ ticketId, followUp: true });
    const view = (await (await fetch(`${intake.httpUrl}/v1/tickets/${ticketId}`)).json()) as {
      messages: Array<{ body: string; sequence: number; quotedText: string; signature: string }>;
    };
    expect(view.messages.map((m) => m.sequence)).toEqual([1, 2, 3]);
    expect(view.messages[0]?.signature).toContain("Ana Souza");
    expect(view.messages[1]?.quotedText).toContain("charged twice");
  });

  it("answers a re-delivered message with the original ticket", async () => {
    const res = await postMail(original);
    expect(await res.json()).toMatchObject({ ticketId, duplicate: true });
  });

  it("takes the common provider shape: multipart/form-data with the message in a field", async () => {
    const form = new FormData();
    form.append("to", "support@acme.test");
    form.append(
      "email",
      mime(["From: bo@example.org", "To: support@acme.test", "Subject: Cannot log in", "Message-ID: <form-1@example.org>"], ["I cannot log in since this morning."]),
    );
    const res = await fetch(`${intake.httpUrl}/v1/inbound/email`, { method: "POST", body: form });
    expect(res.status).toBe(202);
    const event = await eventFor("form-1@example.org");
    expect((event.envelope.payload?.value as TicketReceived).body).toBe("I cannot log in since this morning.");
  });

  it("accepts a signed delivery, the signature covering the raw message bytes", async () => {
    const raw = mime(
      ["From: cy@example.net", "To: support@acme.test", "Subject: Where is my parcel", "Message-ID: <signed-1@example.net>"],
      ["Tracking has not moved for a week."],
    );
    const res = await postMail(raw, signedHeaders({ integration: "dev", secret: DEV_WEBHOOK_SECRET, body: raw, delivery: "mail-delivery-1" }));
    expect(res.status).toBe(202);
    const tampered = await postMail(`${raw} `, signedHeaders({ integration: "dev", secret: DEV_WEBHOOK_SECRET, body: raw, delivery: "mail-delivery-2" }));
    expect(tampered.status).toBe(401);
  });

  it("refuses what is not a usable e-mail with a clear 4xx", async () => {
    const code = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    expect(await code(await postMail("this is not an e-mail"))).toEqual([400, "EMAIL_NO_SENDER"]);
    expect(await code(await postMail(mime(["From: a@example.com", "Subject: "], [""])))).toEqual([400, "EMAIL_EMPTY"]);
    expect(await code(await postMail(""))).toEqual([400, "INVALID_EMAIL"]);
    expect(await code(await fetch(`${intake.httpUrl}/v1/inbound/email`, { method: "POST", headers: { "content-type": "text/plain" }, body: original }))).toEqual([
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ]);
    const form = new FormData();
    form.append("subject", "hi");
    expect(await code(await fetch(`${intake.httpUrl}/v1/inbound/email`, { method: "POST", body: form }))).toEqual([400, "MISSING_EMAIL_FIELD"]);
    const huge = Buffer.alloc(10 * 1024 * 1024 + 1, "a");
    expect(await code(await postMail(huge))).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    const alive = await fetch(`${intake.httpUrl}/health/live`);
    expect(alive.status).toBe(200);
  });
});
