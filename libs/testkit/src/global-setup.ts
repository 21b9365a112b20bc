// Vitest global setup for integration tests: one real Kafka and one real store for the whole run.
// Order of preference, for each of the two independently:
//   1. KAFKA_BROKERS / MONGODB_URI from the environment (any real cluster or MongoDB);
//   2. testcontainers, when a container runtime answers;
//   3. local processes started by @steward/infra (Kafka KRaft from Maven jars, FerretDB on SQLite).
// Tests read the addresses with inject("kafkaBrokers") / inject("mongoUri").
import type { TestProject } from "vitest/node";
import { provisionInfra } from "./provision.ts";

import "./system.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const infra = await provisionInfra({ purpose: "test", log: (m) => process.stderr.write(`[infra] ${m}\n`) });
  project.provide("kafkaBrokers", infra.brokers.join(","));
  project.provide("mongoUri", infra.mongoUri);
  project.provide("infraMode", infra.mode);
  return infra.stop;
}
