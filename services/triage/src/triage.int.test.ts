// Triage over the real broker and store: tickets in four languages reach their groups with reasons,
// a follow-up re-triages without touching ownership, and a second contact about the same thing counts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, newEnvelope, type EventBus, type IncomingEvent } from "@steward/messaging";
import { Channel, Priority, Topics, type TicketTriaged } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadTriageConfig } from "./config.ts";
import { startTriage, type RunningTriage } from "./service.ts";

const t = isolatedEnv("triage");
let triage: RunningTriage;
let bus: EventBus;
const triaged: IncomingEvent[] = [];

beforeAll(async () => {
  triage = await startTriage(loadTriageConfig(t.env));
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "triage-test", topicPrefix: t.topicPrefix });
  await bus.subscribe({ groupId: "triage-test-reader", topics: [Topics.triaged], handler: async (e) => void triaged.push(e) });
});

afterAll(async () => {
  await triage?.close();
  await bus?.close();
});

const customer = (id: string, language = "") => ({ id, name: "", email: "", phone: "", tier: "standard", language });

async function receive(ticketId: string, subject: string, body: string, customerId = `c-${ticketId}`, channel: Channel = Channel.EMAIL) {
  await bus.publish({
    topic: Topics.received,
    envelope: newEnvelope(
      "ticketReceived",
      ticketId,
      {
        channel,
        externalId: `x-${ticketId}`,
        customer: customer(customerId),
        subject,
        body,
        quotedText: "",
        signature: "",
        threadId: "",
        metadata: {},
        channelRefs: {},
        messageId: `m-${ticketId}`,
        integrationId: "test",
      },
      "test",
    ),
  });
}

function decisionFor(ticketId: string, retriage = false): Promise<TicketTriaged> {
  return waitFor(
    () => {
      const e = triaged.find((x) => x.envelope.ticketId === ticketId && x.envelope.payload?.$case === "ticketTriaged" && x.envelope.payload.value.retriage === retriage);
      return e?.envelope.payload?.$case === "ticketTriaged" ? e.envelope.payload.value : undefined;
    },
    { what: `triage of ${ticketId}`, timeoutMs: 30_000 },
  );
}

describe("triage over Kafka", () => {
  it("sends tickets in four languages to their groups with readable reasons", async () => {
    const cases = [
      {
        id: "es-1",
        lang: "es",
        group: "billing",
        subject: "Cobro duplicado",
        body: "Hola, me han cobrado dos veces la factura de este mes en mi tarjeta. ¿Pueden revisarlo y devolverme el cargo duplicado?",
      },
      {
        id: "de-1",
        lang: "de",
        group: "orders",
        subject: "Paket nicht angekommen",
        body: "Guten Tag, meine Bestellung 88812 sollte letzte Woche geliefert werden, aber das Paket ist immer noch nicht angekommen. Wo ist meine Lieferung?",
      },
      {
        id: "ja-1",
        lang: "ja",
        group: "technical-support",
        subject: "ログインできません",
        body: "パスワードを再設定してもアカウントにログインできません。エラーが出てしまいます。助けてください。",
      },
      { id: "ar-1", lang: "ar", group: "retention", subject: "إلغاء الاشتراك", body: "مرحبا، أريد إلغاء اشتراكي الشهري ابتداء من الشهر القادم. كيف يمكنني ذلك؟" },
    ];
    await Promise.all(cases.map((c) => receive(c.id, c.subject, c.body)));
    for (const c of cases) {
      const d = await decisionFor(c.id);
      expect(d.language, c.id).toBe(c.lang);
      expect(d.group, c.id).toBe(c.group);
      expect(d.reasons.length, c.id).toBeGreaterThan(0);
      expect(
        d.requiredSkills.some((s) => s.name === `language:${c.lang}`),
        c.id,
      ).toBe(true);
      expect(d.policyVersion).not.toBe("");
    }
  });

  it("re-triages a follow-up that turns urgent, never lowering priority", async () => {
    await receive("fu-1", "Question about my plan", "Hi, could you tell me which plan includes more storage?", "c-fu");
    const first = await decisionFor("fu-1");
    await bus.publish({
      topic: Topics.received,
      envelope: newEnvelope(
        "messageReceived",
        "fu-1",
        {
          messageId: "m-fu-2",
          channel: Channel.CHAT,
          externalId: "x-fu-2",
          from: "customer",
          body: "URGENT: the whole system is down, none of my team can log in or work at all!",
          quotedText: "",
          sequence: 2,
          customer: customer("c-fu"),
          channelRefs: {},
        },
        "test",
      ),
    });
    const second = await decisionFor("fu-1", true);
    expect(second.retriage).toBe(true);
    expect(second.priority).toBeLessThanOrEqual(first.priority);
    expect(second.priority).toBeLessThan(Priority.P3);
    expect(second.reasons.join(" ")).toMatch(/re-triage/);
  });

  it("counts a second contact about the same thing within the window as a repeat", async () => {
    const body = "My parcel for order 4411 has not arrived, the tracking has not moved for a week.";
    await receive("rp-1", "Where is my order", body, "c-repeat");
    const first = await decisionFor("rp-1");
    await receive("rp-2", "Still no parcel", "I wrote already: my order 4411 still has not arrived and the tracking is stuck.", "c-repeat");
    const second = await decisionFor("rp-2");
    expect(first.repeatContactCount).toBe(0);
    expect(second.intent).toBe(first.intent);
    expect(second.repeatContactCount).toBe(1);
    expect(second.priority).toBeLessThanOrEqual(first.priority);
  });
});
