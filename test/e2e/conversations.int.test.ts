// Conversations both ways over the real stack (intake with an SMTP sink, triage, routing, escalation):
// the owner's public reply to an e-mail ticket goes out as an RFC 5322 reply threaded under the
// customer's message and stops the first-response clock (which resolution would otherwise stop); the
// customer's answer threads back to the same ticket and reaches the owner's live stream; a chat message
// from the same customer's known address joins the open e-mail ticket.
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import { simpleParser, type ParsedMail } from "mailparser";
import { bearer, generalistAgent, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadIntakeConfig } from "../../services/intake/src/config.ts";
import { startIntake, type RunningIntake } from "../../services/intake/src/service.ts";
import { loadTriageConfig } from "../../services/triage/src/config.ts";
import { startTriage, type RunningTriage } from "../../services/triage/src/service.ts";
import { loadRoutingConfig } from "../../services/routing/src/config.ts";
import { startRouting, type RunningRouting } from "../../services/routing/src/service.ts";
import { loadEscalationConfig } from "../../services/escalation/src/config.ts";
import { startEscalation, type RunningEscalation } from "../../services/escalation/src/service.ts";

const inbox: ParsedMail[] = [];
let smtp: SMTPServer;
let intake: RunningIntake;
let triage: RunningTriage;
let routing: RunningRouting;
let escalation: RunningEscalation;
let work: SseReader;

interface TicketView {
  status: string;
  ownerId: string | null;
  reference: string;
  messages: Array<{ id: string; channel: string; from: string; body: string; delivery?: { status: string } | null }>;
}
interface Sla {
  status: string;
  view: { firstResponseDue: string | null; breaches: Array<{ clockId: string }> } | null;
}

const json = (method: string, body?: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});
const asAna = () => bearer(tokens.agent("ana"));
const ticket = async (id: string) => (await (await fetch(`${intake.httpUrl}/v1/tickets/${id}`, { headers: await asAna() })).json()) as TicketView;
const sla = async (id: string) => {
  const res = await fetch(`${escalation.httpUrl}/v1/tickets/${id}/sla`, { headers: await asAna() });
  return res.status === 200 ? ((await res.json()) as Sla) : undefined;
};
const mime = (headers: string[], body: string) => [...headers, "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""].join("\r\n");
async function inboundEmail(raw: string): Promise<{ ticketId: string; followUp: boolean }> {
  const res = await fetch(`${intake.httpUrl}/v1/inbound/email`, { method: "POST", headers: { "content-type": "message/rfc822" }, body: raw });
  expect(res.status).toBe(202);
  return (await res.json()) as { ticketId: string; followUp: boolean };
}
const followUpFor = (ticketId: string) => work.next((e) => e.event === "follow_up" && (JSON.parse(e.data) as { ticketId: string }).ticketId === ticketId, 60_000);

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          inbox.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const t = isolatedEnv("e2e-conversations", {
    OUTBOUND_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    OUTBOUND_MAIL_FROM: "Acme Support <support@acme.example>",
    INTAKE_OUTBOUND_RETRY_BASE_MS: "200",
  });
  [intake, triage, routing, escalation] = await Promise.all([
    startIntake(loadIntakeConfig(t.env)),
    startTriage(loadTriageConfig(t.env)),
    startRouting(loadRoutingConfig(t.env)),
    startEscalation(loadEscalationConfig(t.env)),
  ]);
  const put = await fetch(`${routing.httpUrl}/v1/agents/ana`, json("PUT", generalistAgent("Ana", ["en"]), await bearer(tokens.admin())));
  expect(put.status).toBe(200);
  work = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, await asAna());
  expect((await fetch(`${routing.httpUrl}/v1/agents/ana/presence`, json("POST", { status: "available" }, await asAna()))).status).toBe(200);
}, 180_000);

