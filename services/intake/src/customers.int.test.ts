// One customer across channels, over the real broker and store: a chat message from the address an
// e-mail ticket came from joins it on the same topic; a quoted ST-… reference joins its ticket; a stranger
// quoting someone's reference does not; the store keeps hashed keys only; and the people allowed to read a
// ticket find it by reference (GET /v1/tickets?reference=), others do not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { bearer, isolatedEnv, tokens } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { hashApiKey } from "./domain/integrations.ts";

const MAIL_KEY = "mail-provider-key-0123456789";
const CHAT_KEY = "chat-widget-key-0123456789";
const t = isolatedEnv("customers", {
  INTAKE_DEV_MODE: "false",
  INTAKE_ALLOW_ANONYMOUS_DEV: "false",
  INTAKE_CUSTOMER_KEY_SECRET: "customer-key-secret-for-tests",
  INTAKE_INTEGRATIONS_JSON: JSON.stringify({
    integrations: [
      { id: "mail", apiKeySha256: [hashApiKey(MAIL_KEY)] },
      { id: "chat", apiKeySha256: [hashApiKey(CHAT_KEY)] },
    ],
  }),
});
let intake: RunningIntake;
let conn: Store;

beforeAll(async () => {
  intake = await startIntake(loadIntakeConfig(t.env));
  conn = await connectStore(t.mongoUri, t.database);
});

afterAll(async () => {
  await intake?.close();
  await conn?.close();
});

interface Accepted {
  ticketId: string;
  reference: string;
  followUp: boolean;
}

