// Replies at the agent gateway over the real broker and store: the owner answers the customer or leaves a
// note, a collaborator only leaves notes, nobody else writes; the answer is the stored message, and the
// reply is an agent.replied event keyed by the ticket. Over HTTP and the gRPC AgentDesk alike.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { AgentDeskClient, type ReplyResponse } from "@steward/proto";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { bearer, isolatedEnv, tokens } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { startRouting, type RunningRouting } from "./service.ts";
import { RoutingEventLog, agentIn, escalationAction, http, publishEscalation, publishTriaged } from "../test-support/routing-test-support.ts";

const t = isolatedEnv("replies");
let routing: RunningRouting;
let bus: EventBus;
let log: RoutingEventLog;
let api: ReturnType<typeof http>;
let client: AgentDeskClient;

beforeAll(async () => {
  routing = await startRouting(loadRoutingConfig(t.env));
  api = http(routing.httpUrl);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "replies-test", topicPrefix: t.topicPrefix });
  log = await RoutingEventLog.start(bus);
  client = new AgentDeskClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
  // A ticket owned by ana, with sam brought in as a collaborator by escalation.
  expect((await api.putAgent("ana", agentIn(["desk"]))).status).toBe(200);
  expect((await api.presence("ana", "available")).status).toBe(200);
  await publishTriaged(bus, "rep-1", { group: "desk" });
  const offer = await log.offer("rep-1");
  expect((await api.accept(offer.offerId, "ana")).status).toBe(200);
  await publishEscalation(bus, "rep-1", escalationAction({ action: "add_collaborator", key: "rep-1:resolution.1:collab:1:test", role: "specialist", ownerId: "ana" }));
  expect((await api.putAgent("sam", agentIn(["desk"], { email: 1 }, { billing: 5, specialist: 8 }))).status).toBe(200);
  expect((await api.presence("sam", "available")).status).toBe(200);
  await log.waitFor("sam added", (e) => e.type === "collaborator.added" && e.ticketId === "rep-1");
  expect((await api.putAgent("zed", agentIn(["desk"]))).status).toBe(200);
});

afterAll(async () => {
  client?.close();
  await log?.stop();
  await routing?.close();
  await bus?.close();
});

const reply = (agentId: string, body: unknown, ticketId = "rep-1") => api.call("POST", `/v1/tickets/${ticketId}/replies`, body, { agent: agentId });

async function as(agentId: string): Promise<Metadata> {
  const metadata = new Metadata();
  metadata.set("authorization", (await bearer(tokens.agent(agentId))).authorization);
  return metadata;
}

async function grpcReply(agentId: string, visibility: string, body: string): Promise<ReplyResponse> {
  const metadata = await as(agentId);
  return new Promise((resolve, reject) =>
    client.reply({ agentId: "", ticketId: "rep-1", body, visibility, inReplyToMessageId: "", clientMessageId: "" }, metadata, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

describe("replies", () => {
  it("lets the owner answer the customer and answers with the stored message, published as agent.replied", async () => {
    const res = await reply("ana", { body: "Your refund is on its way.", visibility: "public" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ticketId: "rep-1", from: "agent", agentId: "ana", visibility: "public", body: "Your refund is on its way.", inReplyToMessageId: null });
    expect(res.body["messageId"]).toMatch(/^reply-/);
    expect(Number.isNaN(Date.parse(String(res.body["at"])))).toBe(false);

    const event = await log.waitFor("agent.replied", (e) => e.payload?.$case === "agentReplied" && e.payload.value.messageId === res.body["messageId"]);
    expect(event.ticketId).toBe("rep-1");
    expect(event.payload?.$case === "agentReplied" && event.payload.value).toMatchObject({ agentId: "ana", visibility: "public", body: "Your refund is on its way." });
    expect(event.occurredAt?.toISOString()).toBe(res.body["at"]);
  });

  it("answers a retried reply with the same message id when the client names it", async () => {
    const first = await reply("ana", { body: "Checking.", visibility: "public", clientMessageId: "draft-42" });
    const again = await reply("ana", { body: "Checking.", visibility: "public", clientMessageId: "draft-42" });
    expect(first.status).toBe(201);
    expect(again.body["messageId"]).toBe(first.body["messageId"]);
    expect((await reply("ana", { body: "Checking.", visibility: "public", clientMessageId: "draft-43" })).body["messageId"]).not.toBe(first.body["messageId"]);
  });

  it("lets a collaborator leave internal notes but not answer the customer", async () => {
    const note = await reply("sam", { body: "Duplicate charge, see ledger.", visibility: "internal" });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ agentId: "sam", visibility: "internal" });
    const refused = await reply("sam", { body: "Hello!", visibility: "public" });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe("FORBIDDEN");
  });

  it("refuses agents who neither own nor collaborate, unknown tickets, and bad bodies", async () => {
    expect((await reply("zed", { body: "hi", visibility: "internal" })).status).toBe(403);
    expect((await api.call("POST", "/v1/tickets/rep-1/replies", { body: "hi", visibility: "public" }, "anonymous")).status).toBe(401);
    expect((await reply("ana", { body: "hi", visibility: "public" }, "no-such-ticket")).body.error?.code).toBe("TICKET_NOT_FOUND");
    expect((await reply("ana", { body: "", visibility: "public" })).status).toBe(400);
    expect((await reply("ana", { body: "hi", visibility: "shout" })).status).toBe(400);
    expect((await reply("ana", { body: "   ", visibility: "public" })).body.error?.code).toBe("INVALID_INPUT");
  });

  it("takes replies over the gRPC AgentDesk with the same rules", async () => {
    const r = await grpcReply("ana", "internal", "Called the bank.");
    expect(r.messageId).toMatch(/^reply-/);
    expect(r.visibility).toBe("internal");
    await log.waitFor("grpc reply", (e) => e.payload?.$case === "agentReplied" && e.payload.value.messageId === r.messageId);
    const denied = await grpcReply("sam", "public", "Hi").catch((e: ServiceError) => e);
    expect((denied as ServiceError).code).toBe(status.PERMISSION_DENIED);
    expect((await grpcReply("sam", "internal", "ok")).visibility).toBe("internal");
  });
});
