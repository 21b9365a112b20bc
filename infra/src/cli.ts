// ./steward infra up [--nodes 3] | down | status — the local Kafka and store for development.
// State (data, logs, pid files) lives under .steward/infra; ports default to 9092 and 27017.
import { existsSync } from "node:fs";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareKafka, startKafka, stopKafka, waitForKafka } from "./kafka.ts";
import { prepareFerretDb, startFerretDb, stopFerretDb, waitForMongo } from "./ferretdb.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const stateDir = process.env["STEWARD_INFRA_DIR"] ?? join(root, ".steward", "infra");
const envFile = join(stateDir, "env");
const log = (m: string) => process.stderr.write(`[infra] ${m}\n`);

async function up(nodes: 1 | 3): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  await Promise.all([prepareKafka({ log }), prepareFerretDb({ log })]);
  const kafkaPort = Number(process.env["STEWARD_KAFKA_PORT"] ?? 9092);
  const mongoPort = Number(process.env["STEWARD_MONGO_PORT"] ?? 27017);
  const [cluster, store] = await Promise.all([
    startKafka({ stateDir: join(stateDir, nodes === 3 ? "kafka3" : "kafka"), nodes, port: kafkaPort, log }),
    startFerretDb({ stateDir: join(stateDir, "ferretdb"), port: mongoPort, log }),
  ]);
  await Promise.all([waitForKafka(cluster.brokers, 120_000), waitForMongo(store.uri, 60_000)]);
  const env = `KAFKA_BROKERS=${cluster.brokers.join(",")}\nMONGODB_URI=${store.uri}\nKAFKA_REPLICATION_FACTOR=${nodes}\n`;
  await writeFile(envFile, env);
  process.stdout.write(env);
}

async function down(): Promise<void> {
  await Promise.all([stopKafka(join(stateDir, "kafka")), stopKafka(join(stateDir, "kafka3")), stopFerretDb(join(stateDir, "ferretdb"))]);
  log("stopped");
}

async function status(): Promise<void> {
  if (!existsSync(envFile)) {
    process.stdout.write("not started (./steward infra up)\n");
    return;
  }
  const env = Object.fromEntries(
    (await readFile(envFile, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("=", 2) as [string, string]),
  );
  const brokers = (env["KAFKA_BROKERS"] ?? "").split(",");
  const [k, m] = await Promise.allSettled([waitForKafka(brokers, 3_000), waitForMongo(env["MONGODB_URI"] ?? "", 3_000)]);
  process.stdout.write(`kafka ${brokers.join(",")}: ${k.status === "fulfilled" ? "ready" : "down"}\nstore ${env["MONGODB_URI"]}: ${m.status === "fulfilled" ? "ready" : "down"}\n`);
  if (k.status !== "fulfilled" || m.status !== "fulfilled") process.exitCode = 1;
}

const [cmd, ...args] = process.argv.slice(2);
try {
  if (cmd === "up") await up(args.includes("--nodes") && args[args.indexOf("--nodes") + 1] === "3" ? 3 : 1);
  else if (cmd === "down") await down();
  else if (cmd === "status") await status();
  else {
    process.stderr.write("usage: infra up [--nodes 3] | down | status\n");
    process.exitCode = 2;
  }
} catch (err) {
  process.stderr.write(`infra: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
