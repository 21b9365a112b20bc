// A projector alone in a process of its own, so a test can kill it with SIGKILL while events it consumed
// wait in its write-behind buffer. Settings come from the environment; prints "ready" once subscribed.
import { connectStore } from "@steward/store";
import { createKafkaJsBus } from "@steward/messaging";
import { TicketStore } from "../src/ticket-store.ts";
import { startProjector } from "../src/projector.ts";

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const conn = await connectStore(env("MONGODB_URI"), env("MONGODB_DATABASE"));
const bus = createKafkaJsBus({ brokers: env("KAFKA_BROKERS").split(","), clientId: "projector-process", topicPrefix: env("STEWARD_TOPIC_PREFIX") });
await startProjector(bus, new TicketStore(conn.db), env("PROJECTOR_GROUP"), { flushMs: Number(env("PROJECTOR_FLUSH_MS")) });
process.stdout.write("ready\n");
