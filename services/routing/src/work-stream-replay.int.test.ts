// An agent's live stream over the real broker and store: every item carries an id, and a stream that
// reconnects with Last-Event-ID hears what was sent while it was down (an offer closed, a new offer), in
// order, before the open work; without the header only the open work comes again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Channel } from "@steward/proto";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { bearer, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { startRouting, type RunningRouting } from "./service.ts";
import { agentIn, http, publishTriaged } from "../test-support/routing-test-support.ts";

const t = isolatedEnv("work-replay");
let routing: RunningRouting;
let bus: EventBus;
let api: ReturnType<typeof http>;
const streams: SseReader[] = [];

const open = async (headers: Record<string, string> = {}) => {
  const s = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, { ...(await bearer(tokens.agent("ana"))), ...headers });
  streams.push(s);
  return s;
};
const about = (ticketId: string) => (e: { data: string }) => (JSON.parse(e.data) as { ticketId: string }).ticketId === ticketId;

beforeAll(async () => {
  routing = await startRouting(loadRoutingConfig(t.env));
  api = http(routing.httpUrl);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "work-replay-test", topicPrefix: t.topicPrefix });
  expect((await api.putAgent("ana", agentIn(["replay"]))).status).toBe(200);
  expect((await api.presence("ana", "available")).status).toBe(200);
});

afterAll(async () => {
  for (const s of streams) s.close();
  await routing?.close();
  await bus?.close();
});

describe("the work stream across a reconnect", () => {
  it("replays what was missed after Last-Event-ID, and only the open work without it", async () => {
    // Routing offers work only to agents it hears on a stream: a second tab keeps ana reachable while the
    // first one drops, as a desk app and a phone would.
    await open();
    const first = await open();
    await publishTriaged(bus, "replay-1", { group: "replay", channel: Channel.EMAIL, subject: "First" });
    const offer1 = await first.next((e) => e.event === "offer" && about("replay-1")(e), 60_000);
    expect(offer1.id).toMatch(/^[0-9a-z]+-\d+$/);
    first.close();

    // While this stream is down, ana declines from the other tab: that offer closes and, as she is the
    // only agent of the group, the ticket is offered to her again.
    const { offerId } = JSON.parse(offer1.data) as { offerId: string };
    expect((await api.decline(offerId, "ana")).status).toBe(200);
    await waitFor(async () => ((await api.routing("replay-1")).body["pendingOffers"] as Array<{ offerId: string }> | undefined)?.some((o) => o.offerId !== offerId) || undefined, {
      what: "the next offer",
      timeoutMs: 60_000,
    });

    const resumed = await open({ "last-event-id": offer1.id as string });
    const closed = await resumed.next((e) => e.event === "offer_closed" && about("replay-1")(e), 10_000);
    expect(JSON.parse(closed.data)).toMatchObject({ offerId, detail: "declined" });
    const offer2 = await resumed.next((e) => e.event === "offer" && about("replay-1")(e) && !e.data.includes(`"${offerId}"`), 10_000);
    expect(closed.id).toBeDefined();
    expect(offer2.id).toBeDefined();
    // In the order they were sent, with ids after the one the client had.
    const seq = (id: string | undefined) => Number(id?.split("-").at(-1));
    expect(seq(closed.id)).toBeGreaterThan(seq(offer1.id));
    expect(seq(offer2.id)).toBeGreaterThan(seq(closed.id));
    resumed.close();

    // Without Last-Event-ID (a new tab), the open offer comes again but not the closing it never needs.
    const fresh = await open();
    const again = await fresh.next((e) => e.event === "offer" && about("replay-1")(e), 10_000);
    expect(JSON.parse(again.data)).toMatchObject({ offerId: (JSON.parse(offer2.data) as { offerId: string }).offerId });
    expect(again.id).toBeUndefined();
    await new Promise((r) => setTimeout(r, 500));
    expect(fresh.events.some((e) => e.event === "offer_closed")).toBe(false);
  }, 120_000);
});
