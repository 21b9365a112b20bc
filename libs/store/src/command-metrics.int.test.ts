// The store's command metrics against the real store: each command is labelled with its collection, and
// an insertMany or a bulk update counts every document or statement it carried, not one per command.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createMetricsRegistry } from "@steward/telemetry";
import { connectStore, type Store } from "./index.ts";

// The test infrastructure's store (provided by the global setup; libs/testkit declares it for the services).
declare module "vitest" {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

const registry = createMetricsRegistry("store-command-metrics-test");
let store: Store;

beforeAll(async () => {
  store = await connectStore(inject("mongoUri"), `store_metrics_${randomUUID().slice(0, 8)}`, { metrics: registry });
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

async function series(name: string): Promise<Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>> {
  return ((await registry.getSingleMetric(name)?.get())?.values ?? []) as Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

describe("store command metrics", () => {
  it("count the documents of an insertMany and the statements of a bulk update, by collection", async () => {
    const things = store.db.collection<{ _id: string; n: number }>("metric_things");
    const others = store.db.collection<{ _id: string }>("metric_others");
    await things.insertMany(Array.from({ length: 7 }, (_, i) => ({ _id: `t${i}`, n: i })));
    await others.insertOne({ _id: "o1" });
    await things.bulkWrite(
      ["t0", "t1", "t2"].map((id) => ({ updateOne: { filter: { _id: id }, update: { $inc: { n: 10 } } } })),
      { ordered: false },
    );
    await things.findOne({ _id: "t0" });

    const statements = await series("steward_store_statements_total");
    const of = (command: string, collection: string) => statements.find((v) => v.labels["command"] === command && v.labels["collection"] === collection)?.value;
    expect(of("insert", "metric_things")).toBe(7);
    expect(of("insert", "metric_others")).toBe(1);
    expect(of("update", "metric_things")).toBe(3);
    expect(of("find", "metric_things")).toBe(1);

    const timed = (await series("steward_store_command_duration_seconds")).filter((v) => v.metricName?.endsWith("_count") && v.labels["outcome"] === "ok");
    const commands = (command: string, collection: string) => timed.find((v) => v.labels["command"] === command && v.labels["collection"] === collection)?.value;
    // One command each, whatever it carried.
    expect(commands("insert", "metric_things")).toBe(1);
    expect(commands("update", "metric_things")).toBe(1);
  });
});
