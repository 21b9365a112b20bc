// Kafka connection and topic settings from the parsed common environment, in the shape the EventBus
// takes. Checks the combinations zod's per-variable schema cannot, and reads the CA file once, here.
import { readFileSync } from "node:fs";
import { ConfigError } from "./index.ts";

/** The common variables this reads (every service's config has them through commonEnv). */
export interface KafkaEnv {
  KAFKA_REPLICATION_FACTOR?: number | undefined;
  KAFKA_MIN_INSYNC_REPLICAS?: number | undefined;
  KAFKA_PARTITIONS?: number | undefined;
  KAFKA_COMMIT_INTERVAL_MS?: number | undefined;
  KAFKA_CREATE_TOPICS: boolean;
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: "plain" | "scram-sha-256" | "scram-sha-512" | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

export interface KafkaSettings {
  /** Absent: plaintext. `{}`: TLS with the system CAs. */
  ssl?: { ca?: string[] };
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
  replicationFactor?: number;
  minInsyncReplicas?: number;
  partitions?: number;
  commitIntervalMs?: number;
  createTopics: boolean;
}

export function kafkaSettings(env: KafkaEnv): KafkaSettings {
  const problems: string[] = [];
  const settings: KafkaSettings = { createTopics: env.KAFKA_CREATE_TOPICS };
  if (env.KAFKA_REPLICATION_FACTOR !== undefined) settings.replicationFactor = env.KAFKA_REPLICATION_FACTOR;
  if (env.KAFKA_MIN_INSYNC_REPLICAS !== undefined) settings.minInsyncReplicas = env.KAFKA_MIN_INSYNC_REPLICAS;
  if (env.KAFKA_PARTITIONS !== undefined) settings.partitions = env.KAFKA_PARTITIONS;
  if (env.KAFKA_COMMIT_INTERVAL_MS !== undefined) settings.commitIntervalMs = env.KAFKA_COMMIT_INTERVAL_MS;
  if (env.KAFKA_REPLICATION_FACTOR !== undefined && env.KAFKA_MIN_INSYNC_REPLICAS !== undefined && env.KAFKA_MIN_INSYNC_REPLICAS > env.KAFKA_REPLICATION_FACTOR) {
    // Such a topic refuses every acks=all write, so every publish would time out.
    problems.push(`KAFKA_MIN_INSYNC_REPLICAS: ${env.KAFKA_MIN_INSYNC_REPLICAS} exceeds KAFKA_REPLICATION_FACTOR ${env.KAFKA_REPLICATION_FACTOR}`);
  }

  if (env.KAFKA_SSL_CA_FILE !== undefined) {
    try {
      settings.ssl = { ca: [readFileSync(env.KAFKA_SSL_CA_FILE, "utf8")] };
    } catch (err) {
      problems.push(`KAFKA_SSL_CA_FILE: cannot read ${env.KAFKA_SSL_CA_FILE} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
  } else if (env.KAFKA_SSL) {
    settings.ssl = {};
  }

  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  if (mechanism !== undefined) {
    if (username === undefined) problems.push("KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM");
    if (password === undefined) problems.push("KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM");
    if (username !== undefined && password !== undefined) settings.sasl = { mechanism, username, password };
  } else if (username !== undefined || password !== undefined) {
    problems.push("KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (plain, scram-sha-256 or scram-sha-512)");
  }
  if (mechanism === "plain" && settings.ssl === undefined) {
    // PLAIN sends the password as it is; over plaintext anyone on the path reads it.
    problems.push("KAFKA_SASL_MECHANISM: plain needs KAFKA_SSL=true (it sends the password unencrypted)");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}