afterAll(async () => {
  work?.close();
  await Promise.allSettled([intake?.close(), triage?.close(), routing?.close(), escalation?.close()]);
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

describe("conversations both ways", () => {
  it("threads an e-mail reply and the customer's answer, stops the first-response clock at the reply, and joins a chat from the same address", async () => {
    const customerMessageId = "<ann-1@customer.example>";
    const opened = await inboundEmail(
      mime(
        [
          "From: Ann Lee <ann@customer.example>",
          "To: help@acme.example",
          "Subject: Charged twice for order 5521",
          `Message-ID: ${customerMessageId}`,
          "Date: Sat, 05 Dec 2026 10:00:00 +0000",
        ],
        "Hello, you charged my card twice for order 5521. Please refund the second payment.",
      ),
    );
    const ticketId = opened.ticketId;
    const offer = await work.next((e) => e.event === "offer" && (JSON.parse(e.data) as { ticketId: string }).ticketId === ticketId, 60_000);
    const { offerId } = JSON.parse(offer.data) as { offerId: string };
    expect((await fetch(`${routing.httpUrl}/v1/offers/${offerId}/accept`, json("POST", {}, await asAna()))).status).toBe(200);

    // Owned, and the e-mail ticket's first-response clock runs: accepting it is not a response.
    const running = await waitFor(
      async () => {
        const s = await sla(ticketId);
        return s?.status === "open" && s.view?.firstResponseDue ? s : undefined;
      },
      { what: "the first-response clock running", timeoutMs: 60_000 },
    );
    expect(running.view?.firstResponseDue).not.toBeNull();

    // The owner answers in public.
    const replied = await fetch(
      `${routing.httpUrl}/v1/tickets/${ticketId}/replies`,
      json("POST", { body: "Sorry about that: the second payment is refunded today.", visibility: "public" }, await asAna()),
    );
    expect(replied.status).toBe(201);
    const reply = (await replied.json()) as { messageId: string };

    // The reply leaves as an RFC 5322 reply threaded under the customer's message.
    const mail = await waitFor(() => inbox.find((m) => m.headers.get("x-steward-ticket") === ticketId && m.text?.includes("refunded today")), {
      what: "the reply over SMTP",
      timeoutMs: 60_000,
    });
    expect(mail.inReplyTo).toBe(customerMessageId);
    expect([mail.references].flat()).toContain(customerMessageId);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual(["ann@customer.example"]);
    expect(mail.subject).toMatch(/^Re: Charged twice for order 5521 \[ST-/);
    await waitFor(async () => ((await ticket(ticketId)).messages.find((m) => m.id === reply.messageId)?.delivery?.status === "delivered" ? true : undefined), {
      what: "the reply shown delivered",
    });

    // The first-response clock stopped at the reply; the ticket is still open (resolution did not stop it).
    const stopped = await waitFor(
      async () => {
        const s = await sla(ticketId);
        return s?.view && s.view.firstResponseDue === null ? s : undefined;
      },
      { what: "the first-response clock stopped", timeoutMs: 60_000 },
    );
    expect(stopped.status).toBe("open");
    expect(stopped.view?.breaches.map((b) => b.clockId)).not.toContain("firstResponse.1");
    expect((await ticket(ticketId)).status).not.toBe("resolved");

    // The customer's answer, as their mail program threads it, joins the same ticket and reaches the owner.
    const answer = await inboundEmail(
      mime(
        [
          "From: Ann Lee <ann@customer.example>",
          "To: support@acme.example",
          `Subject: ${mail.subject ?? ""}`,
          "Message-ID: <ann-2@customer.example>",
          `In-Reply-To: ${mail.messageId ?? ""}`,
          `References: ${customerMessageId} ${mail.messageId ?? ""}`,
        ],
        "Thank you! When will I see it on my statement?",
      ),
    );
    expect(answer).toMatchObject({ ticketId, followUp: true });
    await followUpFor(ticketId);

    // A chat from the same address, on the same topic, joins the open e-mail ticket and reaches the owner too.
    const chat = await fetch(
      `${intake.httpUrl}/v1/tickets`,
      json("POST", {
        channel: "chat",
        externalId: "conv-chat-1",
        customer: { id: "chat-visitor-31", name: "Ann", email: "ANN@customer.example" },
        subject: "Re: Charged twice for order 5521",
        body: "Hi, following up on my refund here in chat.",
      }),
    );
    expect(chat.status).toBe(202);
    expect(await chat.json()).toMatchObject({ ticketId, followUp: true });
    await followUpFor(ticketId);

    const view = await ticket(ticketId);
    expect(view.ownerId).toBe("ana");
    expect(view.messages.map((m) => [m.from, m.channel])).toEqual([
      ["customer", "email"],
      ["agent", "email"],
      ["customer", "email"],
      ["customer", "chat"],
    ]);
  }, 300_000);
});
