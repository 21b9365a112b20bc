// Store access shared by the services: one MongoDB client per process, and the few helpers that
// keep services on the feature set MongoDB and FerretDB share (no transactions, no change streams,
// no TTL indexes, $group with $sum/$count only). Invariants are enforced with conditional updates.
import { MongoClient, MongoServerError, type Db, type Document, type IndexDescription, type Collection } from "mongodb";
import { Counter, Histogram, LATENCY_BUCKETS, metricOnce, type Logger, type Registry } from "@steward/telemetry";

export interface Store {
  client: MongoClient;
  db: Db;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  appName?: string;
  metrics?: Registry;
  /** Where reachability changes are logged ("store unreachable", "store reachable again"). */
  log?: Logger;
  /** Also log every heartbeat and connection-pool event of the driver (STEWARD_STORE_SDAM_DEBUG). */
  diagnose?: boolean;
}

export async function connectStore(uri: string, database: string, opts: StoreOptions = {}): Promise<Store> {
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
  if (opts.log) logReachability(client, opts.log, opts.diagnose === true);
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

/**
 * Store command latency by command name (find, update, insert, ...), collection and outcome, and the
 * documents or statements each command carried (an insertMany of 50 is one command and 50 documents;
 * on FerretDB the work grows with the statements). Never the command's content.
 */
function timeCommands(client: MongoClient, registry: Registry): void {
  const commands = metricOnce(
    registry,
    "steward_store_command_duration_seconds",
    (registers) =>
      new Histogram({
        name: "steward_store_command_duration_seconds",
        help: "Store (MongoDB API) command latency",
        labelNames: ["command", "collection", "outcome"],
        buckets: LATENCY_BUCKETS,
        registers,
      }),
  );
  const statements = metricOnce(
    registry,
    "steward_store_statements_total",
    (registers) =>
      new Counter({
        name: "steward_store_statements_total",
        help: "Documents inserted and update or delete statements sent to the store (1 for any other command), by command and collection",
        labelNames: ["command", "collection"],
        registers,
      }),
  );
  // A command's collection is known when it starts; its outcome when it ends (by request id).
  const started = new Map<number, string>();
  client.on("commandStarted", (e) => {
    const collection = collectionOf(e.commandName, e.command);
    // Every start ends in a success or a failure event; the bound only guards against a driver that forgets one.
    if (started.size > 10_000) started.clear();
    started.set(e.requestId, collection);
    statements.inc({ command: e.commandName, collection }, statementsOf(e.commandName, e.command));
  });
  const finished = (e: { requestId: number; commandName: string; duration: number }, outcome: "ok" | "error") => {
    const collection = started.get(e.requestId) ?? "-";
    started.delete(e.requestId);
    commands.observe({ command: e.commandName, collection, outcome }, e.duration / 1000);
  };
  client.on("commandSucceeded", (e) => finished(e, "ok"));
  client.on("commandFailed", (e) => finished(e, "error"));
}

/** The collection a command names (getMore names it apart; ping and the like name none: "-"). */
export function collectionOf(commandName: string, command: Document): string {
  const named = commandName === "getMore" ? command["collection"] : command[commandName];
  return typeof named === "string" && named.length > 0 && named.length <= 120 ? named : "-";
}

/** The documents an insert carries, the statements of an update or delete; 1 for anything else. */
export function statementsOf(commandName: string, command: Document): number {
  const list = commandName === "insert" ? command["documents"] : commandName === "update" ? command["updates"] : commandName === "delete" ? command["deletes"] : undefined;
  return Array.isArray(list) ? list.length : 1;
}

/**
 * Says when the store stops answering and when it answers again (the driver's view of each server), so
 * an operator reading one service's log sees the outage and its end, not only the operations it failed.
 */
function logReachability(client: MongoClient, log: Logger, diagnose: boolean): void {
  let since: number | undefined; // when the store was last marked unreachable (the first connect is no news)
  client.on("serverDescriptionChanged", (e) => {
    const was = e.previousDescription.type;
    const now = e.newDescription.type;
    if (was !== "Unknown" && now === "Unknown") {
      since = Date.now();
      log.warn({ server: e.address, error: e.newDescription.error?.message }, "store unreachable");
    } else if (was === "Unknown" && now !== "Unknown" && since !== undefined) {
      log.warn({ server: e.address, type: now, unreachableMs: Date.now() - since }, "store reachable again");
      since = undefined;
    } else if (diagnose) log.warn({ server: e.address, was, now, error: e.newDescription.error?.message }, "sdam: description changed");
  });
  if (diagnose) {
    for (const ev of [
      "serverHeartbeatStarted",
      "serverHeartbeatSucceeded",
      "serverHeartbeatFailed",
      "connectionPoolCleared",
      "connectionPoolReady",
      "connectionCreated",
      "connectionClosed",
    ] as const) {
      client.on(ev, (e: { connectionId?: unknown; failure?: Error; awaited?: boolean; reason?: string }) =>
        log.warn({ connectionId: e.connectionId, failure: e.failure?.message, awaited: e.awaited, reason: e.reason }, `sdam: ${ev}`),
      );
    }
  }
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
