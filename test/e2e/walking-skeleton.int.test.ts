// A ticket's whole path through the real broker and store: intake -> triage -> routing -> an agent's
// live offer -> accept -> owner shown on the ticket; a follow-up goes to that owner; resolve closes it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, generalistAgent, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadIntakeConfig } from "../../services/intake/src/config.ts";
import { startIntake, type RunningIntake } from "../../services/intake/src/service.ts";
import { loadTriageConfig } from "../../services/triage/src/config.ts";
import { startTriage, type RunningTriage } from "../../services/triage/src/service.ts";
import { loadRoutingConfig } from "../../services/routing/src/config.ts";
import { startRouting, type RunningRouting } from "../../services/routing/src/service.ts";

const t = isolatedEnv("e2e");
let intake: RunningIntake;
let triage: RunningTriage;
let routing: RunningRouting;
let work: SseReader;

interface TicketView {
  status: string;
  ownerId: string | null;
  language: string | null;
  intent: string | null;
  priority: string | null;
  group: string | null;
  triage: { reasons: string[] } | null;
  messages: Array<{ body: string }>;
  history: Array<{ type: string }>;
}

const json = (method: string, body?: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

beforeAll(async () => {
  [intake, triage, routing] = await Promise.all([startIntake(loadIntakeConfig(t.env)), startTriage(loadTriageConfig(t.env)), startRouting(loadRoutingConfig(t.env))]);
  const put = await fetch(`${routing.httpUrl}/v1/agents/ana`, json("PUT", generalistAgent("Ana", ["en", "es"]), await bearer(tokens.admin())));
  expect(put.status).toBe(200);
  work = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, await bearer(tokens.agent("ana")));
  const presence = await fetch(`${routing.httpUrl}/v1/agents/ana/presence`, json("POST", { status: "available" }, await bearer(tokens.agent("ana"))));
  expect(presence.status).toBe(200);
});

afterAll(async () => {
  work?.close();
  await Promise.allSettled([intake?.close(), triage?.close(), routing?.close()]);
});

const ticket = async (id: string) => (await (await fetch(`${intake.httpUrl}/v1/tickets/${id}`)).json()) as TicketView;

describe("walking skeleton", () => {
  it("routes a new ticket to an available agent, who becomes its owner and keeps its follow-ups", async () => {
    const res = await fetch(
      `${intake.httpUrl}/v1/tickets`,
      json("POST", {
        channel: "email",
        externalId: "wk-1",
        customer: { id: "cust-wk", name: "Sam", email: "sam@example.com" },
        subject: "Refund for a double charge",
        body: "Hello, you charged my card twice for order 5521. Please refund the second payment.",
      }),
    );
    expect(res.status).toBe(202);
    const { ticketId } = (await res.json()) as { ticketId: string };

    const offerEvent = await work.next((e) => e.event === "offer" && (JSON.parse(e.data) as { ticketId: string }).ticketId === ticketId, 60_000);
    const offer = JSON.parse(offerEvent.data) as { offerId: string; ticketId: string };
    const accepted = await fetch(`${routing.httpUrl}/v1/offers/${offer.offerId}/accept`, json("POST", {}, await bearer(tokens.agent("ana"))));
    expect(accepted.status).toBe(200);

    const owned = await waitFor(
      async () => {
        const v = await ticket(ticketId);
        return v.status === "assigned" && v.ownerId === "ana" && v.intent ? v : undefined;
      },
      { what: "ticket assigned to ana", timeoutMs: 30_000 },
    );
    expect(owned.language).toBe("en");
    expect(["billing", "refund"]).toContain(owned.intent);
    expect(owned.triage?.reasons.length).toBeGreaterThan(0);
    expect(owned.history.map((h) => h.type)).toEqual(expect.arrayContaining(["ticket.received", "ticket.triaged", "offer.made", "ticket.assigned"]));

    // A follow-up in another channel goes to the owner, not back to a queue.
    const follow = await fetch(
      `${intake.httpUrl}/v1/tickets/${ticketId}/messages`,
      json("POST", { externalId: "wk-1-r1", from: "customer", body: "Any update? I still see two charges.", channel: "chat" }),
    );
    expect(follow.status).toBe(202);
    await work.next((e) => e.event === "follow_up" && (JSON.parse(e.data) as { ticketId: string }).ticketId === ticketId, 30_000);
    const after = await ticket(ticketId);
    expect(after.ownerId).toBe("ana");
    expect(after.messages.map((m) => m.body)).toHaveLength(2);

    // Only the owner resolves it.
    const stranger = await fetch(`${routing.httpUrl}/v1/tickets/${ticketId}/resolve`, json("POST", {}, await bearer(tokens.agent("someone-else"))));
    expect(stranger.status).toBe(403);
    // The owner reads the whole conversation with a person's token, as the console does.
    const asOwner = await fetch(`${intake.httpUrl}/v1/tickets/${ticketId}`, { headers: await bearer(tokens.agent("ana")) });
    expect(asOwner.status).toBe(200);
    expect(((await asOwner.json()) as TicketView).messages).toHaveLength(2);
    expect((await fetch(`${intake.httpUrl}/v1/tickets/${ticketId}`, { headers: await bearer(tokens.agent("someone-else")) })).status).toBe(403);
    const resolved = await fetch(`${routing.httpUrl}/v1/tickets/${ticketId}/resolve`, json("POST", {}, await bearer(tokens.agent("ana"))));
    expect(resolved.status).toBe(200);
    await waitFor(async () => ((await ticket(ticketId)).status === "resolved" ? true : undefined), { what: "resolved" });
  });
});
