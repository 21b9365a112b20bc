// A 202 means the event is durably in Kafka, so with Kafka down intake must say 503 + Retry-After,
// quickly, and make no ticket; once Kafka is back the same delivery id is accepted exactly once.
// This file runs its own single-node Kafka (stopping the shared one would break other tests).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { prepareKafka, startKafka, type KafkaCluster } from "@steward/infra/kafka";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { connectStore, type Store } from "@steward/store";
import { Channel, Topics } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import type { TicketDoc } from "./ticket-store.ts";
import { EventLog, IntakeGrpc, errorCode, postJson, protoSubmission } from "../test-support/test-support.ts";

/** The contract: with Kafka down, every call is answered (503 + Retry-After) within 2 s, the default. */
const ANSWER_WITHIN_MS = 2_000;
let stateDir = "";
let cluster: KafkaCluster | undefined;
let intake: RunningIntake | undefined;
let store: Store | undefined;
let env: ReturnType<typeof isolatedEnv>;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "intake-outage-kafka-"));
  await prepareKafka();
  cluster = await startKafka({ stateDir, nodes: 1, heapMb: 384 });
  env = isolatedEnv("intake-outage", { KAFKA_BROKERS: cluster.brokers.join(",") });
  intake = await startIntake(loadIntakeConfig(env.env));
  store = await connectStore(env.mongoUri, env.database);
}, 240_000);

afterAll(async () => {
  await intake?.close();
  await store?.close();
  await cluster?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 120_000);

const ticketsWith = (externalId: string) => store?.db.collection<TicketDoc>("intake_tickets").countDocuments({ "messages.externalId": externalId }) ?? Promise.resolve(-1);

describe("Kafka unreachable", () => {
  it("answers 503 with Retry-After, makes no ticket, then accepts the same delivery exactly once when Kafka is back", async () => {
    const running = () => {
      if (!intake || !cluster) throw new Error("not started");
      return { intake, cluster };
    };
    const body = { channel: "chat", externalId: "outage-1", customer: { id: "c-out" }, subject: "Payment failed", body: "My payment failed three times." };
    expect((await postJson(running().intake.httpUrl, "/v1/tickets", { ...body, externalId: "before-outage", customer: { id: "c-before" } })).status).toBe(202);

    await running().cluster.stop();

    const started = Date.now();
    const during = await postJson(running().intake.httpUrl, "/v1/tickets", body);
    const answeredInMs = Date.now() - started;
    expect(during.status).toBe(503);
    expect(during.headers.get("retry-after")).toBe("5");
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe("BROKER_UNAVAILABLE");
    // Within the contract's 2 s plus the time a loaded test machine takes to answer at all.
    expect(answeredInMs).toBeLessThan(ANSWER_WITHIN_MS + 1_000);
    process.stderr.write(`[outage] 503 answered in ${answeredInMs} ms (contract ${ANSWER_WITHIN_MS} ms)\n`);
    // The retry of the same delivery is also refused while Kafka is down; gRPC says UNAVAILABLE.
    expect((await postJson(running().intake.httpUrl, "/v1/tickets", body)).status).toBe(503);
    const grpc = new IntakeGrpc(running().intake.grpcAddress);
    const byGrpc = await grpc.submit(protoSubmission({ channel: Channel.CHAT, externalId: "outage-grpc", body: "hello?" }));
    grpc.close();
    expect(byGrpc.err?.code).toBe(status.UNAVAILABLE);
    expect(errorCode(byGrpc.err)).toBe("BROKER_UNAVAILABLE");
    expect(byGrpc.err?.metadata.get("retry-after")[0]).toBe("5");
    expect((await fetch(`${running().intake.httpUrl}/health/ready`)).status).toBe(503);
    expect((await fetch(`${running().intake.httpUrl}/health/live`)).status).toBe(200);
    // Nothing half-made: no ticket exists for the refused delivery.
    expect(await ticketsWith("outage-1")).toBe(0);

    cluster = await startKafka({ stateDir, nodes: 1, heapMb: 384 });
    expect(cluster.brokers.join(",")).toBe(env.env["KAFKA_BROKERS"]);
    const backAt = Date.now();
    const statuses: number[] = [];
    const accepted = await waitFor(
      async () => {
        const res = await postJson(running().intake.httpUrl, "/v1/tickets", body);
        statuses.push(res.status);
        return res.status === 202 ? ((await res.json()) as { ticketId: string; duplicate: boolean }) : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "202 once Kafka is back" },
    );
    process.stderr.write(`[outage] accepted ${Date.now() - backAt} ms after Kafka was ready again; answers meanwhile: ${statuses.join(",")}\n`);
    expect(statuses.every((s) => s === 503 || s === 202)).toBe(true);
    // The first 202 for this delivery id is the first acceptance; the next is a duplicate.
    expect(accepted.duplicate).toBe(false);
    expect(await (await postJson(running().intake.httpUrl, "/v1/tickets", body)).json()).toMatchObject({ ticketId: accepted.ticketId, duplicate: true });
    expect(await ticketsWith("outage-1")).toBe(1);

    // On Kafka: one event for the delivery (re-sent records would carry the same event id).
    const bus: EventBus = createKafkaJsBus({ brokers: running().cluster.brokers, clientId: "intake-outage-reader", topicPrefix: env.topicPrefix });
    try {
      const log = await EventLog.start(bus, "intake-outage-reader", [Topics.received]);
      const ofDelivery = () => log.on(Topics.received).filter((e) => e.envelope.payload?.$case === "ticketReceived" && e.envelope.payload.value.externalId === "outage-1");
      await waitFor(() => ofDelivery().length > 0 || undefined, { timeoutMs: 60_000, what: "the accepted event" });
      await waitFor(
        () => log.on(Topics.received).some((e) => e.envelope.payload?.$case === "ticketReceived" && e.envelope.payload.value.externalId === "before-outage") || undefined,
        { what: "the event from before the outage" },
      );
      process.stderr.write(`[outage] records for the delivery: ${ofDelivery().length}\n`);
      expect(new Set(ofDelivery().map((e) => e.envelope.eventId)).size).toBe(1);
      expect(new Set(ofDelivery().map((e) => e.envelope.ticketId))).toEqual(new Set([accepted.ticketId]));
    } finally {
      await bus.close();
    }
  }, 240_000);
});
