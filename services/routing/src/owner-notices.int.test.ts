// The owner's live stream over the real broker: an SLA warning for their ticket and the collaborator
// escalation brought in arrive on SSE and on the gRPC StreamWork alike.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, credentials } from "@grpc/grpc-js";
import { AgentDeskClient, type StreamWorkResponse } from "@steward/proto";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { bearer, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { startRouting, type RunningRouting } from "./service.ts";
import { RoutingEventLog, agentIn, escalationAction, http, publishEscalation, publishTriaged } from "../test-support/routing-test-support.ts";

const t = isolatedEnv("owner-notices");
let routing: RunningRouting;
let bus: EventBus;
let log: RoutingEventLog;
let api: ReturnType<typeof http>;
let client: AgentDeskClient;
let sse: SseReader;
const grpcItems: StreamWorkResponse[] = [];

beforeAll(async () => {
  routing = await startRouting(loadRoutingConfig(t.env));
  api = http(routing.httpUrl);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "owner-notices-test", topicPrefix: t.topicPrefix });
  log = await RoutingEventLog.start(bus);
  client = new AgentDeskClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
  expect((await api.putAgent("ana", agentIn(["notices"]))).status).toBe(200);
  expect((await api.presence("ana", "available")).status).toBe(200);
  sse = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, await bearer(tokens.agent("ana")));
  const metadata = new Metadata();
  metadata.set("authorization", (await bearer(tokens.agent("ana"))).authorization);
  const call = client.streamWork({ agentId: "" }, metadata);
  call.on("data", (item: StreamWorkResponse) => grpcItems.push(item));
  call.on("error", () => undefined);
});

afterAll(async () => {
  sse?.close();
  client?.close();
  await log?.stop();
  await routing?.close();
  await bus?.close();
});

describe("the owner's live stream", () => {
  it("carries SLA warnings and the collaborator added to the owner's ticket", async () => {
    await publishTriaged(bus, "note-1", { group: "notices" });
    const offer = await log.offer("note-1");
    expect((await api.accept(offer.offerId, "ana")).status).toBe(200);

    await publishEscalation(bus, "note-1", escalationAction({ action: "sla_warning", key: "note-1:firstResponse.warn", reason: "first response due in 5 min", ownerId: "ana" }));
    const warning = await sse.next((e) => e.event === "sla_warning");
    expect(JSON.parse(warning.data)).toMatchObject({ kind: "sla_warning", ticketId: "note-1", detail: "first response due in 5 min" });

    await publishEscalation(bus, "note-1", escalationAction({ action: "add_collaborator", key: "note-1:resolution.1:collab:1:test", role: "specialist", ownerId: "ana" }));
    expect((await api.putAgent("sam", agentIn(["notices"], { email: 1 }, { billing: 5, specialist: 8 }))).status).toBe(200);
    expect((await api.presence("sam", "available")).status).toBe(200);
    const added = await sse.next((e) => e.event === "collaborator_added");
    expect(JSON.parse(added.data)).toMatchObject({ kind: "collaborator_added", ticketId: "note-1", agentId: "sam" });

    await waitFor(() => (grpcItems.some((i) => i.kind === "collaborator_added" && i.agentId === "sam") ? true : undefined), { what: "the gRPC stream's notice" });
    expect(grpcItems.find((i) => i.kind === "sla_warning")).toMatchObject({ ticketId: "note-1", detail: "first response due in 5 min" });
  });
});
