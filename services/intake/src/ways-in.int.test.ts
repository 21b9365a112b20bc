// The three ways in (HTTP, gRPC unary and batch, the submissions topic) over the real broker and
// store: the same validation, the same events; invalid topic records go to dead letters with their
// reason without holding up the partition; follow-ups thread across channels in order; each new
// ticket is acknowledged in the language triage found.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { createKafkaJsBus, newEnvelope, type EventBus } from "@steward/messaging";
import { Channel, Priority, TicketTriaged, Topics, type Submission } from "@steward/proto";
import { checkHealth, listServicesByReflection } from "@steward/proto/grpc-standard";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { EventLog, IntakeGrpc, errorCode, postJson, protoSubmission, sleep } from "../test-support/test-support.ts";
import { ticketReference } from "./domain/acknowledgement.ts";

const t = isolatedEnv("intake-ways");
let intake: RunningIntake;
let bus: EventBus;
let log: EventLog;
let grpc: IntakeGrpc;

beforeAll(async () => {
  intake = await startIntake(loadIntakeConfig(t.env));
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "intake-ways-test", topicPrefix: t.topicPrefix });
  log = await EventLog.start(bus, "intake-ways-reader", [Topics.received, Topics.deadLetter, Topics.outbound]);
  grpc = new IntakeGrpc(intake.grpcAddress);
});

afterAll(async () => {
  grpc?.close();
  await intake?.close();
  await bus?.close();
});

const received = (externalId: string) =>
  waitFor(() => log.on(Topics.received).find((e) => e.envelope.payload?.$case === "ticketReceived" && e.envelope.payload.value.externalId === externalId), {
    what: `ticket.received for ${externalId}`,
  });

function publishSubmission(submission: Submission) {
  return bus.publish({ topic: Topics.submissions, key: submission.externalId, envelope: newEnvelope("submission", "", submission, "test-producer") });
}

