// The console over the real broker and store: events published as intake, triage, routing and the agent
// gateway would are folded into its own read models, and its API keeps to the access rules: no token is
// a 401, an agent sees only its own tickets, supervisors their groups', and queues are for supervisors.
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked by their shape */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createKafkaJsBus, newEnvelope, type EventBus, type PayloadCase, type PayloadOf } from "@steward/messaging";
import { AgentPresenceChanged, AgentProfileUpdated, Channel, OfferMade, Priority, TicketAssigned, TicketReceived, TicketTriaged, Topics, type TopicName } from "@steward/proto";
import { bearer, isolatedEnv, tokens, waitFor } from "@steward/testkit";
import { loadConsoleConfig } from "./config.ts";
import { startConsole, type RunningConsole } from "./service.ts";
import { ticketReference } from "./domain/index.ts";

const t = isolatedEnv("console");
let bus: EventBus;
let console_: RunningConsole;

const publish = <C extends PayloadCase>(topic: TopicName, c: C, ticketId: string, value: PayloadOf<C>, key?: string) =>
  bus.publish({ topic, envelope: newEnvelope(c, ticketId, value, "test"), ...(key ? { key } : {}) });

async function get(path: string, token?: Promise<string>): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${console_.httpUrl}${path}`, { headers: token ? await bearer(token) : {} });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function ticketFor(id: string, agentId: string | null, group: string): Promise<void> {
  await publish(Topics.received, "ticketReceived", id, {
    ...TicketReceived.fromJSON({}),
    channel: Channel.CHAT,
    customer: { id: `c-${id}`, name: "Noa", email: "", phone: "", tier: "standard", language: "he" },
    subject: "שלום",
    body: "עזרה",
  });
  await publish(Topics.triaged, "ticketTriaged", id, {
    ...TicketTriaged.fromJSON({}),
    language: "he",
    intent: "billing",
    priority: Priority.P2,
    group,
    reasons: ["invoice words"],
  });
  if (agentId !== null) {
    await publish(Topics.routing, "offerMade", id, { ...OfferMade.fromJSON({}), offerId: `o-${id}`, agentId, channel: Channel.CHAT });
    await publish(Topics.routing, "ticketAssigned", id, { ...TicketAssigned.fromJSON({}), agentId, offerId: `o-${id}`, channel: Channel.CHAT });
  }
}

beforeAll(async () => {
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "console-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  console_ = await startConsole(loadConsoleConfig({ ...t.env, CONSOLE_HTTP_PORT: "0" }));
  await publish(
    Topics.agents,
    "agentProfileUpdated",
    "",
    { ...AgentProfileUpdated.fromJSON({}), agentId: "ada", name: "Ada", groups: ["billing"], languages: ["he", "en"], capacity: { chat: 2 } },
    "ada",
  );
  await publish(Topics.agents, "agentPresenceChanged", "", { ...AgentPresenceChanged.fromJSON({}), agentId: "ada", status: "available", changedAt: new Date() }, "ada");
  await ticketFor("t-ada", "ada", "billing");
  await ticketFor("t-bo", "bo", "billing");
  await ticketFor("t-wait", null, "orders");
  await waitFor(async () => (await get("/v1/console/tickets", tokens.admin())).body.tickets?.length === 3, {
    what: "three tickets in the console's read model",
    timeoutMs: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await console_?.close();
  await bus?.close();
});

describe("console API", () => {
  it("answers 401 without a token", async () => {
    for (const path of ["/v1/console/me", "/v1/console/tickets", "/v1/console/queues", "/v1/console/analytics"]) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.body.error.code).toBe("UNAUTHENTICATED");
    }
  });

  it("shows an agent only its own tickets, and hides another agent's ticket", async () => {
    const mine = await get("/v1/console/tickets", tokens.agent("ada"));
    expect(mine.body).toHaveProperty("tickets");
    expect(mine.body.tickets.map((x: { id: string }) => x.id)).toEqual(["t-ada"]);
    expect(mine.body.tickets[0]).toMatchObject({ status: "assigned", ownerId: "ada", language: "he", reference: ticketReference("t-ada"), triageReasons: ["invoice words"] });
    expect((await get("/v1/console/tickets/t-bo", tokens.agent("ada"))).status).toBe(404);
    expect((await get("/v1/console/tickets/t-ada", tokens.agent("ada"))).status).toBe(200);
    expect((await get("/v1/console/tickets?owner=bo", tokens.agent("ada"))).body.tickets).toEqual([]);
  });

  it("scopes supervisors to their groups and keeps queues and analytics from agents", async () => {
    const sam = tokens.supervisor("sam", ["billing"]);
    const seen = await get("/v1/console/tickets", sam);
    expect(seen.body.tickets.map((x: { id: string }) => x.id).sort()).toEqual(["t-ada", "t-bo"]);
    const byRef = await get(`/v1/console/tickets?reference=${ticketReference("t-bo")}`, sam);
    expect(byRef.body.tickets.map((x: { id: string }) => x.id)).toEqual(["t-bo"]);
    expect((await get("/v1/console/queues", tokens.agent("ada"))).status).toBe(403);
    const queues = await get("/v1/console/queues", tokens.supervisor("olga", ["orders"]));
    expect(queues.body.queues).toEqual([expect.objectContaining({ group: "orders", waiting: 1 })]);
    const agents = await get("/v1/console/agents", sam);
    expect(agents.body.agents).toEqual([expect.objectContaining({ id: "ada", presence: "available", currentTickets: ["t-ada"], load: { chat: { owned: 1, capacity: 2 } } })]);
    const analytics = await get("/v1/console/analytics", tokens.admin());
    expect(analytics.body).toMatchObject({ ticketsIn: 3, timeToOwner: { count: 2 }, topIntents: [{ intent: "billing", count: 3 }] });
  });

  it("refuses bad searches with a stable code", async () => {
    const res = await get("/v1/console/tickets?status=lost", tokens.admin());
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_FAILED");
    expect((await get("/api/nowhere/v1/x", tokens.admin())).status).toBe(404);
  });

  it("answers any search with its tickets or a 400 with a stable code, never a 5xx", async () => {
    const value = fc.oneof(
      fc.constantFrom("assigned", "billing", "ada", "ST-0000-0000", "", "x".repeat(300), "'; drop", '{"$ne":null}', "\u05e9\u05dc\u05d5\u05dd", "0", "501", "-1"),
      fc.string({ maxLength: 40 }),
    );
    const query = fc.dictionary(fc.oneof(fc.constantFrom("status", "group", "owner", "reference", "customer", "limit"), fc.string({ maxLength: 8 })), value, { maxKeys: 4 });
    const samples = fc.sample(query, { seed: 20261206, numRuns: 200 });
    const admin = await bearer(tokens.admin());
    for (const q of samples) {
      const qs = new URLSearchParams(q).toString();
      const res = await fetch(`${console_.httpUrl}/v1/console/tickets?${qs}`, { headers: admin });
      const body = (await res.json()) as { tickets?: unknown[]; error?: { code: string } };
      expect({ qs, status: res.status < 500 }).toEqual({ qs, status: true });
      if (res.status === 200) expect(Array.isArray(body.tickets)).toBe(true);
      else expect({ qs, status: res.status, code: body.error?.code }).toEqual({ qs, status: 400, code: expect.stringMatching(/^(VALIDATION_FAILED|BAD_REQUEST)$/) });
    }
  });
});
