// How much two services' writes slow each other down in the local store: concurrent writers on two
// databases (as two services with their own databases would be) and, for reference, the same writers
// on one database. Run it against the relay built from a checkout, e.g. before and after ADR 0013:
//   node infra/bench/two-databases.ts [--binary infra/ferretdb/bin/steward-ferretdb] [--seconds 5] [--writers 4] [--rounds 3]
// Rounds alternate one database / two databases, so load from elsewhere on the machine hits both alike;
// the medians are printed last.
// Each op is what Steward's stores do most: a guarded $inc on a document found by _id, or an insert.
// Then the case issue 12 describes: small writes next to one slow writer, in its database or another.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MongoClient } from "mongodb";
import { prepareFerretDb, waitForMongo } from "../src/ferretdb.ts";

const { values } = parseArgs({
  options: { binary: { type: "string" }, seconds: { type: "string", default: "5" }, writers: { type: "string", default: "4" }, rounds: { type: "string", default: "3" } },
});
const seconds = Number(values.seconds);
const writers = Number(values.writers);
const rounds = Number(values.rounds);
const binary = values.binary ?? (await prepareFerretDb()).binary;

const dir = await mkdtemp(join(tmpdir(), "steward-two-dbs-"));
const addrFile = join(dir, "uri");
const child = spawn(binary, ["-listen-addr", "127.0.0.1:0", "-data-dir", join(dir, "data"), "-addr-file", addrFile, "-log-level", "error"], { stdio: "ignore" });
let uri = "";
for (let i = 0; i < 200 && uri === ""; i++) {
  uri = (await readFile(addrFile, "utf8").catch(() => "")).trim();
  if (uri === "") await new Promise((r) => setTimeout(r, 50));
}
await waitForMongo(uri, 10_000);
const client = new MongoClient(uri, { maxPoolSize: writers * 4 });

interface Doc {
  _id: string;
  n: number;
}

/** `writers` loops on one database for the measured time; returns the ops they completed. */
async function writeTo(database: string, tag: string, until: number): Promise<number> {
  const coll = client.db(database).collection<Doc>(`writes_${tag}`);
  await coll.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `${tag}-${i}`, n: 0 })));
  let ops = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        if (i % 4 === 3) await coll.insertOne({ _id: `${tag}-w${w}-${i}`, n: 0 });
        else await coll.updateOne({ _id: `${tag}-${(w * 7 + i) % 50}`, n: { $lt: 1_000_000 } }, { $inc: { n: 1 } });
        ops++;
      }
    }),
  );
  return ops;
}

/**
 * One writer keeps rewriting a 300-document collection in database A (a slow write: a full scan and a
 * rewrite of every document in the store, as a read model's bulk update can be) while `writers` make
 * small writes in database B, or in A itself: how many small writes get through, and the slowest.
 */
async function slowNeighbour(n: number, databases: [string, string]): Promise<{ rate: number; worst: number }> {
  const slow = client.db(databases[0]).collection<Doc & { m?: number }>(`slow_${n}`);
  const small = client.db(databases[1]).collection<Doc>(`small_${n}`);
  await slow.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: `s-${i}`, n: i })));
  await small.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `q-${i}`, n: 0 })));
  const until = Date.now() + seconds * 1000;
  let slowOps = 0;
  const rewrite = (async () => {
    while (Date.now() < until) {
      await slow.updateMany({ n: { $gte: 0 } }, { $inc: { m: 1 } });
      slowOps++;
    }
  })();
  let ops = 0;
  let worst = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const t0 = performance.now();
        await small.updateOne({ _id: `q-${(w * 7 + i) % 50}`, n: { $lt: 1_000_000 } }, { $inc: { n: 1 } });
        worst = Math.max(worst, performance.now() - t0);
        ops++;
      }
    }),
  );
  await rewrite;
  const rate = ops / seconds;
  console.log(
    `slow-neighbour ${databases[0] === databases[1] ? "same db" : "two dbs"} #${n} ${rate.toFixed(0).padStart(6)} small ops/s, slowest ${worst.toFixed(0)} ms (${slowOps} rewrites of 300 documents beside them)`,
  );
  return { rate, worst };
}

async function round(name: string, n: number, databases: [string, string]): Promise<number> {
  const until = Date.now() + seconds * 1000;
  const [a, b] = await Promise.all([writeTo(databases[0], `${name}-${n}-a`, until), writeTo(databases[1], `${name}-${n}-b`, until)]);
  const rate = (a + b) / seconds;
  console.log(`${name.padEnd(14)} #${n} ${rate.toFixed(0).padStart(6)} ops/s  (a ${(a / seconds).toFixed(0)}, b ${(b / seconds).toFixed(0)}; ${writers} writers each)`);
  return rate;
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;

try {
  console.log(`relay ${binary}, ${rounds} rounds of ${seconds} s`);
  const one: number[] = [];
  const two: number[] = [];
  for (let n = 0; n < rounds; n++) {
    one.push(await round("one-database", n, [`bench_shared_${n}`, `bench_shared_${n}`]));
    two.push(await round("two-databases", n, [`bench_a_${n}`, `bench_b_${n}`]));
  }
  console.log(`median: one database ${median(one).toFixed(0)} ops/s, two databases ${median(two).toFixed(0)} ops/s (x${(median(two) / median(one)).toFixed(2)})`);
  const same: Array<{ rate: number; worst: number }> = [];
  const apart: Array<{ rate: number; worst: number }> = [];
  for (let n = 0; n < rounds; n++) {
    same.push(await slowNeighbour(n, [`bench_slow_shared_${n}`, `bench_slow_shared_${n}`]));
    apart.push(await slowNeighbour(n, [`bench_slow_a_${n}`, `bench_slow_b_${n}`]));
  }
  const show = (xs: Array<{ rate: number; worst: number }>) => `${median(xs.map((x) => x.rate)).toFixed(0)} small ops/s (slowest ${median(xs.map((x) => x.worst)).toFixed(0)} ms)`;
  console.log(`median beside a slow writer: in its database ${show(same)}, in another database ${show(apart)}`);
} finally {
  await client.close();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await rm(dir, { recursive: true, force: true });
}
