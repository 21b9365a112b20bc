// Store access shared by the services: one MongoDB client per process, and the few helpers that
// keep services on the feature set MongoDB and FerretDB share (no transactions, no change streams,
// no TTL indexes, $group with $sum/$count only). Invariants are enforced with conditional updates.
import { MongoClient, MongoServerError, type Db, type Document, type IndexDescription, type Collection } from "mongodb";
import { Histogram, LATENCY_BUCKETS, metricOnce, type Registry } from "@steward/telemetry";

export interface Store {
  client: MongoClient;
  db: Db;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function connectStore(uri: string, database: string, opts: { appName?: string; metrics?: Registry } = {}): Promise<Store> {
  const client = new MongoClient(uri, {
    appName: opts.appName,
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    maxPoolSize: 20,
    // Writes are acknowledged once durable on the server (journaled), so an accepted ticket survives a crash.
    writeConcern: { w: "majority", j: true },
    retryWrites: false,
    // Command events feed the latency histogram; without a registry they are not emitted at all.
    monitorCommands: opts.metrics !== undefined,
  });
  if (opts.metrics) timeCommands(client, opts.metrics);
  await client.connect();
  const db = client.db(database);
  return {
    client,
    db,
    async ping() {
      await db.command({ ping: 1 });
    },
    async close() {
      await client.close();
    },
  };
}

/** Store command latency by command name (find, update, insert, ...) and outcome; never the command's content. */
function timeCommands(client: MongoClient, registry: Registry): void {
  const commands = metricOnce(
    registry,
    "steward_store_command_duration_seconds",
    (registers) =>
      new Histogram({
        name: "steward_store_command_duration_seconds",
        help: "Store (MongoDB API) command latency",
        labelNames: ["command", "outcome"],
        buckets: LATENCY_BUCKETS,
        registers,
      }),
  );
  client.on("commandSucceeded", (e) => commands.observe({ command: e.commandName, outcome: "ok" }, e.duration / 1000));
  client.on("commandFailed", (e) => commands.observe({ command: e.commandName, outcome: "error" }, e.duration / 1000));
}

/** E11000: a unique index refused the write. Steward uses it for idempotency and single ownership. */
export function isDuplicateKeyError(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/**
 * The positions of an unordered insertMany of `count` documents that a unique index refused (E11000).
 * Any other failure is rethrown, and so is one that does not say which documents failed: then nothing
 * can be assumed about the rest.
 */
export function duplicateIndexes(err: unknown, count: number): number[] {
  const writeErrors = (err as { writeErrors?: unknown } | null)?.writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) {
    if (isDuplicateKeyError(err) && count === 1) return [0];
    throw err;
  }
  const out: number[] = [];
  for (const e of list as Array<{ code?: number; index?: number; err?: { code?: number; index?: number } }>) {
    const code = e.code ?? e.err?.code;
    const index = e.index ?? e.err?.index;
    if (code !== 11000 || index === undefined || index >= count) throw err;
    out.push(index);
  }
  return out;
}

/**
 * Creates the named indexes that do not exist yet, one at a time. (FerretDB 1.24 drops the connection
 * when one createIndexes call repeats several existing indexes, so only missing ones are sent.)
 */
export async function ensureIndexes<T extends Document>(collection: Collection<T>, indexes: Array<IndexDescription & { name: string }>): Promise<void> {
  const existing = new Set(
    (
      await collection
        .listIndexes()
        .toArray()
        .catch(() => [])
    ).map((i) => String(i["name"])),
  );
  for (const index of indexes) {
    if (existing.has(index.name)) continue;
    await collection.createIndexes([index]);
  }
}

export { VersionedCache } from "./versioned-cache.ts";
export { classifyStoreError, StoreRefusedError, STORE_ERROR_CODES, type StoreRefusalKind } from "./store-errors.ts";
export type { Db, Collection, Document, MongoClient } from "mongodb";