async function submit(key: string, body: Record<string, unknown>): Promise<Accepted> {
  const res = await fetch(`${intake.httpUrl}/v1/tickets`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as Accepted;
}

const find = (reference: string, headers: Record<string, string>) => fetch(`${intake.httpUrl}/v1/tickets?reference=${encodeURIComponent(reference)}`, { headers });

describe("one customer across channels", () => {
  it("joins a chat message from an e-mail customer's address to the open e-mail ticket on the same topic", async () => {
    const mail = await submit(MAIL_KEY, {
      channel: "email",
      externalId: "cu-1",
      customer: { id: "email:ann", email: "Ann@Example.com" },
      subject: "Parcel never arrived",
      body: "Order 88 has not arrived.",
    });
    const chat = await submit(CHAT_KEY, {
      channel: "chat",
      externalId: "cu-1-chat",
      customer: { id: "chat-user-77", email: "ann@example.com" },
      subject: "Re: parcel never arrived",
      body: "Any news on my parcel?",
    });
    expect(chat).toMatchObject({ ticketId: mail.ticketId, followUp: true });
    // Another topic from the same person is another ticket; the same topic from someone else is too.
    const other = await submit(CHAT_KEY, {
      channel: "chat",
      externalId: "cu-1-other",
      customer: { id: "chat-user-77", email: "ann@example.com" },
      subject: "Change my address",
      body: "I moved.",
    });
    expect(other.ticketId).not.toBe(mail.ticketId);
    const stranger = await submit(CHAT_KEY, {
      channel: "chat",
      externalId: "cu-1-stranger",
      customer: { id: "chat-user-78", email: "bob@example.com" },
      subject: "Parcel never arrived",
      body: "Mine neither.",
    });
    expect(stranger.ticketId).not.toBe(mail.ticketId);

    const view = (await (await fetch(`${intake.httpUrl}/v1/tickets/${mail.ticketId}`, { headers: { authorization: `Bearer ${MAIL_KEY}` } })).json()) as {
      messages: Array<{ channel: string }>;
    };
    expect(view.messages.map((m) => m.channel)).toEqual(["email", "chat"]);
  });

  it("knows a caller's number on chat, and a social handle on the same platform only", async () => {
    const call = await submit(MAIL_KEY, {
      channel: "phone",
      externalId: "cu-p",
      customer: { id: "caller-9" },
      subject: "Router keeps rebooting",
      body: "Please call me back.",
      channelRefs: { kind: "callback", callbackNumber: "+49 151 1234 5678" },
    });
    const chat = await submit(CHAT_KEY, {
      channel: "chat",
      externalId: "cu-p-chat",
      customer: { id: "visitor-9", phone: "0049 1511 2345678" },
      subject: "Router keeps rebooting",
      body: "Still rebooting.",
    });
    expect(chat).toMatchObject({ ticketId: call.ticketId, followUp: true });
    const post = await submit(CHAT_KEY, {
      channel: "social",
      externalId: "cu-h",
      customer: { id: "social-1" },
      subject: "App crashes",
      body: "It crashes.",
      channelRefs: { handle: "@Zed", platform: "mastodon" },
    });
    const sameHandle = await submit(CHAT_KEY, {
      channel: "social",
      externalId: "cu-h-2",
      customer: { id: "social-2" },
      subject: "App crashes",
      body: "Still.",
      channelRefs: { handle: "zed", platform: "mastodon" },
    });
    expect(sameHandle.ticketId).toBe(post.ticketId);
    const elsewhere = await submit(CHAT_KEY, {
      channel: "social",
      externalId: "cu-h-3",
      customer: { id: "social-3" },
      subject: "App crashes",
      body: "Me too.",
      channelRefs: { handle: "zed", platform: "bluesky" },
    });
    expect(elsewhere.ticketId).not.toBe(post.ticketId);
  });

  it("keeps one customer record with hashed keys, never the address", async () => {
    const customers = await conn.db.collection("intake_customers").find({}).toArray();
    const keys = await conn.db.collection("intake_customer_keys").find({}).toArray();
    expect(customers.length).toBeGreaterThan(0);
    const dump = JSON.stringify([customers, keys]);
    expect(dump).not.toMatch(/example\.com|chat-user-77|email:ann/i);
    const ann = customers.find((c) => (c["kinds"] as string[]).includes("email") && (c["keys"] as string[]).length >= 3);
    expect(ann).toBeDefined();
  });

  it("joins a message quoting a ticket's reference to that ticket, for the same customer or integration only", async () => {
    const first = await submit(MAIL_KEY, {
      channel: "email",
      externalId: "cu-2",
      customer: { id: "email:cy", email: "cy@example.com" },
      subject: "Broken lamp",
      body: "The lamp I bought is broken.",
    });
    const byRef = await submit(MAIL_KEY, {
      channel: "email",
      externalId: "cu-2-r",
      customer: { id: "email:cy-work", email: "cy@work.example.com" },
      subject: `Following up ${first.reference.toLowerCase()}`,
      body: "Writing from work.",
    });
    expect(byRef).toMatchObject({ ticketId: first.ticketId, followUp: true });
    const inBody = await submit(CHAT_KEY, {
      channel: "chat",
      externalId: "cu-2-chat",
      customer: { id: "chat-cy", email: "cy@example.com" },
      body: `About ${first.reference}: still broken.`,
    });
    expect(inBody.ticketId).toBe(first.ticketId);
    // A stranger on another integration quoting the reference opens a ticket of their own.
    const stranger = await submit(CHAT_KEY, { channel: "chat", externalId: "cu-2-stranger", customer: { id: "chat-dee" }, body: `Tell me about ${first.reference}` });
    expect(stranger.ticketId).not.toBe(first.ticketId);
  });

  it("finds a ticket by reference for those who may read it, and refuses the others", async () => {
    const { ticketId, reference } = await submit(MAIL_KEY, {
      channel: "email",
      externalId: "cu-3",
      customer: { id: "email:eve", email: "eve@example.com" },
      subject: "Invoice copy",
      body: "Please send an invoice copy.",
    });
    const ok = await find(reference.toLowerCase(), { authorization: `Bearer ${MAIL_KEY}` });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { tickets: Array<{ id: string; reference: string }> };
    expect(body.tickets.map((x) => [x.id, x.reference])).toEqual([[ticketId, reference]]);
    expect((await find(reference, { authorization: `Bearer ${CHAT_KEY}` })).status).toBe(403);
    expect((await find(reference, await bearer(tokens.agent("someone")))).status).toBe(403);
    expect((await find(reference, await bearer(tokens.admin()))).status).toBe(200);
    expect((await find(reference, {})).status).toBe(401);
    const none = await find("ST-0000-0000", { authorization: `Bearer ${CHAT_KEY}` });
    expect(none.status).toBe(200);
    expect(((await none.json()) as { tickets: unknown[] }).tickets).toEqual([]);
    const bad = await find("12345", { authorization: `Bearer ${MAIL_KEY}` });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    const missing = await fetch(`${intake.httpUrl}/v1/tickets`, { headers: { authorization: `Bearer ${MAIL_KEY}` } });
    expect(missing.status).toBe(400);
  });
});
