// Reads through the HTTP API of a routing instance that does not lead (ADR 0020), over the real broker and
// store: with the snapshot a minute apart, the follower still answers a ticket's routing view and an
// agent's view as the leader has them (the offer, then the ownership), although the store's copy knows
// nothing of either yet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Channel } from "@steward/proto";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { connectStore, type Store } from "@steward/store";
import { bearer, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { startRouting, type RunningRouting } from "./service.ts";
import { agentIn, http, publishTriaged } from "../test-support/routing-test-support.ts";
import { RoutingStore } from "./routing-store.ts";

const t = isolatedEnv("follower-reads", { ROUTING_SNAPSHOT_MS: "60000", ROUTING_FOLLOW_HOLD_MS: "180000" });
const instances: RunningRouting[] = [];
let bus: EventBus;
let conn: Store;
let stored: RoutingStore;
let stream: SseReader | undefined;

async function leaderAndFollower(): Promise<{ leader: RunningRouting; follower: RunningRouting }> {
  return waitFor(
    async () => {
      const leading = await Promise.all(instances.map(async (r) => (await http(r.httpUrl).status()).body["matcher"] as { leader: boolean; state: string }));
      const i = leading.findIndex((m) => m.leader && m.state === "matching");
      return i < 0 ? undefined : { leader: instances[i] as RunningRouting, follower: instances[1 - i] as RunningRouting };
    },
    { what: "a matching leader", timeoutMs: 45_000, intervalMs: 100 },
  );
}

beforeAll(async () => {
  for (const id of ["fr-1", "fr-2"]) instances.push(await startRouting(loadRoutingConfig({ ...t.env, STEWARD_INSTANCE_ID: id })));
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "follower-reads-test", topicPrefix: t.topicPrefix });
  conn = await connectStore(t.mongoUri, t.database);
  stored = new RoutingStore(conn.db);
});

afterAll(async () => {
  stream?.close();
  await Promise.allSettled(instances.map((r) => r.close()));
  await bus?.close();
  await conn?.close();
});

describe("reads on a routing instance that does not lead", () => {
  it("answer as the leader has it, before any snapshot holds it", async () => {
    const { leader, follower } = await leaderAndFollower();
    const api = http(follower.httpUrl);
    expect((await api.putAgent("fio", agentIn(["follow"]))).status).toBe(200);
    expect((await api.presence("fio", "available")).status).toBe(200);
    // Routing offers work only to agents it hears on a stream.
    stream = await readSse(`${leader.httpUrl}/v1/agents/fio/work`, await bearer(tokens.agent("fio")));

    await publishTriaged(bus, "fr-t1", { group: "follow", channel: Channel.EMAIL, subject: "Read me back" });
    const offer = await stream.next((e) => e.event === "offer" && e.data.includes('"fr-t1"'), 60_000);
    const { offerId } = JSON.parse(offer.data) as { offerId: string };

    // Offered: the follower's routing view and agent view say so; the store has no copy of the ticket yet.
    await waitFor(async () => ((await api.routing("fr-t1")).body["pendingOffers"] as Array<{ offerId: string }> | undefined)?.some((o) => o.offerId === offerId) || undefined, {
      what: "the offer in the follower's routing view",
      timeoutMs: 10_000,
    });
    expect(await stored.getTicket("fr-t1")).toBeNull();
    expect((await api.agent("fio")).body).toMatchObject({ offered: ["fr-t1"], owned: [] });

    // Accepted through the follower (forwarded to the leader, answered once the log has it): the follower's
    // reads show it as soon as its tail has the record.
    expect((await api.accept(offerId, "fio")).status).toBe(200);
    await waitFor(async () => ((await api.routing("fr-t1")).body["status"] === "owned" ? true : undefined), { what: "the ownership in the follower's view", timeoutMs: 10_000 });
    expect((await api.routing("fr-t1")).body).toMatchObject({ status: "owned", ownerId: "fio" });
    expect((await api.agent("fio")).body).toMatchObject({ offered: [], owned: ["fr-t1"], free: { email: 0 } });
    // The store's agent still holds nothing: the answers came from the follower's tail of the log.
    expect((await stored.getAgent("fio"))?.holds ?? {}).toEqual({});
    expect(await stored.getTicket("fr-t1")).toBeNull();
  }, 120_000);
});
