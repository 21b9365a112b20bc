// How topics are sized for the cluster they land in, and when ensureTopics refuses to create them.
import { describe, expect, it } from "vitest";
import { allTopics } from "@steward/proto";
import { consumeConcurrency, topicSettings, topicsToCreate } from "./topic-settings.ts";

describe("topicSettings", () => {
  it("gives one broker RF 1 and a cluster of three or more RF 3 with min.insync.replicas 2", () => {
    expect(topicSettings({ brokerCount: 1 })).toEqual({ partitions: 6, replicationFactor: 1, minInsyncReplicas: 1 });
    expect(topicSettings({ brokerCount: 2 })).toEqual({ partitions: 6, replicationFactor: 2, minInsyncReplicas: 2 });
    expect(topicSettings({ brokerCount: 3 })).toEqual({ partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 });
    expect(topicSettings({ brokerCount: 9 })).toEqual({ partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it("takes configured values over the defaults", () => {
    expect(topicSettings({ brokerCount: 5, replicationFactor: 5, minInsyncReplicas: 3, partitions: 24 })).toEqual({ partitions: 24, replicationFactor: 5, minInsyncReplicas: 3 });
    expect(topicSettings({ brokerCount: 3, replicationFactor: 1 })).toEqual({ partitions: 6, replicationFactor: 1, minInsyncReplicas: 1 });
  });

  it("refuses a replication factor above the broker count and a min.insync.replicas above the replication factor", () => {
    expect(() => topicSettings({ brokerCount: 1, replicationFactor: 3 })).toThrow(/exceeds the 1 broker/);
    expect(() => topicSettings({ brokerCount: 3, minInsyncReplicas: 4 })).toThrow(/every acks=all publish would fail/);
  });
});

describe("topicsToCreate", () => {
  it("lists only the missing topics, with the prefix", () => {
    const existing = allTopics.slice(1).map((t) => `p.${t}`);
    expect(topicsToCreate({ prefix: "p.", existing, createTopics: true })).toEqual([`p.${allTopics[0]}`]);
    expect(topicsToCreate({ prefix: "p.", existing: allTopics.map((t) => `p.${t}`), createTopics: false })).toEqual([]);
  });

  it("fails, naming the missing topics, when topic creation is off", () => {
    expect(() => topicsToCreate({ prefix: "", existing: [], createTopics: false })).toThrow(/KAFKA_CREATE_TOPICS=false.*steward\.tickets\.received/);
  });
});

describe("consumeConcurrency", () => {
  it("turns 'all' into every partition of every subscribed topic, and keeps a number as asked", () => {
    expect(consumeConcurrency({ topics: ["a", "b", "c"], partitionsConsumedConcurrently: "all" }, undefined, 3)).toBe(18);
    expect(consumeConcurrency({ topics: ["a", "b"], partitionsConsumedConcurrently: "all" }, 24, 3)).toBe(48);
    expect(consumeConcurrency({ topics: ["a"], partitionsConsumedConcurrently: 4 }, 24, 3)).toBe(4);
    expect(consumeConcurrency({ topics: ["a"] }, 24, 3)).toBe(3);
    expect(consumeConcurrency({ topics: ["a"], partitionsConsumedConcurrently: 0 }, 24, 3)).toBe(1);
  });
});
