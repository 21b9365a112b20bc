// How ensureTopics sizes the topics it creates. The defaults fit any cluster: one broker (local
// development) gets RF 1, three or more get RF 3 with min.insync.replicas 2, so an acknowledged
// publish survives the loss of any one broker and writes continue while one is down.
import { allTopics, type TopicName } from "@steward/proto";

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
}

export const DEFAULT_PARTITIONS = 6;

/** The concurrency a subscription asks for, as a number: "all" is every partition of its topics. */
export function consumeConcurrency(spec: { topics: readonly string[]; partitionsConsumedConcurrently?: number | "all" }, partitions: number | undefined, fallback: number): number {
  const asked = spec.partitionsConsumedConcurrently;
  if (asked === "all") return Math.max(1, spec.topics.length * (partitions ?? DEFAULT_PARTITIONS));
  return Math.max(1, asked ?? fallback);
}

export function topicSettings(opts: {
  brokerCount: number;
  partitions?: number | undefined;
  replicationFactor?: number | undefined;
  minInsyncReplicas?: number | undefined;
}): TopicSettings {
  const replicationFactor = opts.replicationFactor ?? Math.max(1, Math.min(3, opts.brokerCount));
  if (replicationFactor > opts.brokerCount) {
    throw new Error(`replication factor ${replicationFactor} exceeds the ${opts.brokerCount} broker(s) in the cluster (KAFKA_REPLICATION_FACTOR)`);
  }
  const minInsyncReplicas = opts.minInsyncReplicas ?? Math.min(2, replicationFactor);
  if (minInsyncReplicas > replicationFactor) {
    throw new Error(`min.insync.replicas ${minInsyncReplicas} exceeds the replication factor ${replicationFactor}: every acks=all publish would fail`);
  }
  return { partitions: opts.partitions ?? DEFAULT_PARTITIONS, replicationFactor, minInsyncReplicas };
}

/**
 * The topics to create now, or an error when topic creation is off and some are missing. Existing
 * topics are left as they are: their partition count and configs may have been tuned by an operator.
 */
export function topicsToCreate(opts: { prefix: string; existing: Iterable<string>; createTopics: boolean }): string[] {
  const existing = new Set(opts.existing);
  const missing = allTopics.map((t: TopicName) => `${opts.prefix}${t}`).filter((t) => !existing.has(t));
  if (missing.length > 0 && !opts.createTopics) {
    throw new Error(`topic creation is off (KAFKA_CREATE_TOPICS=false) and these topics are missing: ${missing.join(", ")}`);
  }
  return missing;
}
