// Configuration: each service parses its environment once, at start, through a zod schema.
// Nothing else reads process.env. Errors name the variable and say what is wrong with it.
import { z } from "zod";

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "(env)"}: ${issue.message}`);
  throw new ConfigError(problems);
}

/** Comma-separated host:port list, e.g. "127.0.0.1:9092,127.0.0.1:9094". */
export const brokerList = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0 && list.every((b) => /^[^:\s]+:\d{1,5}$/.test(b)), {
    message: "expected host:port[,host:port...]",
  });

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const boolFlag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** Settings every service shares. */
export const commonEnv = {
  KAFKA_BROKERS: brokerList.default(["127.0.0.1:9092"]),
  KAFKA_CLIENT_ID: z.string().optional(),
  /** Prefix for topic names, so several Steward systems (or test runs) can share one cluster. */
  STEWARD_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/)
    .default(""),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, "expected a mongodb:// URI")
    .default("mongodb://127.0.0.1:27017/"),
  MONGODB_DATABASE: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default("steward"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Log every heartbeat and connection-pool event of the store's driver (diagnosing a store outage). */
  STEWARD_STORE_SDAM_DEBUG: boolFlag.default(false),
  STEWARD_INSTANCE_ID: z.string().optional(),
  /** The Kafka client behind the EventBus; both pass the same contract tests (libs/messaging). */
  STEWARD_KAFKA_CLIENT: z.enum(["kafkajs", "platformatic"]).default("kafkajs"),
  // Topics a service creates when missing (existing topics are never altered). Unset: replication factor
  // min(3, brokers in the cluster), min.insync.replicas min(2, RF), 6 partitions. See kafkaSettings.
  KAFKA_REPLICATION_FACTOR: positiveInt.optional(),
  KAFKA_MIN_INSYNC_REPLICAS: positiveInt.optional(),
  KAFKA_PARTITIONS: positiveInt.optional(),
  /** How often a consumer commits the offsets it has handled (kafkajs client): one request per interval. */
  KAFKA_COMMIT_INTERVAL_MS: positiveInt.optional(),
  /** false where a platform team provisions the topics: a missing topic then fails the start instead. */
  KAFKA_CREATE_TOPICS: boolFlag.default(true),
  /** TLS to the brokers; KAFKA_SSL_CA_FILE (PEM) adds a private CA and implies KAFKA_SSL. */
  KAFKA_SSL: boolFlag.default(false),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** Never logged; ConfigError messages name the variable only. */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** How produced record values are written: protobuf, or the proto's canonical JSON; consumers read both. */
  STEWARD_KAFKA_ENCODING: z.enum(["protobuf", "json"]).default("protobuf"),
} as const;

export { kafkaSettings, type KafkaSettings, type KafkaEnv } from "./kafka.ts";
