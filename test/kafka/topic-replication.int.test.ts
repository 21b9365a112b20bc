// Topics on a real three-node cluster: both EventBus implementations create Steward's topics with
// replication factor 3 and a topic-level min.insync.replicas of 2, without being told the cluster size,
// leave an operator's existing topics alone, and create nothing when topic creation is off.
// This file runs its own three-node Kafka in a temporary state dir (the shared one has one node).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigResourceTypes, ConfigSource, Kafka, logLevel, type Admin } from "kafkajs";
import { prepareKafka, startKafka, type KafkaCluster } from "@steward/infra/kafka";
import { Topics, allTopics } from "@steward/proto";
import { waitFor } from "@steward/testkit";
import { createKafkaJsBus, createPlatformaticBus, type BusOptions, type EventBus } from "@steward/messaging";

let stateDir = "";
let cluster: KafkaCluster | undefined;
let admin: Admin | undefined;
const buses: EventBus[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "steward-replication-kafka-"));
  await prepareKafka();
  // 256 MB each: three JVMs share a 2-core machine with the shared test broker and store.
  cluster = await startKafka({ stateDir, nodes: 3, heapMb: 256, startupTimeoutMs: 150_000 });
  admin = new Kafka({ clientId: "replication-test", brokers: cluster.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
}, 240_000);

afterAll(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  await admin?.disconnect();
  await cluster?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 120_000);

function running(): { cluster: KafkaCluster; admin: Admin } {
  if (!cluster || !admin) throw new Error("cluster not started");
  return { cluster, admin };
}

async function minInsync(topics: string[]): Promise<Array<{ topic: string; value: string | undefined; fromTopic: boolean }>> {
  // The broker kafkajs asks may not yet know a topic another client just created: it answers
  // UNKNOWN_TOPIC_OR_PARTITION ("does not host this topic-partition", seen failing a cold CI run here).
  // Retried until it answers; the values it then gives are asserted by the caller.
  const res = await waitFor(
    () =>
      running().admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ["min.insync.replicas"] })),
      }),
    { what: "the topics' min.insync.replicas" },
  );
  return res.resources.map((r) => {
    const entry = r.configEntries.find((e) => e.configName === "min.insync.replicas");
    // The brokers' own default is also 2 on this cluster: only a topic-level entry proves the bus set it.
    return { topic: r.resourceName, value: entry?.configValue, fromTopic: entry?.configSource === ConfigSource.TOPIC_CONFIG };
  });
}

describe.each([
  ["kafkajs", createKafkaJsBus],
  ["platformatic", createPlatformaticBus],
] as const)("ensureTopics over %s on three brokers", (name, create) => {
  const prefix = `repl-${name}-${Date.now()}.`;
  const bus = (extra: Partial<BusOptions> = {}) => {
    const b = create({ brokers: running().cluster.brokers, clientId: `replication-${name}`, topicPrefix: prefix, partitions: 2, ...extra });
    buses.push(b);
    return b;
  };
  const physical = allTopics.map((t) => `${prefix}${t}`);

  it("refuses to start when topics are missing and topic creation is off, creating none", async () => {
    await expect(bus({ createTopics: false }).ensureTopics()).rejects.toThrow(/KAFKA_CREATE_TOPICS=false/);
    const existing = new Set(await running().admin.listTopics());
    expect(physical.filter((t) => existing.has(t))).toEqual([]);
  });

  it("creates every topic with RF 3 and min.insync.replicas 2, and leaves a pre-created topic as it was", async () => {
    // An operator created the dead-letter topic by hand, with one replica: ensureTopics must not touch it.
    const preCreated = `${prefix}${Topics.deadLetter}`;
    // Not kafkajs's waitForLeaders: it retries only LEADER_NOT_AVAILABLE, and a KRaft broker that has not yet
    // learned of the new topic answers UNKNOWN_TOPIC_OR_PARTITION (seen failing a cold CI run here).
    await running().admin.createTopics({ waitForLeaders: false, topics: [{ topic: preCreated, numPartitions: 1, replicationFactor: 1 }] });
    await waitFor(
      async () => {
        const m = await running().admin.fetchTopicMetadata({ topics: [preCreated] });
        return m.topics[0]?.partitions.every((p) => p.leader >= 0) === true && m.topics[0].partitions.length > 0;
      },
      { what: "a leader for the pre-created topic" },
    );

    await bus().ensureTopics();

    // The broker this admin asks may learn of topics another client just created a moment later.
    const meta = await waitFor(() => running().admin.fetchTopicMetadata({ topics: physical }), { what: "metadata of the new topics" });
    const replicas = Object.fromEntries(meta.topics.map((t) => [t.name, [...new Set(t.partitions.map((p) => p.replicas.length))]]));
    const expected = Object.fromEntries(physical.map((t) => [t, t === preCreated ? [1] : [3]]));
    expect(replicas).toEqual(expected);
    expect(meta.topics.find((t) => t.name === `${prefix}${Topics.received}`)?.partitions).toHaveLength(2);

    const created = physical.filter((t) => t !== preCreated);
    expect(await minInsync(created)).toEqual(created.map((topic) => ({ topic, value: "2", fromTopic: true })));
    expect((await minInsync([preCreated]))[0]?.fromTopic).toBe(false);
  });

  it("starts with topic creation off once the topics exist", async () => {
    await expect(bus({ createTopics: false }).ensureTopics()).resolves.toBeUndefined();
  });
});
