// Finds or starts the Kafka cluster and store a run needs (see global-setup.ts for the order).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareKafka, startKafka, waitForKafka } from "@steward/infra/kafka";
import { prepareFerretDb, startFerretDb, waitForMongo } from "@steward/infra/ferretdb";

export interface ProvisionedInfra {
  brokers: string[];
  mongoUri: string;
  /** e.g. "kafka:env,store:local" — which path each piece came from. */
  mode: string;
  stop: () => Promise<void>;
}

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export async function provisionInfra(opts: {
  purpose: "test" | "dev";
  env?: Record<string, string | undefined>;
  stateDir?: string;
  kafkaPort?: number;
  mongoPort?: number;
  log?: (msg: string) => void;
}): Promise<ProvisionedInfra> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  // STEWARD_TEST_INFRA_DIR lets parallel test runs on one machine keep separate brokers and stores.
  const stateDir =
    opts.stateDir ?? (opts.purpose === "test" ? env["STEWARD_TEST_INFRA_DIR"] : undefined) ?? join(repoRoot, ".steward", opts.purpose === "test" ? "test-infra" : "infra");
  const stops: Array<() => Promise<void>> = [];
  const modes: string[] = [];
  let brokers: string[];
  let mongoUri: string;

  const wantContainers = !env["KAFKA_BROKERS"] || !env["MONGODB_URI"];
  const runtime = wantContainers && env["STEWARD_NO_CONTAINERS"] !== "1" ? await containerRuntime(log) : undefined;

  if (env["KAFKA_BROKERS"]) {
    brokers = env["KAFKA_BROKERS"].split(",").map((s) => s.trim());
    modes.push("kafka:env");
  } else if (runtime) {
    const { KafkaContainer } = await import("@testcontainers/kafka");
    const container = await new KafkaContainer("confluentinc/cp-kafka:7.9.0").withKraft().withExposedPorts(9093).start();
    brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
    stops.push(async () => void (await container.stop()));
    modes.push("kafka:testcontainers");
  } else {
    await prepareKafka({ log });
    const cluster = await startKafka({ stateDir: join(stateDir, "kafka"), nodes: 1, port: opts.kafkaPort ?? 0, log });
    brokers = cluster.brokers;
    stops.push(() => cluster.stop());
    modes.push("kafka:local");
  }

  if (env["MONGODB_URI"]) {
    mongoUri = env["MONGODB_URI"];
    modes.push("store:env");
  } else if (runtime) {
    const { MongoDBContainer } = await import("@testcontainers/mongodb");
    const container = await new MongoDBContainer("mongo:8.0").start();
    mongoUri = `${container.getConnectionString()}/?directConnection=true`;
    stops.push(async () => void (await container.stop()));
    modes.push("store:testcontainers");
  } else {
    await prepareFerretDb({ log });
    const store = await startFerretDb({ stateDir: join(stateDir, "ferretdb"), port: opts.mongoPort ?? 0, log });
    mongoUri = store.uri;
    stops.push(() => store.stop());
    modes.push("store:local");
  }

  await Promise.all([waitForKafka(brokers, 120_000), waitForMongo(mongoUri, 60_000)]);
  log(`ready: kafka ${brokers.join(",")} store ${mongoUri} (${modes.join(",")})`);
  return {
    brokers,
    mongoUri,
    mode: modes.join(","),
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`stop failed: ${String(err)}`));
    },
  };
}

/** True when testcontainers finds a working container runtime; it rejects at once when none exists. */
async function containerRuntime(log: (m: string) => void): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    log("container runtime found: using testcontainers");
    return true;
  } catch {
    log("no container runtime: using local processes");
    return false;
  }
}
