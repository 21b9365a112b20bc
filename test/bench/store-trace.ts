// Optional (--store-trace): a TCP proxy between the services and the store that reads the MongoDB wire
// protocol and times every command by service, command and collection. It adds a hop to every store
// call, so figures from a traced run are for finding where time goes, not for the headline numbers.
// Runs as a process of its own; configured by BENCH_UPSTREAM (host:port) and BENCH_PORT.
import { createServer, connect, type Socket } from "node:net";
import { BSON } from "mongodb";
import { nowMs } from "./clock.ts";
import { serveBenchRequests } from "./ipc.ts";

export interface StoreOpStats {
  app: string;
  command: string;
  collection: string;
  count: number;
  totalMs: number;
  maxMs: number;
}

const OP_MSG = 2013;
const OP_QUERY = 2004;
const [upHost, upPort] = (process.env["BENCH_UPSTREAM"] ?? "127.0.0.1:27017").split(":");
let stats = new Map<string, StoreOpStats>();

/** First BSON document of an OP_MSG (its kind-0 section) or OP_QUERY. */
function commandDoc(msg: Buffer): Record<string, unknown> | undefined {
  const opCode = msg.readInt32LE(12);
  try {
    if (opCode === OP_MSG) {
      let off = 20; // header + flagBits
      while (off < msg.length) {
        const kind = msg.readUInt8(off);
        off += 1;
        const size = msg.readInt32LE(off);
        if (kind === 0) return BSON.deserialize(msg.subarray(off, off + size), { promoteLongs: false, promoteBuffers: false });
        off += size;
      }
    } else if (opCode === OP_QUERY) {
      const nameEnd = msg.indexOf(0, 20);
      const docAt = nameEnd + 1 + 8;
      return BSON.deserialize(msg.subarray(docAt, docAt + msg.readInt32LE(docAt)));
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Splits a byte stream into wire-protocol messages, handing each complete one to onMessage. */
function framer(onMessage: (msg: Buffer) => void): (chunk: Buffer) => void {
  let acc: Buffer = Buffer.alloc(0);
  return (chunk) => {
    acc = acc.length === 0 ? chunk : Buffer.concat([acc, chunk]);
    while (acc.length >= 16) {
      const len = acc.readInt32LE(0);
      if (len < 16 || acc.length < len) break;
      onMessage(acc.subarray(0, len));
      acc = acc.subarray(len);
    }
  };
}

function handle(client: Socket): void {
  const upstream = connect(Number(upPort), upHost);
  let app = "unknown";
  const inflight = new Map<number, { command: string; collection: string; at: number }>();
  const fromClient = framer((msg) => {
    const doc = commandDoc(msg);
    if (!doc) return;
    const command = Object.keys(doc)[0] ?? "?";
    const meta = doc["client"] as { application?: { name?: string } } | undefined;
    if (meta?.application?.name) app = meta.application.name;
    const target = doc[command];
    const named = command === "getMore" ? doc["collection"] : target;
    const collection = typeof named === "string" ? named : "";
    inflight.set(msg.readInt32LE(4), { command, collection, at: nowMs() });
  });
  const fromServer = framer((msg) => {
    const req = inflight.get(msg.readInt32LE(8));
    if (!req) return;
    inflight.delete(msg.readInt32LE(8));
    const ms = nowMs() - req.at;
    const key = `${app}\u0000${req.command}\u0000${req.collection}`;
    const s = stats.get(key) ?? { app, command: req.command, collection: req.collection, count: 0, totalMs: 0, maxMs: 0 };
    s.count += 1;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    stats.set(key, s);
  });
  client.on("data", (c: Buffer) => {
    upstream.write(c);
    fromClient(c);
  });
  upstream.on("data", (c: Buffer) => {
    client.write(c);
    fromServer(c);
  });
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close).on("close", close);
  upstream.on("error", close).on("close", close);
}

const server = createServer(handle);
await new Promise<void>((r) => server.listen(Number(process.env["BENCH_PORT"] ?? 0), "127.0.0.1", r));
serveBenchRequests({
  reset: () => void (stats = new Map()),
  collect: () => [...stats.values()].map((s) => ({ ...s, totalMs: Math.round(s.totalMs), maxMs: Math.round(s.maxMs) })).sort((a, b) => b.totalMs - a.totalMs),
});
