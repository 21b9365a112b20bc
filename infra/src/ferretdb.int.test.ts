// The local store Steward runs on when there is no MongoDB: the guarantees the services rely on
// (duplicate-key errors, atomic conditional updates, acknowledged writes surviving a crash) hold.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient, MongoServerError } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareFerretDb, startFerretDb, stopFerretDb, type RunningStore } from "./ferretdb.ts";
import { isAlive } from "./local-process.ts";

// Building the binary needs Go; without it this store cannot be used at all, and runs use MongoDB.
const goAvailable = spawnSync("go", ["version"]).status === 0;

// The relay's own Go tests (locks per database, the lazy log handler): CI runs them here, with the Go
// that builds the binary.
describe.skipIf(!goAvailable)("steward-ferretdb Go sources", () => {
  it(
    "pass go vet and go test",
    () => {
      const dir = join(dirname(fileURLToPath(import.meta.url)), "../ferretdb");
      for (const args of [
        ["vet", "./..."],
        ["test", "-count=1", "./..."],
      ]) {
        const run = spawnSync("go", args, { cwd: dir, encoding: "utf8", env: { ...process.env, CGO_ENABLED: "0" }, timeout: 10 * 60_000 });
        expect({ command: `go ${args.join(" ")}`, status: run.status, output: `${run.stdout}${run.stderr}`.slice(-4000) }).toMatchObject({ status: 0 });
      }
    },
    12 * 60_000,
  );
});

describe.skipIf(!goAvailable)("local FerretDB store", () => {
  let stateDir: string;
  let store: RunningStore;
  let client: MongoClient;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "steward-ferretdb-"));
    await prepareFerretDb();
    store = await startFerretDb({ stateDir });
    client = new MongoClient(store.uri, { retryWrites: false });
  }, 15 * 60_000);

  afterAll(async () => {
    await client?.close();
    if (stateDir) {
      await stopFerretDb(stateDir);
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it("rejects a second document with the same unique key with E11000", async () => {
    const events = client.db("store_test").collection("events");
    await events.createIndex({ eventId: 1 }, { unique: true });
    await events.insertOne({ eventId: "e-1" });

    const err: unknown = await events.insertOne({ eventId: "e-1" }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
  });

  it("lets exactly one of many concurrent claims take an unowned ticket", async () => {
    const tickets = client.db("store_test").collection<{ _id: string; ownerId: string | null }>("tickets");
    await tickets.insertOne({ _id: "t-1", ownerId: null });

    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => tickets.updateOne({ _id: "t-1", ownerId: null }, { $set: { ownerId: `agent-${i}` } })));

    expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(1);
  });

  it("never lets a guarded $inc go past capacity", async () => {
    const agents = client.db("store_test").collection<{ _id: string; load: number }>("agents");
    await agents.insertOne({ _id: "a-1", load: 0 });

    const results = await Promise.all(Array.from({ length: 20 }, () => agents.updateOne({ _id: "a-1", load: { $lt: 3 } }, { $inc: { load: 1 } })));

    expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(3);
    expect(await agents.findOne({ _id: "a-1" })).toEqual({ _id: "a-1", load: 3 });
  });

  it("refuses an update of 100+ statements with a clear error instead of hanging every writer", async () => {
    const docs = client.db("store_test").collection<{ _id: string; v: number }>("bulk");
    await docs.insertMany(Array.from({ length: 120 }, (_, i) => ({ _id: `b-${i}`, v: 0 })));
    const bulk = (n: number) =>
      docs.bulkWrite(
        Array.from({ length: n }, (_, i) => ({ updateOne: { filter: { _id: `b-${i}` }, update: { $set: { v: n } } } })),
        { ordered: false },
      );

    const err: unknown = await bulk(100).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(2);
    expect((err as MongoServerError).message).toMatch(/at most 99 per command/);
    // Nothing was applied, and the store still takes writes (the global write lock was never held).
    expect(await docs.countDocuments({ v: 100 })).toBe(0);
    expect((await bulk(99)).modifiedCount).toBe(99);
    expect((await docs.updateOne({ _id: "b-119" }, { $set: { v: 1 } })).modifiedCount).toBe(1);
  });

  it("keeps every acknowledged write across a kill -9 and restart on the same address", async () => {
    const writes = client.db("store_test").collection<{ _id: string }>("writes");
    const ids = Array.from({ length: 50 }, (_, i) => `w-${i}`);
    for (const _id of ids) await writes.insertOne({ _id });

    await store.kill("SIGKILL");
    await store.restart();

    const after = new MongoClient(store.uri);
    try {
      const stored = await after
        .db("store_test")
        .collection<{ _id: string }>("writes")
        .countDocuments({ _id: { $in: ids } });
      expect(stored).toBe(ids.length);
    } finally {
      await after.close();
    }
  });

  it("stops idempotently through the pid file", async () => {
    await stopFerretDb(stateDir);
    await stopFerretDb(stateDir);

    expect(existsSync(join(stateDir, "ferretdb.pid"))).toBe(false);
    // Gone, or a zombie this test process has not reaped yet (kill -0 still succeeds on those under load).
    expect(await isAlive(store.pid)).toBe(false);
  });
});
