// Idempotency survives a restart: intake is closed and a new instance started on the same store and
// topics; every way in re-delivers the same delivery ids and gets the original tickets, with no new
// ticket.received; threading state survives too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, newEnvelope, type EventBus } from "@steward/messaging";
import { Channel, Topics, type Submission } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { EventLog, IntakeGrpc, postJson, protoSubmission, sleep } from "../test-support/test-support.ts";

const t = isolatedEnv("intake-restart");
let intake: RunningIntake | undefined;
let bus: EventBus;
let log: EventLog;

beforeAll(async () => {
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "intake-restart-test", topicPrefix: t.topicPrefix });
  intake = await startIntake(loadIntakeConfig(t.env));
  log = await EventLog.start(bus, "intake-restart-reader", [Topics.received]);
});

afterAll(async () => {
  await intake?.close();
  await bus?.close();
});

const publish = (s: Submission, key = s.externalId) => bus.publish({ topic: Topics.submissions, key, envelope: newEnvelope("submission", "", s, "test-producer") });
const eventsOf = (externalId: string) =>
  log.on(Topics.received).filter((e) => {
    const p = e.envelope.payload;
    return (p?.$case === "ticketReceived" || p?.$case === "messageReceived") && p.value.externalId === externalId;
  });

describe("idempotency across a restart", () => {
  it("answers re-deliveries on a new instance with the original tickets and publishes nothing new", async () => {
    const running = () => {
      if (!intake) throw new Error("intake is not running");
      return intake;
    };
    const httpBody = { channel: "chat", externalId: "r-http", customer: { id: "c-r1" }, subject: "Login loop", body: "The app logs me out every minute." };
    const first = (await (await postJson(running().httpUrl, "/v1/tickets", httpBody)).json()) as { ticketId: string };
    const grpcSub = protoSubmission({
      channel: Channel.API,
      externalId: "r-grpc",
      body: "Export fails with error 500.",
      customer: { id: "c-r2", name: "", email: "", phone: "", tier: "", language: "" },
    });
    let grpc = new IntakeGrpc(running().grpcAddress);
    const firstGrpc = await grpc.submit(grpcSub);
    grpc.close();
    const topicSub = protoSubmission({
      channel: Channel.SOCIAL,
      externalId: "r-topic",
      body: "Your app ate my photos",
      customer: { id: "c-r3", name: "", email: "", phone: "", tier: "", language: "" },
      channelRefs: { platform: "mastodon", postId: "11" },
    });
    await publish(topicSub);
    await waitFor(() => ["r-http", "r-grpc", "r-topic"].every((id) => eventsOf(id).length === 1) || undefined, { what: "the three first events" });
    const topicTicket = eventsOf("r-topic")[0]?.envelope.ticketId;

    await running().close();
    intake = undefined;
    intake = await startIntake(loadIntakeConfig(t.env));

    const again = await postJson(running().httpUrl, "/v1/tickets", { ...httpBody, body: "a changed body must not make a new ticket" });
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ ticketId: first.ticketId, duplicate: true });
    grpc = new IntakeGrpc(running().grpcAddress);
    const grpcAgain = await grpc.submit(grpcSub);
    expect(grpcAgain.res).toMatchObject({ ticketId: firstGrpc.res?.ticketId, duplicate: true });
    await publish(topicSub);
    // A follow-up behind the re-delivered record, on the same partition (same key): once it is in, the
    // re-delivery before it was handled.
    await publish(
      protoSubmission({
        channel: Channel.SOCIAL,
        externalId: "r-topic-marker",
        body: "Any news?",
        threadId: topicTicket ?? "",
        customer: { id: "c-r3", name: "", email: "", phone: "", tier: "", language: "" },
      }),
      "r-topic",
    );
    const followUp = await postJson(running().httpUrl, "/v1/tickets", {
      channel: "email",
      externalId: "r-http-2",
      customer: { id: "c-r1" },
      subject: "RE: Login loop",
      body: "Still happening after the update.",
    });
    expect(await followUp.json()).toMatchObject({ ticketId: first.ticketId, followUp: true });
    await waitFor(() => eventsOf("r-topic-marker").length === 1 || undefined, { what: "marker after the re-delivered topic record" });
    await sleep(1000);
    grpc.close();

    for (const id of ["r-http", "r-grpc", "r-topic"]) expect(eventsOf(id)).toHaveLength(1);
    expect(eventsOf("r-topic-marker")[0]?.envelope.ticketId).toBe(topicTicket);
    const view = (await (await fetch(`${running().httpUrl}/v1/tickets/${first.ticketId}`)).json()) as { messages: Array<{ externalId: string; sequence: number }> };
    expect(view.messages.map((m) => [m.externalId, m.sequence])).toEqual([
      ["r-http", 1],
      ["r-http-2", 2],
    ]);
  });
});
