// The floor: Steward's Kafka hops with no logic, through the same EventBus (same client, acks and
// micro-batching). One process per role, like Steward's services:
//   http     POST /v1/tickets -> publish to A (tickets.received) -> 202   (like intake)
//   relay    consume A -> publish B (tickets.triaged), or B -> C (routing.events)   (like triage, routing)
//   observer consume C and note when each ticket arrives   (like the agent seeing its offer)
// Configured by environment: BENCH_ROLE, BENCH_CLIENT, KAFKA_BROKERS, STEWARD_TOPIC_PREFIX, BENCH_PORT, BENCH_FROM, BENCH_TO.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { createEventBus, newEnvelope, KafkaUnavailableError, type KafkaClientName } from "@steward/messaging";
import { Topics, channelToProto, type TopicName } from "@steward/proto";
import { nowMs } from "./clock.ts";
import { serveBenchRequests } from "./ipc.ts";

const env = process.env;
const role = env["BENCH_ROLE"] ?? "";
const client = (env["BENCH_CLIENT"] ?? "kafkajs") as KafkaClientName;
const bus = createEventBus({
  client,
  brokers: (env["KAFKA_BROKERS"] ?? "").split(","),
  clientId: `floor-${role}`,
  topicPrefix: env["STEWARD_TOPIC_PREFIX"] ?? "",
  log: { warn: (o, m) => console.warn(m, o), error: (o, m) => console.error(m, o), info: () => {} },
});
await bus.ensureTopics();

const topicOf = (name: string | undefined): TopicName => {
  const t = (Topics as Record<string, TopicName>)[name ?? ""];
  if (!t) throw new Error(`unknown topic key ${name}`);
  return t;
};

let stop: () => Promise<void> = async () => {};
let arrivals = new Map<string, number>();

if (role === "http") {
  const server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/tickets") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: { channel: "email"; externalId: string; customer: { id: string; name?: string }; subject?: string; body: string };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"code":"INVALID_JSON","message":"body is not JSON"}}');
        return;
      }
      const ticketId = randomUUID();
      const envelope = newEnvelope(
        "ticketReceived",
        ticketId,
        {
          channel: channelToProto(body.channel),
          externalId: body.externalId,
          customer: { id: body.customer.id, name: body.customer.name ?? "", email: "", phone: "", tier: "", language: "" },
          subject: body.subject ?? "",
          body: body.body,
          quotedText: "",
          signature: "",
          threadId: "",
          metadata: {},
          channelRefs: {},
          messageId: randomUUID(),
          integrationId: "",
        },
        "floor",
      );
      bus.publish({ topic: Topics.received, envelope }).then(
        () => res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ ticketId })),
        (err: unknown) => res.writeHead(err instanceof KafkaUnavailableError ? 503 : 500).end(),
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(Number(env["BENCH_PORT"] ?? 0), "127.0.0.1", r));
  stop = () => new Promise<void>((r) => server.close(() => r()));
} else if (role === "relay") {
  const to = topicOf(env["BENCH_TO"]);
  const sub = await bus.subscribe({
    groupId: `${env["STEWARD_TOPIC_PREFIX"] ?? ""}floor-${env["BENCH_FROM"]}-${env["BENCH_TO"]}`,
    topics: [topicOf(env["BENCH_FROM"])],
    handler: async ({ envelope }) => bus.publish({ topic: to, envelope }),
  });
  stop = () => sub.stop();
} else if (role === "observer") {
  const sub = await bus.subscribe({
    groupId: `${env["STEWARD_TOPIC_PREFIX"] ?? ""}floor-observer-${process.pid}`,
    topics: [Topics.routing],
    handler: async ({ envelope }) => {
      if (!arrivals.has(envelope.ticketId)) arrivals.set(envelope.ticketId, nowMs());
    },
  });
  stop = () => sub.stop();
} else {
  throw new Error(`BENCH_ROLE must be http, relay or observer, not ${role}`);
}

const shutdown = async () => {
  await stop().catch(() => undefined);
  await bus.close().catch(() => undefined);
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown());
serveBenchRequests({
  collect: () => {
    const out = arrivals;
    arrivals = new Map();
    return { offers: out, assignments: new Map<string, number>(), acceptFailures: 0, acceptAnswers: [], resolveFailures: 0, offersSeen: out.size };
  },
});
