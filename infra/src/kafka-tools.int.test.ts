// ./steward kafka runs Kafka's own tools from the broker's Maven release against the test broker: a topic
// created through the client shows up in `topics --list`, and every tool named maps to a class in the jars.
import { afterAll, describe, expect, it } from "vitest";
import { Kafka, logLevel } from "kafkajs";
import { isolatedEnv } from "@steward/testkit";
import { KAFKA_TOOLS, isKafkaTool, runKafkaTool } from "./kafka-tools.ts";

const t = isolatedEnv("kafka-tools");
const admin = new Kafka({ clientId: "kafka-tools-test", brokers: t.brokers, logLevel: logLevel.NOTHING }).admin();

afterAll(async () => {
  await admin.disconnect();
});

describe("./steward kafka", () => {
  it("lists topics with the official TopicCommand", async () => {
    const topic = `${t.topicPrefix}listed`;
    await admin.connect();
    // Not waitForLeaders: kafkajs polls metadata too early on this broker and fails with UNKNOWN_TOPIC_OR_PARTITION.
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: false });
    const res = await runKafkaTool("topics", ["--list"], t.brokers.join(","));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split("\n")).toContain(topic);
    const described = await runKafkaTool("topics", ["--describe", "--topic", topic], t.brokers.join(","));
    expect(described.stdout).toMatch(/PartitionCount: 2/);
  });

  it("knows each tool by its release script name", () => {
    expect(isKafkaTool("consumer-groups")).toBe(true);
    expect(isKafkaTool("rm -rf")).toBe(false);
    expect(KAFKA_TOOLS["console-consumer"]).toBe("org.apache.kafka.tools.consumer.ConsoleConsumer");
  });
});