describe("three ways in, one pipeline", () => {
  it("describes its gRPC API by reflection and reports health SERVING once ready", async () => {
    expect(await listServicesByReflection(intake.grpcAddress)).toEqual(expect.arrayContaining(["steward.v1.IntakeService", "grpc.health.v1.Health"]));
    await waitFor(async () => (await checkHealth(intake.grpcAddress, "steward.v1.IntakeService")) === "SERVING" || undefined, { what: "gRPC health SERVING" });
  });

  it("gives the same ticket.received whether a submission comes by HTTP, gRPC or the topic", async () => {
    // Three customers (ids and addresses: one address is one customer), so none of the three threads onto
    // another as a follow-up on the same topic.
    const customer = (id: string) => ({ id, name: "Ana", email: `${id}@example.com`, phone: "", tier: "vip", language: "" });
    const common = { subject: "Card declined", body: "My card is declined at checkout.", metadata: { orderId: "77" } };
    const http = await postJson(intake.httpUrl, "/v1/tickets", {
      channel: "web",
      externalId: "same-http",
      ...common,
      customer: { id: "c-same-http", name: "Ana", email: "c-same-http@example.com", tier: "vip" },
    });
    expect(http.status).toBe(202);
    const byGrpc = await grpc.submit(protoSubmission({ channel: Channel.WEB, externalId: "same-grpc", ...common, customer: customer("c-same-grpc") }));
    expect(byGrpc.err).toBeUndefined();
    await publishSubmission(protoSubmission({ channel: Channel.WEB, externalId: "same-topic", ...common, customer: customer("c-same-topic") }));

    const events = await Promise.all(["same-http", "same-grpc", "same-topic"].map(received));
    const shapes = events.map((e) => {
      const p = e.envelope.payload;
      if (p?.$case !== "ticketReceived") throw new Error("not a ticket");
      const { externalId: _e, messageId: _m, customer: c, ...rest } = p.value;
      return { type: e.envelope.type, producer: e.envelope.producer, customer: { ...c, id: "(differs)", email: c?.email.replace(/^c-same-[a-z]+@/, "(differs)@") }, ...rest };
    });
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
    expect(shapes[0]).toMatchObject({
      type: "ticket.received",
      producer: "intake",
      channel: Channel.WEB,
      integrationId: "dev",
      metadata: { orderId: "77" },
      customer: { tier: "vip", email: "(differs)@example.com" },
    });
    expect(byGrpc.res?.ticketId).toBe(events[1]?.envelope.ticketId);
    const view = (await (await fetch(`${intake.httpUrl}/v1/tickets/${events[2]?.envelope.ticketId}`)).json()) as { channel: string; reference: string };
    expect(view.channel).toBe("web");
    expect(view.reference).toBe(ticketReference(events[2]?.envelope.ticketId ?? ""));
  });

  it("answers gRPC errors with a status and a stable code", async () => {
    const invalid = await grpc.submit(protoSubmission({ externalId: "g-bad", body: " ", customer: undefined }));
    expect(invalid.err?.code).toBe(status.INVALID_ARGUMENT);
    expect(errorCode(invalid.err)).toBe("VALIDATION_FAILED");
    expect(invalid.err?.details).toMatch(/^VALIDATION_FAILED: customer: is required; body: must contain text/);
    const unknownChannel = await grpc.submit(protoSubmission({ externalId: "g-ch", body: "hi", channel: 0 }));
    expect(errorCode(unknownChannel.err)).toBe("VALIDATION_FAILED");
    const empty = await grpc.submit(undefined);
    expect(empty.err?.code).toBe(status.INVALID_ARGUMENT);
    const badKey = await grpc.submit(protoSubmission({ externalId: "g-key", body: "hi" }), { authorization: "Bearer wrong" });
    expect(badKey.err?.code).toBe(status.UNAUTHENTICATED);
    expect(errorCode(badKey.err)).toBe("INVALID_API_KEY");
    const devKey = await grpc.submit(protoSubmission({ externalId: "g-devkey", body: "hello there" }), { "x-api-key": "steward-dev-key" });
    expect(devKey.err).toBeUndefined();
    const noTicket = await grpc.submit(protoSubmission({ externalId: "g-nt", body: "more", ticketId: "no-such-ticket" }));
    expect(noTicket.err?.code).toBe(status.NOT_FOUND);
    expect(errorCode(noTicket.err)).toBe("TICKET_NOT_FOUND");
    const otherIntegration = await grpc.submit(protoSubmission({ externalId: "g-int", body: "hi", integrationId: "someone-else" }));
    expect(otherIntegration.err?.code).toBe(status.PERMISSION_DENIED);
  });

  it("imports a batch: per-item results and errors by index, re-sent items are duplicates, one customer's items in order", async () => {
    const items = [
      protoSubmission({
        externalId: "b-1",
        body: "first of customer A",
        subject: "Import A",
        customer: { id: "c-batch-a", name: "", email: "", phone: "", tier: "", language: "" },
      }),
      protoSubmission({ externalId: "b-2", body: "   ", customer: { id: "c-batch-b", name: "", email: "", phone: "", tier: "", language: "" } }),
      protoSubmission({
        externalId: "b-3",
        body: "second of customer A",
        subject: "Re: Import A",
        customer: { id: "c-batch-a", name: "", email: "", phone: "", tier: "", language: "" },
      }),
      ...Array.from({ length: 40 }, (_, i) =>
        protoSubmission({ externalId: `b-bulk-${i}`, body: `bulk message ${i}`, customer: { id: `c-bulk-${i}`, name: "", email: "", phone: "", tier: "", language: "" } }),
      ),
    ];
    const first = await grpc.submitBatch(items);
    expect(first.err).toBeUndefined();
    const res = first.res;
    expect(res?.accepted).toBe(42);
    expect(res?.duplicates).toBe(0);
    expect(res?.errors).toEqual([{ index: 1, code: "VALIDATION_FAILED", message: "body: must contain text" }]);
    expect(res?.results.map((r) => r.index)).toEqual([0, ...Array.from({ length: 41 }, (_, i) => i + 2)]);
    // Items 0 and 2 belong to one customer and topic: the second threads onto the first.
    const [a0, a2] = [res?.results.find((r) => r.index === 0), res?.results.find((r) => r.index === 2)];
    expect(a2?.followUp).toBe(true);
    expect(a2?.ticketId).toBe(a0?.ticketId);

    const again = await grpc.submitBatch(items.slice(0, 3));
    expect(again.res?.accepted).toBe(0);
    expect(again.res?.duplicates).toBe(2);
    expect(again.res?.results.map((r) => r.ticketId)).toEqual([a0?.ticketId, a2?.ticketId]);
  });

  it("dead-letters invalid topic submissions with the reason, and keeps consuming the partition", async () => {
    const bad = protoSubmission({ externalId: "same-key", body: "", customer: undefined });
    await publishSubmission(bad);
    await bus.publish({ topic: Topics.submissions, key: "same-key", envelope: newEnvelope("ticketResolved", "T-x", { agentId: "a" }, "test-producer") });
    await publishSubmission(protoSubmission({ externalId: "same-key-ok", body: "valid after two bad ones", integrationId: "unknown-int" }));
    await publishSubmission(protoSubmission({ externalId: "same-key", body: "valid after the bad ones" }));
    // Same key, same partition: the valid record behind the bad ones is accepted.
    await received("same-key");
    const dead = await waitFor(() => (log.on(Topics.deadLetter).length >= 3 ? log.on(Topics.deadLetter) : undefined), { what: "three dead letters" });
    const reasons = dead.map((e) => e.headers["steward-dlq-error"] ?? "");
    expect(reasons).toContainEqual(expect.stringMatching(/^SubmissionRejectedError: VALIDATION_FAILED: customer: is required; body: must contain text/));
    expect(reasons).toContainEqual(expect.stringMatching(/WRONG_PAYLOAD/));
    expect(reasons).toContainEqual(expect.stringMatching(/UNKNOWN_INTEGRATION/));
    expect(dead.every((e) => (e.headers["steward-dlq-source"] ?? "").includes(Topics.submissions))).toBe(true);
  });

  it("threads follow-ups across channels in order: e-mail, then chat by thread id, then phone by topic, then the messages route", async () => {
    const customer = { id: "c-x", name: "Kim", email: "kim@example.com", phone: "+49 151 1234 5678" };
    const first = await postJson(intake.httpUrl, "/v1/tickets", {
      channel: "email",
      externalId: "x-mail-1",
      customer,
      subject: "Router keeps rebooting",
      body: "My router reboots every hour.",
      threadId: "conv-9",
    });
    const { ticketId } = (await first.json()) as { ticketId: string };
    const chat = await grpc.submit(
      protoSubmission({
        channel: Channel.CHAT,
        externalId: "x-chat-1",
        body: "Any update on the router?",
        threadId: ticketId,
        customer: { id: "c-x", name: "", email: "", phone: "", tier: "", language: "" },
      }),
    );
    expect(chat.res).toMatchObject({ ticketId, followUp: true });
    await publishSubmission(
      protoSubmission({
        channel: Channel.PHONE,
        externalId: "x-call-1",
        body: "Customer asked for a call back about the router.",
        subject: "RE: Router keeps rebooting",
        customer: { id: "c-x", name: "", email: "", phone: "+49 151 1234 5678", tier: "", language: "" },
        channelRefs: { kind: "callback", preferredTime: "asap" },
      }),
    );
    const phone = await waitFor(
      () => log.ofTicket(ticketId, Topics.received).find((e) => e.envelope.payload?.$case === "messageReceived" && e.envelope.payload.value.externalId === "x-call-1"),
      { what: "phone follow-up" },
    );
    expect(phone.envelope.payload?.$case === "messageReceived" && phone.envelope.payload.value.channelRefs).toEqual({
      kind: "callback",
      preferredTime: "asap",
      callbackNumber: "+4915112345678",
    });
    const viaRoute = await postJson(intake.httpUrl, `/v1/tickets/${ticketId}/messages`, { externalId: "x-web-1", from: "customer", body: "Still rebooting.", channel: "web" });
    expect(viaRoute.status).toBe(202);

    const view = (await (await fetch(`${intake.httpUrl}/v1/tickets/${ticketId}`)).json()) as {
      messages: Array<{ channel: string; sequence: number; externalId: string; channelRefs: Record<string, string> }>;
    };
    expect(view.messages[2]?.channelRefs).toEqual({ kind: "callback", preferredTime: "asap", callbackNumber: "+4915112345678" });
    expect(view.messages.map((m) => [m.externalId, m.channel, m.sequence])).toEqual([
      ["x-mail-1", "email", 1],
      ["x-chat-1", "chat", 2],
      ["x-call-1", "phone", 3],
      ["x-web-1", "web", 4],
    ]);
    const sequences = log.ofTicket(ticketId, Topics.received).flatMap((e) => (e.envelope.payload?.$case === "messageReceived" ? [e.envelope.payload.value.sequence] : []));
    expect(sequences).toEqual([2, 3, 4]);
  });

  it("acknowledges a new ticket once, in the language triage found, on its channel", async () => {
    const res = await postJson(intake.httpUrl, "/v1/tickets", {
      channel: "email",
      externalId: "ack-1",
      customer: { id: "c-ack", email: "lena@example.de" },
      subject: "Rechnung doppelt",
      body: "Ich wurde doppelt belastet.",
    });
    const { ticketId, reference } = (await res.json()) as { ticketId: string; reference: string };
    const triaged = (retriage: boolean, eventId: string) =>
      newEnvelope(
        "ticketTriaged",
        ticketId,
        { ...TicketTriaged.fromJSON({}), language: "de", intent: "billing", priority: Priority.P3, group: "billing", retriage, channel: Channel.EMAIL, customerId: "c-ack" },
        "triage",
        { eventId },
      );
    await bus.publish({ topic: Topics.triaged, envelope: triaged(false, "11111111-0000-4000-8000-000000000001") });
    const ack = await waitFor(() => log.ofTicket(ticketId, Topics.outbound)[0], { what: "acknowledgement" });
    expect(ack.envelope.payload?.$case).toBe("notification");
    const n = ack.envelope.payload?.$case === "notification" ? ack.envelope.payload.value : undefined;
    expect(n).toEqual({
      channel: Channel.EMAIL,
      kind: "acknowledgement",
      recipient: "lena@example.de",
      language: "de",
      reference,
      text: `Wir haben Ihre Nachricht erhalten. Ihre Referenznummer lautet ${reference}. Wir melden uns so schnell wie möglich bei Ihnen.`,
      // An agent's reply carries its own message id and the customer's message it answers; a notice has neither.
      messageId: "",
      inReplyTo: "",
    });
    // The same triage event again, and a re-triage after a follow-up: no second acknowledgement.
    await bus.publish({ topic: Topics.triaged, envelope: triaged(false, "11111111-0000-4000-8000-000000000001") });
    await bus.publish({ topic: Topics.triaged, envelope: triaged(true, "11111111-0000-4000-8000-000000000002") });
    await waitFor(
      async () => {
        const view = (await (await fetch(`${intake.httpUrl}/v1/tickets/${ticketId}`)).json()) as { history: Array<{ type: string }> };
        return view.history.filter((h) => h.type === "ticket.triaged").length >= 2 || undefined;
      },
      { what: "both triage events projected" },
    );
    await sleep(1000);
    expect(log.ofTicket(ticketId, Topics.outbound)).toHaveLength(1);
  });

  it("sends no acknowledgement for automatic e-mail (no auto-responder loops)", async () => {
    const res = await postJson(intake.httpUrl, "/v1/tickets", {
      channel: "email",
      externalId: "ack-auto",
      customer: { id: "c-ooo", email: "ooo@example.com" },
      subject: "Out of office",
      body: "I am away.",
      metadata: { autoSubmitted: "auto-replied" },
    });
    const { ticketId } = (await res.json()) as { ticketId: string };
    await bus.publish({ topic: Topics.triaged, envelope: newEnvelope("ticketTriaged", ticketId, { ...TicketTriaged.fromJSON({}), language: "en" }, "triage") });
    await waitFor(
      async () => {
        const view = (await (await fetch(`${intake.httpUrl}/v1/tickets/${ticketId}`)).json()) as { status: string };
        return view.status === "triaged" || undefined;
      },
      { what: "triage projected" },
    );
    await sleep(1000);
    expect(log.ofTicket(ticketId, Topics.outbound)).toHaveLength(0);
  });
});
