// Presence follows the connection, over the real broker and store: an agent whose last live stream (SSE
// or gRPC) closed is set away by the system after the grace period (1.5 s here) and offered nothing;
// a stream back within the grace keeps them available; a stream back later makes them available again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, credentials } from "@grpc/grpc-js";
import { AgentDeskClient, Topics, type Envelope } from "@steward/proto";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { bearer, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { startRouting, type RunningRouting } from "./service.ts";
import { RoutingEventLog, agentIn, http, publishTriaged } from "../test-support/routing-test-support.ts";

const GRACE_MS = 1_500;
const t = isolatedEnv("stream-presence", { ROUTING_DISCONNECT_GRACE_MS: String(GRACE_MS), ROUTING_TICK_MS: "200" });
let routing: RunningRouting;
let bus: EventBus;
let events: RoutingEventLog;
let api: ReturnType<typeof http>;
let client: AgentDeskClient;
const streams: SseReader[] = [];

beforeAll(async () => {
  routing = await startRouting(loadRoutingConfig(t.env));
  api = http(routing.httpUrl);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "stream-presence-test", topicPrefix: t.topicPrefix });
  events = await RoutingEventLog.start(bus, [Topics.routing, Topics.agents, Topics.audit]);
  client = new AgentDeskClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
});

afterAll(async () => {
  for (const s of streams) s.close();
  client?.close();
  await events?.stop();
  await routing?.close();
  await bus?.close();
});

async function online(id: string, group: string): Promise<void> {
  expect((await api.putAgent(id, agentIn([group]))).status).toBe(200);
  expect((await api.presence(id, "available")).status).toBe(200);
}

async function sse(agentId: string): Promise<SseReader> {
  const s = await readSse(`${routing.httpUrl}/v1/agents/${agentId}/work`, await bearer(tokens.agent(agentId)));
  streams.push(s);
  return s;
}

const presenceOf = async (agentId: string) => (await api.agent(agentId)).body as { presence: string; presenceChangedBy: string | null };

const presenceEvents = (agentId: string) =>
  events.events.flatMap((e: Envelope) => (e.payload?.$case === "agentPresenceChanged" && e.payload.value.agentId === agentId ? [e.payload.value] : []));

/** Past the grace period, plus room for the store write: the presence an agent ends up with. */
const afterGrace = () => new Promise((r) => setTimeout(r, GRACE_MS + 1_000));

describe("presence follows the connection", () => {
  it("sets away, as the system, an agent whose only stream closed; offers her nothing; and makes her available when she is back", async () => {
    await online("ida", "presence-a");
    const first = await sse("ida");
    first.close();

    await waitFor(async () => ((await presenceOf("ida")).presence === "away" ? true : undefined), { what: "ida set away after the grace", timeoutMs: 15_000 });
    expect(await presenceOf("ida")).toMatchObject({ presence: "away", presenceChangedBy: "system" });
    await events.waitFor(
      "the system's presence change on the agents topic",
      (e) => e.payload?.$case === "agentPresenceChanged" && e.payload.value.agentId === "ida" && e.payload.value.changedBy === "system",
    );
    const audit = await events.waitFor(
      "an audit record naming the system",
      (e) => e.payload?.$case === "auditRecorded" && e.payload.value.resourceId === "ida" && e.payload.value.principalType === "system",
    );
    expect(audit.payload?.value).toMatchObject({ principalType: "system", action: "agent.presence.disconnected", resourceType: "agent" });

    // Nobody is watching ida's desk: the ticket waits instead of being offered to her.
    await publishTriaged(bus, "presence-a-1", { group: "presence-a" });
    await events.waitFor("no eligible agent for presence-a-1", (e) => e.ticketId === "presence-a-1" && e.payload?.$case === "noEligibleAgent");
    expect(events.of("presence-a-1", "offer.made")).toEqual([]);

    // She opens her stream again: available, as the system, and the waiting ticket is offered on it.
    const back = await sse("ida");
    await back.next((e) => e.event === "offer" && e.data.includes("presence-a-1"));
    expect(await presenceOf("ida")).toMatchObject({ presence: "available", presenceChangedBy: "system" });
  });

  it("keeps the presence of an agent whose stream comes back within the grace", async () => {
    await online("jo", "presence-b");
    const first = await sse("jo");
    first.close();
    await sse("jo");
    await afterGrace();
    expect(await presenceOf("jo")).toMatchObject({ presence: "available", presenceChangedBy: "jo" });
    expect(presenceEvents("jo").map((p) => p.changedBy)).not.toContain("system");
  });

  it("counts gRPC streams too, and waits for the last of an agent's streams", async () => {
    await online("kai", "presence-c");
    const metadata = new Metadata();
    metadata.set("authorization", (await bearer(tokens.agent("kai"))).authorization);
    const grpcStream = client.streamWork({ agentId: "kai" }, metadata);
    grpcStream.on("error", () => undefined);
    grpcStream.on("data", () => undefined);
    const web = await sse("kai");
    // Both open: closing the SSE one leaves the gRPC stream watching.
    web.close();
    await afterGrace();
    expect((await presenceOf("kai")).presence).toBe("available");

    grpcStream.cancel();
    await waitFor(async () => ((await presenceOf("kai")).presence === "away" ? true : undefined), { what: "kai set away after the gRPC stream closed", timeoutMs: 15_000 });
    expect(await presenceOf("kai")).toMatchObject({ presence: "away", presenceChangedBy: "system" });
  });

  it("never undoes a presence a person chose: an agent who went away herself stays away when her stream opens", async () => {
    await online("lu", "presence-d");
    expect((await api.presence("lu", "away")).status).toBe(200);
    const s = await sse("lu");
    await afterGrace();
    expect(await presenceOf("lu")).toMatchObject({ presence: "away", presenceChangedBy: "lu" });
    s.close();
  });
});
